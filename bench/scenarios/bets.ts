/**
 * 1,000 bets due in the same second (SPEC §6): 100 users each place 10 bets through the real app
 * (`POST /api/v1/bets`, 32 at a time), each with the duration that puts its due time in one chosen
 * second; the process's jobs (as in the `all` role: the API and the jobs share one scheduler) settle
 * them. Measured from the database: each bet's settled_at − due_at (p50, p99, max) and the time from
 * the first due_at to the last settled_at. Checked: every bet completed, with exactly one settlement
 * journal. Runs with in-process timers, and with BullMQ on Redis when `REDIS_URL` is set.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { startJobs } from '../../src/jobs.js';
import { createSettlementScheduler } from '../../src/modules/bets/index.js';
import { ReplayPriceSource } from '../../src/modules/market/sources/replay.js';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { MemoryEventBus } from '../../src/platform/events/bus.js';
import { systemClock } from '../../src/shared/clock.js';
import { once } from '../harness/cleanup.js';
import { mapConcurrently } from '../harness/concurrency.js';
import { queryCount } from '../harness/database.js';
import { redisCache } from '../harness/redis.js';
import type { BenchContext, Scenario, ScenarioOutcome } from '../harness/scenario.js';
import { KLINE_FILE } from '../harness/servers.js';
import { type BenchUser, createUsers, INITIAL_BALANCE } from '../harness/users.js';
import type { LoadResult } from '../load.js';

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
const GOAL = { settledAfterDueMsMax: 2_000 } as const;

/** One run of the scenario: the scheduler's back end, chosen by the cache it is given. */
interface BetsRun {
  variant: string;
  cache: () => KeyValueCache;
  /** BullMQ on this Redis; in-process timers when undefined */
  redisUrl: string | undefined;
}

/** A completed bet's settlement, from the database (instants and lag in ms). */
interface Settled {
  lag_ms: string;
  due_ms: string;
  settled_ms: string;
}

/**
 * The real app and the process's jobs sharing one bet scheduler, as `npm start` runs them.
 * @returns the app (for `inject`) and how to stop both
 */
async function startBetsApp(
  ctx: BenchContext,
  run: BetsRun,
): Promise<{ app: FastifyInstance; stop: () => Promise<void> }> {
  const cache = run.cache();
  const deps = {
    config: ctx.config,
    db: ctx.db,
    logger: ctx.logger,
    cache,
    events: new MemoryEventBus(),
    priceSource: new ReplayPriceSource([KLINE_FILE], systemClock),
    clock: systemClock,
    betScheduler: createSettlementScheduler(run.redisUrl, cache, ctx.logger),
  };
  const app = await buildApp({ ...deps, jwtSecret: ctx.jwtSecret });
  await app.ready();
  const stopJobs = await startJobs(deps);
  const stop = once(async () => {
    await stopJobs();
    await app.close();
    await deps.betScheduler.close();
  });
  ctx.cleanups.push({ name: `stop bets app (${run.variant})`, run: stop });
  return { app, stop };
}

/** Places the 1,000 bets, bet i due at `dueAtMs − 500 + (i mod 1,000)` ms; their ids, in order. */
async function placeBets(
  ctx: BenchContext,
  app: FastifyInstance,
  users: BenchUser[],
  dueAtMs: number,
): Promise<string[]> {
  const indexes = Array.from({ length: BETS.count }, (_, i) => i);
  return await mapConcurrently(
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
}

/**
 * Waits for the end of the due second, then until no bet of `placed` is pending (at most
 * `BETS.settleTimeoutMs`).
 * @returns the bets still pending, and every completed one's settlement, lag ascending
 */
async function waitForSettlement(
  ctx: BenchContext,
  placed: string[],
  dueAtMs: number,
): Promise<{ pending: number; settled: Settled[] }> {
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
  const lags = await ctx.db.$client.query<Settled>(
    `SELECT (extract(epoch FROM settled_at - due_at) * 1000)::text AS lag_ms,
            (extract(epoch FROM due_at) * 1000)::text AS due_ms,
            (extract(epoch FROM settled_at) * 1000)::text AS settled_ms
       FROM bets WHERE status = 'completed' AND id = ANY($1::uuid[])
      ORDER BY settled_at - due_at`,
    [placed],
  );
  return { pending, settled: lags.rows };
}

/**
 * The settlement as a row (requests/s: bets settled per second from the first due_at to the last
 * settled_at; latencies: lag after due_at in ms) and its exactly-once check.
 */
async function settlementOutcome(
  ctx: BenchContext,
  variant: string,
  placed: string[],
  waited: { pending: number; settled: Settled[] },
  placeMs: number,
): Promise<ScenarioOutcome> {
  const { pending, settled } = waited;
  const lagMs = settled.map((r) => Number(r.lag_ms));
  const quantile = (q: number) =>
    lagMs[Math.min(lagMs.length - 1, Math.floor(q * lagMs.length))] ?? Number.NaN;
  const firstDueMs = Math.min(...settled.map((r) => Number(r.due_ms)));
  const lastSettledMs = Math.max(...settled.map((r) => Number(r.settled_ms)));
  const windowMs = lastSettledMs - firstDueMs;
  const journals = await queryCount(
    ctx.db,
    `SELECT count(*)::text AS n FROM journal_transactions
      WHERE kind = 'bet_settlement' AND metadata->>'bet_id' = ANY($1::text[])`,
    [placed],
  );
  const allSettled = pending === 0 && settled.length === placed.length;
  const maxLagMs = lagMs[lagMs.length - 1] ?? Number.NaN;
  const goalMet = allSettled && maxLagMs <= GOAL.settledAfterDueMsMax;
  const result: LoadResult = {
    requestsPerSec: settled.length / Math.max(windowMs / 1000, 0.001),
    latencyP50Ms: quantile(0.5),
    latencyP99Ms: quantile(0.99),
    latencyMeanMs: lagMs.reduce((a, b) => a + b, 0) / Math.max(lagMs.length, 1),
    latencyMaxMs: maxLagMs,
    sent: placed.length,
    responses: settled.length,
    ok2xx: settled.length,
    non2xx: 0,
    connectionErrors: 0,
    timeouts: 0,
    errors: placed.length - settled.length,
    statusCodes: { settled: settled.length },
    durationS: windowMs / 1000,
  };
  const check = {
    scenario: 'bets',
    name: `${variant}: every bet settled, exactly once`,
    ok: allSettled && journals === placed.length,
    detail: `${settled.length} of ${placed.length} completed, ${journals} settlement journals; placing took ${(placeMs / 1000).toFixed(1)} s`,
  };
  const row = {
    id: 'bets',
    variant,
    scenario: `${bets.title}, ${variant} (settled/s; lag after due)`,
    result,
    goal: `all settled ≤ ${GOAL.settledAfterDueMsMax / 1000} s after due: ${goalMet ? 'MET' : 'MISSED'} (max ${maxLagMs.toFixed(0)} ms; first due → last settled ${(windowMs / 1000).toFixed(2)} s)`,
    goalMet,
    note: `settlement lag after due_at: p50 ${result.latencyP50Ms.toFixed(0)} ms, p99 ${result.latencyP99Ms.toFixed(0)} ms, max ${result.latencyMaxMs.toFixed(0)} ms`,
  };
  return { rows: [row], checks: [check] };
}

/** One run: its own 100 users and app, the bets placed, settled, measured. */
async function runBets(ctx: BenchContext, run: BetsRun, index: number): Promise<ScenarioOutcome> {
  const users = await createUsers(ctx, `bench_bets_${index}`, BETS.userCount, INITIAL_BALANCE);
  const { app, stop } = await startBetsApp(ctx, run);
  // The due second: the first whole second after the placement budget.
  const dueAtMs = Math.ceil((Date.now() + BETS.placeBudgetMs) / 1000) * 1000;
  console.log(
    `bets (${run.variant}): placing ${BETS.count} bets due at ${new Date(dueAtMs).toISOString()} (±0.5 s)…`,
  );
  const placeStartMs = Date.now();
  const placed = await placeBets(ctx, app, users, dueAtMs);
  const placeMs = Date.now() - placeStartMs;
  if (Date.now() >= dueAtMs - 500)
    console.log('bets: placing took longer than the budget: some bets were due before all were placed');
  const waited = await waitForSettlement(ctx, placed, dueAtMs);
  await stop();
  return await settlementOutcome(ctx, run.variant, placed, waited, placeMs);
}

export const bets: Scenario = {
  id: 'bets',
  title: `${BETS.count.toLocaleString('en-US')} bets due in one second`,
  usesRedis: true,
  goal: GOAL,
  async run(ctx) {
    const runs: BetsRun[] = [
      { variant: 'in-process timers', cache: () => new MemoryCache(), redisUrl: undefined },
    ];
    const redis = ctx.redis;
    if (redis) {
      runs.push({
        variant: 'BullMQ on Redis',
        cache: () => redisCache(ctx.cleanups, redis),
        redisUrl: redis.url,
      });
    }
    const outcome: ScenarioOutcome = { rows: [], checks: [] };
    for (const [index, run] of runs.entries()) {
      const one = await runBets(ctx, run, index);
      outcome.rows.push(...one.rows);
      outcome.checks.push(...one.checks);
    }
    return outcome;
  },
};
