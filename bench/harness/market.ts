/**
 * What the market scenarios (`prices`, `stampede`) share: the bench's fake Binance, the app's
 * configuration pointed at it, and the app's own price-cache and single-flight counters, read
 * before and after a load to count what that load did.
 */
import type { Counter } from 'prom-client';
import { BinancePriceSource } from '../../src/modules/market/sources/binance.js';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import type { Config } from '../../src/platform/config/env.js';
import { priceCacheLookups, singleFlightJoins } from '../../src/platform/observability/metrics.js';
import { systemClock } from '../../src/shared/clock.js';
import { BenchFakeBinance } from '../fake-binance.js';
import { type Cleanup, once } from './cleanup.js';
import { type AppEnv, benchConfig, startApp } from './servers.js';

/**
 * The price settings of the market scenarios: a cached price lives 1 h, so nothing expires during a
 * run (the measured reads are all cache hits, and a stampede makes exactly one upstream request
 * however long it lasts). Trading may use a price as old as the cache serves it
 * (PRICE_MAX_AGE_MS ≥ PRICE_CACHE_TTL_MS) and reads may serve it stale as long
 * (PRICE_STALE_MAX_MS ≥ PRICE_MAX_AGE_MS, as env.ts requires).
 */
export const MARKET_ENV = {
  PRICE_SOURCE: 'binance',
  PRICE_CACHE_TTL_MS: '3600000',
  PRICE_MAX_AGE_MS: '3600000',
  PRICE_STALE_MAX_MS: '3600000',
} as const;

/** The app's price route for `symbol`. */
export const pricePath = (symbol: string) => `/api/v1/market/prices/${symbol}`;

/** What the market scenarios found, for the JSON results' `market`. */
export interface MarketFigures {
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

/** The bench's fake Binance on 127.0.0.1, listing `symbols`; closed at the end of the run at the latest. */
export async function startFakeBinance(
  cleanups: Cleanup[],
  symbols: string[],
): Promise<{ fake: BenchFakeBinance; close: () => Promise<void> }> {
  const fake = new BenchFakeBinance(symbols);
  const close = once(() => fake.close());
  cleanups.push({ name: 'close fake Binance', run: close });
  await fake.start();
  return { fake, close };
}

/** The configuration of the market scenarios: Binance at the fake's address, prices kept 1 h. */
export function marketConfig(fake: BenchFakeBinance): Config {
  return benchConfig({ BINANCE_BASE_URL: fake.baseUrl, ...MARKET_ENV });
}

/**
 * One instance of the real app pricing from the fake Binance through `cache`, with a price source
 * of its own, as in separate processes (instances sharing a cache then meet only through it).
 * @param config {@link marketConfig} of `fake`
 * @param backlog the listen backlog, for connections opened all at once
 */
export async function startMarketApp(
  env: AppEnv,
  fake: BenchFakeBinance,
  config: Config,
  cache: KeyValueCache,
  backlog?: number,
): ReturnType<typeof startApp> {
  return await startApp(env, {
    config,
    cache,
    priceSource: new BinancePriceSource({
      baseUrl: fake.baseUrl,
      timeoutMs: config.upstreamTimeoutMs,
      clock: systemClock,
      cache,
    }),
    ...(backlog === undefined ? {} : { backlog }),
  });
}

/** The current value of a prom-client counter, summed over the series matching `labels`. */
async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([name, value]) => v.labels[name] === value))
    .reduce((total, v) => total + v.value, 0);
}

/** Price-cache lookups and single-flight joins so far in this process (the app's own metrics). */
export async function priceCounters(): Promise<{
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
