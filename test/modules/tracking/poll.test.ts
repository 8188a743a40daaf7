/**
 * The tracked-price poll, through the real worker entry point (`startJobs`) over real PostgreSQL,
 * with CoinGecko and Binance as fake HTTP servers that count requests. It proves: two worker
 * processes sharing one Redis (two connections on one key prefix; one shared cache without Redis)
 * poll ONCE per interval between them, each poll one upstream call for every symbol; histories stay
 * capped at PRICE_HISTORY_LIMIT; the statistics equal a recomputation by hand; a failing upstream
 * leaves every history as it was, is counted, and the next tick recovers; polled prices are
 * published on `prices:<SYMBOL>`.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startJobs } from '../../../src/jobs.js';
import { createPriceService, createPriceSource } from '../../../src/modules/market/index.js';
import { createTrackingService, statsView, trackingPolls } from '../../../src/modules/tracking/index.js';
import type { KeyValueCache } from '../../../src/platform/cache/cache.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { RedisCache } from '../../../src/platform/cache/redis.js';
import { loadConfig } from '../../../src/platform/config/env.js';
import { type EventBus, MemoryEventBus, RedisEventBus } from '../../../src/platform/events/bus.js';
import { createLogger } from '../../../src/platform/observability/logger.js';
import type { ProcessDeps } from '../../../src/process-deps.js';
import { systemClock } from '../../../src/shared/clock.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { FakeBinance } from '../../helpers/fake-binance.js';
import { FakeCoinGecko } from '../../helpers/fake-coingecko.js';

const redisUrl = process.env.REDIS_URL;
let database: TestDatabase;
let coingecko: FakeCoinGecko;
let binance: FakeBinance;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  coingecko = await new FakeCoinGecko().start();
  binance = await new FakeBinance().start();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await database.db.$client.query('delete from tracked_cryptos');
  coingecko.mode = 'ok';
  coingecko.failPath = undefined;
});
afterAll(async () => {
  await coingecko?.close();
  await binance?.close();
  await database?.drop();
});

/**
 * One "process": its own cache and bus connections (on a shared prefix), price source and config.
 * Without Redis, processes in one test process share the in-process cache and bus given.
 */
function processDeps(
  prefix: string,
  env: Record<string, string>,
  shared?: { cache: MemoryCache; events: MemoryEventBus },
): ProcessDeps {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    UPSTREAM_TIMEOUT_MS: '1500',
    COINGECKO_BASE_URL: coingecko.baseUrl,
    BINANCE_BASE_URL: binance.baseUrl,
    ...env,
  });
  const cache: KeyValueCache = redisUrl
    ? new RedisCache(redisUrl, prefix)
    : (shared?.cache ?? new MemoryCache());
  const events: EventBus = redisUrl
    ? new RedisEventBus(redisUrl, prefix)
    : (shared?.events ?? new MemoryEventBus());
  if (redisUrl || !shared) {
    closers.push(async () => {
      await events.close();
      await cache.close();
    });
  }
  return {
    config,
    db: database.db,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    cache,
    events,
    priceSource: createPriceSource(config, systemClock, cache),
    clock: systemClock,
  };
}

function trackingOf(deps: ProcessDeps) {
  const prices = createPriceService(
    deps.config,
    deps.cache,
    deps.clock,
    deps.priceSource,
    undefined,
    deps.events,
  );
  return createTrackingService(deps, prices);
}

async function pollCount(result: 'ok' | 'failed'): Promise<number> {
  const metric = await trackingPolls.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

const prefix = () => `pbtest:${randomBytes(6).toString('hex')}:`;

describe('tracked price poll', () => {
  it('runs once per interval across two worker processes, one upstream call for all symbols each time', async () => {
    const env = { PRICE_SOURCE: 'coingecko', PRICE_POLL_INTERVAL_MS: '1000', PRICE_HISTORY_LIMIT: '5' };
    const shared = { cache: new MemoryCache(), events: new MemoryEventBus() };
    const keyPrefix = prefix();
    const first = processDeps(keyPrefix, env, shared);
    const second = processDeps(keyPrefix, env, shared);
    const tracking = trackingOf(first);
    coingecko.setPrice('bitcoin', 45000.5);
    coingecko.setPrice('ethereum', 3000.25);
    coingecko.addCoin({ id: 'dogecoin', symbol: 'doge', name: 'Dogecoin' });
    coingecko.setPrice('dogecoin', 0.08123456);
    for (const symbol of ['BTC', 'eth', 'Doge']) await tracking.add(symbol);
    const published: unknown[] = [];
    const listener = processDeps(keyPrefix, env, shared).events;
    closers.push(await listener.subscribe('prices:BTCUSDT', (payload) => published.push(payload)));

    // The price moves between polls, so the kept history shows which polls it holds.
    let tick = 0;
    const mover = setInterval(() => {
      tick += 1;
      coingecko.setPrice('bitcoin', `${45000 + ((tick * 37) % 1000)}.${tick % 100}`);
    }, 250);
    closers.push(async () => clearInterval(mover));

    const callsBefore = coingecko.count('/simple/price');
    const stops = [await startJobs(first), await startJobs(second)];
    closers.push(async () => {
      for (const stop of stops) await stop();
    });
    await sleep(10_000);
    for (const stop of stops.splice(0)) await stop();
    clearInterval(mover);

    const polls = coingecko.idsRequested('/simple/price').slice(callsBefore);
    expect(polls.length).toBeGreaterThanOrEqual(7);
    expect(polls.length).toBeLessThanOrEqual(11);
    for (const ids of polls) expect([...ids].sort()).toEqual(['bitcoin', 'dogecoin', 'ethereum']);

    const history = await tracking.history('btc');
    expect(history.history).toHaveLength(5);
    const stats = statsView(await tracking.stats('BTC'));
    const prices = history.history.map((p) => p.price);
    const newest = prices[0]!;
    const oldest = prices[prices.length - 1]!;
    const sum = prices.reduce((a, b) => a.plus(b), new Decimal(0));
    expect(stats).toEqual({
      symbol: 'BTC',
      current_price: newest.toFixed(),
      stats: {
        min_price: Decimal.min(...prices).toFixed(),
        max_price: Decimal.max(...prices).toFixed(),
        avg_price: sum.div(5).toDecimalPlaces(8).toFixed(),
        price_change: newest.minus(oldest).toFixed(),
        price_change_percent: newest.minus(oldest).div(oldest).times(100).toDecimalPlaces(2).toFixed(),
        records_count: 5,
      },
    });
    expect(published.length).toBeGreaterThanOrEqual(polls.length - 1);
    expect(published[0]).toMatchObject({
      symbol: 'BTCUSDT',
      price: expect.any(String),
      as_of: expect.any(String),
    });
  }, 30_000);

  it('keeps every history when the upstream fails, counts the failure, and recovers at the next tick', async () => {
    const env = { PRICE_SOURCE: 'coingecko', PRICE_POLL_INTERVAL_MS: '1000' };
    const deps = processDeps(prefix(), env);
    const tracking = trackingOf(deps);
    coingecko.setPrice('bitcoin', 45000.5);
    coingecko.setPrice('ethereum', 3000.25);
    await tracking.add('BTC');
    await tracking.add('ETH');
    coingecko.mode = 'error500';
    coingecko.failPath = '/simple/price';
    const failedBefore = await pollCount('failed');
    const okBefore = await pollCount('ok');
    const before = [await tracking.history('BTC'), await tracking.history('ETH')];
    const stop = await startJobs(deps);
    closers.push(stop);
    await sleep(2_600);
    expect(await pollCount('failed')).toBeGreaterThan(failedBefore);
    expect([await tracking.history('BTC'), await tracking.history('ETH')]).toEqual(before);

    coingecko.mode = 'ok';
    coingecko.setPrice('bitcoin', 46000);
    await sleep(2_600);
    expect(await pollCount('ok')).toBeGreaterThan(okBefore);
    const after = await tracking.history('BTC');
    expect(after.history.length).toBeGreaterThan(1);
    expect(after.history[0]!.price.toFixed()).toBe('46000');
    expect(after.history.at(-1)).toEqual(before[0]!.history[0]);
  }, 20_000);

  it('polls Binance in one batch 24 h ticker call and trims each history to the limit in the same transaction', async () => {
    const deps = processDeps(prefix(), { PRICE_SOURCE: 'binance', PRICE_HISTORY_LIMIT: '3' });
    const tracking = trackingOf(deps);
    binance.setQuote('BTCUSDT', { last: '45000', bid: '44999', ask: '45001' });
    binance.setQuote('ETHUSDT', { last: '3000', bid: '2999', ask: '3001' });
    await tracking.add('btc');
    await tracking.add('ETHUSDT');
    const batchesBefore = binance.requestsByPath.get('/api/v3/ticker/24hr') ?? 0;
    for (let i = 1; i <= 5; i++) {
      binance.setQuote('BTCUSDT', { last: `${45000 + i}`, bid: '1', ask: '1' });
      expect(await tracking.pollOnce()).toEqual({ appended: ['BTC', 'ETH'].sort(), unlisted: [] });
    }
    expect((binance.requestsByPath.get('/api/v3/ticker/24hr') ?? 0) - batchesBefore).toBe(5);
    const btc = await tracking.history('BTC');
    expect(btc.history.map((p) => p.price.toFixed())).toEqual(['45005', '45004', '45003']);
    expect((await tracking.history('ETH')).history).toHaveLength(3);
    const rows = await database.db.$client.query('select count(*)::int as n from tracked_price_history');
    expect(rows.rows[0].n).toBe(6);
  });
});
