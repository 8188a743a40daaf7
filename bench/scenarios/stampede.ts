/**
 * Cold stampede: 1,000 reads of one cold symbol, all in flight at once, while the fake Binance
 * takes 200 ms to answer → exactly 1 upstream request. Not a timed run. Run on one instance; on two
 * instances sharing one in-process cache (two price services, so the cross-instance lock decides);
 * and, when `REDIS_URL` is set, on two instances each with its own Redis connection under the same
 * key prefix. Requests alternate between the instances. Each run reads another symbol, cold.
 */
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import type { Config } from '../../src/platform/config/env.js';
import type { BenchFakeBinance } from '../fake-binance.js';
import {
  marketConfig,
  priceCounters,
  pricePath,
  startFakeBinance,
  startMarketApp,
} from '../harness/market.js';
import { redisCache } from '../harness/redis.js';
import type { BenchContext, Scenario, ScenarioOutcome } from '../harness/scenario.js';
import type { ServerUnderTest } from '../harness/servers.js';
import { runBurst } from '../load.js';

/** Cold stampede: `count` reads of one cold symbol, all in flight at once, on a slow upstream. */
const STAMPEDE = {
  count: 1_000,
  concurrency: 1_000,
  upstreamDelayMs: 200,
  expectedUpstreamRequests: 1,
  timeoutMs: 30_000,
} as const;
/** SPEC §6. */
const GOAL = { upstreamRequests: STAMPEDE.expectedUpstreamRequests } as const;

/** One stampede: its instances' caches (one per instance; the same object when shared) and its symbol. */
interface StampedeRun {
  variant: string;
  symbol: string;
  caches: () => KeyValueCache[];
}

/** The runs of this scenario: two in process, and one on Redis when `REDIS_URL` is set. */
function stampedeRuns(ctx: BenchContext): StampedeRun[] {
  const runs: StampedeRun[] = [
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
      caches: () => [redisCache(ctx.cleanups, redis), redisCache(ctx.cleanups, redis)],
    });
  }
  return runs;
}

/** Fires one stampede, then counts what reached the fake and the app's counters: its row and check. */
async function fireStampede(
  ctx: BenchContext,
  fake: BenchFakeBinance,
  config: Config,
  run: StampedeRun,
): Promise<ScenarioOutcome> {
  const caches = run.caches();
  const instances: ServerUnderTest[] = [];
  // Each with a backlog for the whole stampede: every connection is opened at once.
  for (const cache of caches)
    instances.push(await startMarketApp(ctx, fake, config, cache, STAMPEDE.concurrency));
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
  ctx.findings.market.stampedes.push(figures);
  const answered200 = result.statusCodes['200'] ?? 0;
  const ok = upstream === GOAL.upstreamRequests && answered200 === STAMPEDE.count && result.errors === 0;
  const check = {
    scenario: 'stampede',
    name: `${run.variant}: exactly ${GOAL.upstreamRequests} upstream request, every read answered 200`,
    ok,
    detail:
      `${upstream} upstream request(s) for ${run.symbol}; ${answered200}×200 of ${STAMPEDE.count}, ` +
      `${result.errors} errors; ${figures.cacheMisses} reads found the cache cold, ` +
      `${figures.joinsInProcess} joined a request in flight in their instance, ` +
      `${figures.joinsAcrossInstances} instance(s) waited for another's`,
  };
  const row = {
    id: 'stampede',
    variant: run.variant,
    scenario: `${stampede.title}, ${run.variant}`,
    result,
    goal: `exactly ${GOAL.upstreamRequests} upstream request: ${ok ? 'OK' : 'FAIL'} (${upstream})`,
    goalMet: ok,
    note: `wall time ${result.durationS.toFixed(2)} s`,
  };
  return { rows: [row], checks: [check] };
}

export const stampede: Scenario = {
  id: 'stampede',
  title: `cold stampede: ${STAMPEDE.count.toLocaleString('en-US')} GETs of one symbol`,
  usesRedis: true,
  goal: GOAL,
  settings: { market: { stampede: STAMPEDE } },
  async run(ctx) {
    const runs = stampedeRuns(ctx);
    const { fake, close: closeFake } = await startFakeBinance(
      ctx.cleanups,
      runs.map((r) => r.symbol),
    );
    fake.delayMs = STAMPEDE.upstreamDelayMs;
    const config = marketConfig(fake);
    const outcome: ScenarioOutcome = { rows: [], checks: [] };
    for (const run of runs) {
      const one = await fireStampede(ctx, fake, config, run);
      outcome.rows.push(...one.rows);
      outcome.checks.push(...one.checks);
    }
    await closeFake();
    return outcome;
  },
};
