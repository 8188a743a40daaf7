/**
 * C and the cached price reads compared to it, measured in turn ({@link interleavedLoads}):
 *
 * - `hello` (C): a bare Fastify app (no logger, no plugins) answering `GET /hello` with a constant
 *   JSON;
 * - `prices`: the real app answering `GET /api/v1/market/prices/BTCUSDT`, its price fetched once
 *   from the fake Binance before the load and then served from the cache (in process; and, on
 *   another app instance, from Redis as well when `REDIS_URL` is set). Checked: each instance's one
 *   upstream request is its priming read, and its loads make no cache miss.
 *
 * Both are measured by `hello`'s run: taking turns gives them the same moments of the machine.
 */
import Fastify from 'fastify';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import type { Config } from '../../src/platform/config/env.js';
import type { BenchFakeBinance } from '../fake-binance.js';
import { once } from '../harness/cleanup.js';
import {
  MARKET_ENV,
  marketConfig,
  priceCounters,
  pricePath,
  startFakeBinance,
  startMarketApp,
} from '../harness/market.js';
import { redisCache } from '../harness/redis.js';
import type { BenchContext, Scenario, ScenarioOutcome } from '../harness/scenario.js';
import { listenUrl } from '../harness/servers.js';
import { interleavedLoads, type LoadTarget } from '../harness/timed-load.js';
import { type LoadResult, runLoad } from '../load.js';

/** Baseline C: what the bare Fastify `GET /hello` answers. */
const HELLO_BODY = { hello: 'world' } as const;
/** Cached price reads: the symbol read, warm in the cache for the whole run. */
const PRICE_SYMBOL = 'BTCUSDT';
/** SPEC §6. */
const GOAL = { ratioToHelloMin: 0.7 } as const;

/** One app instance of the price reads: its priming read, and what its loads counted. */
interface PriceReads {
  variant: string;
  primed: { status: number; stale: unknown };
  /** upstream requests for {@link PRICE_SYMBOL} while this instance was read (the priming read included) */
  upstream: number;
  /** the app's cache lookups during this instance's loads */
  counted: { hits: number; misses: number };
  close: () => Promise<void>;
}

/** C's app on its own port, and its close. */
async function startHello(ctx: BenchContext): Promise<{ target: LoadTarget; close: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => HELLO_BODY);
  const close = once(() => app.close());
  ctx.cleanups.push({ name: 'close /hello app', run: close });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { target: { title: 'hello', url: `${listenUrl(app)}/hello` }, close };
}

/** One app instance on `cache`, primed with its one upstream request, and its load target. */
async function startPriceReads(
  ctx: BenchContext,
  fake: BenchFakeBinance,
  config: Config,
  variant: string,
  cache: KeyValueCache,
): Promise<{ reads: PriceReads; target: LoadTarget }> {
  const upstreamBefore = fake.requestsFor(PRICE_SYMBOL);
  const instance = await startMarketApp(ctx, fake, config, cache);
  // Prime the cache: the one upstream request of this instance.
  const primed = await instance.app.inject({ method: 'GET', url: pricePath(PRICE_SYMBOL) });
  const reads: PriceReads = {
    variant,
    primed: {
      status: primed.statusCode,
      stale: primed.statusCode === 200 ? (primed.json() as { stale?: unknown }).stale : undefined,
    },
    upstream: fake.requestsFor(PRICE_SYMBOL) - upstreamBefore,
    counted: { hits: 0, misses: 0 },
    close: async () => {
      await instance.close();
      await cache.close();
    },
  };
  const target: LoadTarget = {
    title: `prices (${variant})`,
    url: `${instance.url}${pricePath(PRICE_SYMBOL)}`,
    // Only this instance is loaded meanwhile: what the counters and the fake count is its own.
    run: async (spec) => {
      const before = await priceCounters();
      const upstreamBefore = fake.requestsFor(PRICE_SYMBOL);
      const result = await runLoad(spec, ctx.signal);
      const after = await priceCounters();
      reads.upstream += fake.requestsFor(PRICE_SYMBOL) - upstreamBefore;
      reads.counted.hits += after.hits - before.hits;
      reads.counted.misses += after.misses - before.misses;
      return result;
    },
  };
  return { reads, target };
}

/** The rows and checks of the price reads, each compared to C's result. */
function pricesOutcome(
  ctx: BenchContext,
  helloResult: LoadResult,
  instances: PriceReads[],
  results: LoadResult[],
): ScenarioOutcome {
  const outcome: ScenarioOutcome = { rows: [], checks: [] };
  for (const [i, reads] of instances.entries()) {
    const result = results[i]!;
    const { hits, misses } = reads.counted;
    ctx.findings.market.prices.push({
      variant: reads.variant,
      upstreamRequests: reads.upstream,
      cacheHits: hits,
      cacheMisses: misses,
    });
    outcome.checks.push({
      scenario: 'prices',
      name: `${reads.variant}: every read of the load a cache hit`,
      ok: reads.primed.stale === false && reads.upstream === 1 && misses === 0,
      detail:
        `priming read HTTP ${reads.primed.status}` +
        `${reads.primed.status === 200 ? ` (stale: ${String(reads.primed.stale)})` : ''}; ` +
        `${reads.upstream} upstream request (the priming read); during the loads ${hits} cache hits, ${misses} misses`,
    });
    const ratio = result.requestsPerSec / helloResult.requestsPerSec;
    const goalMet = ratio >= GOAL.ratioToHelloMin && result.errors === 0;
    outcome.rows.push({
      id: 'prices',
      variant: reads.variant,
      scenario: `${prices.title}, ${reads.variant}`,
      result,
      baseline: 'hello',
      goal: `≥ ${GOAL.ratioToHelloMin * 100} % of C: ${goalMet ? 'MET' : 'MISSED'} (${(ratio * 100).toFixed(0)} %)`,
      goalMet,
    });
  }
  return outcome;
}

/** C, and the price reads in turn with it when `withPrices`: C's row first, then one per cache. */
async function measureHelloAndPrices(ctx: BenchContext, withPrices: boolean): Promise<ScenarioOutcome> {
  const helloApp = await startHello(ctx);
  const targets: LoadTarget[] = [helloApp.target];
  const fake = withPrices ? await startFakeBinance(ctx.cleanups, [PRICE_SYMBOL]) : undefined;
  const instances: PriceReads[] = [];
  if (fake) {
    const config = marketConfig(fake.fake);
    const caches: { variant: string; cache: () => KeyValueCache }[] = [
      { variant: 'in-process cache', cache: () => new MemoryCache() },
    ];
    const redis = ctx.redis;
    if (redis) caches.push({ variant: 'Redis cache', cache: () => redisCache(ctx.cleanups, redis) });
    for (const { variant, cache } of caches) {
      const { reads, target } = await startPriceReads(ctx, fake.fake, config, variant, cache());
      instances.push(reads);
      targets.push(target);
    }
  }

  const [helloResult, ...pricesResults] = await interleavedLoads(ctx, targets);
  await helloApp.close();
  for (const reads of instances) await reads.close();
  await fake?.close();

  const outcome = pricesOutcome(ctx, helloResult!, instances, pricesResults);
  outcome.rows.unshift({
    id: 'hello',
    scenario: hello.title,
    result: helloResult!,
    goal: '—',
    goalMet: null,
  });
  return outcome;
}

/** C; with `prices` chosen, the cached price reads are measured in turn with it, in its run. */
export const hello: Scenario = {
  id: 'hello',
  title: 'C. baseline: bare Fastify "hello", GET of a constant JSON',
  baselineLabel: 'C',
  run: (ctx) => measureHelloAndPrices(ctx, ctx.selected('prices')),
};

/** The cached price reads: measured by {@link hello}'s run, in turn with C, so nothing runs here. */
export const prices: Scenario = {
  id: 'prices',
  title: 'cached price reads',
  baseline: 'hello',
  usesRedis: true,
  goal: GOAL,
  // C's body is kept with the price reads it is compared to, as the JSON results always had it.
  settings: { market: { priceSymbol: PRICE_SYMBOL, helloBody: HELLO_BODY, env: MARKET_ENV } },
  run: async () => ({ rows: [], checks: [] }),
};
