/**
 * The CoinGecko price source against a fake CoinGecko on loopback that answers from the recorded
 * `/coins/list` (25 coins, real symbol collisions) and `/coins/markets` (2023-01-02) responses:
 * shared tickers resolve to the largest market cap whatever order CoinGecko answers in; the
 * symbol → id map is fetched once (50 concurrent first callers, two instances sharing one cache —
 * one Redis when REDIS_URL is set) and then served from the cache; several symbols cost one
 * `/simple/price` call; unknown symbols and every upstream failure map to the market errors; and
 * the app serves a CoinGecko price over HTTP. No assertion depends on elapsed time: expiry and
 * back-off are driven by a hand-moved clock over the in-process cache.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnknownSymbolError, UpstreamUnavailableError } from '../../../src/modules/market/errors.js';
import {
  COIN_MAP_TTL_MS,
  CoinGeckoPriceSource,
  type CoinRef,
  pickLargestMarketCap,
} from '../../../src/modules/market/sources/coingecko.js';
import { createPriceSource } from '../../../src/modules/market/sources/index.js';
import type { KeyValueCache } from '../../../src/platform/cache/cache.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { loadConfig } from '../../../src/platform/config/env.js';
import { upstreamRequests } from '../../../src/platform/observability/metrics.js';
import { type Clock, systemClock } from '../../../src/shared/clock.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { buildTestApp, type TestApp } from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { FakeCoinGecko } from '../../helpers/fake-coingecko.js';
import { openSharedCaches } from '../../helpers/shared-caches.js';

const ETH_IDS = [
  'bridged-binance-peg-ethereum-opbnb',
  'bridged-wrapped-ether-starkgate',
  'ethereum',
  'ethereum-wormhole',
  'the-infinite-garden',
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeCoinGecko(): Promise<FakeCoinGecko> {
  const fake = await new FakeCoinGecko().start();
  cleanups.push(() => fake.close());
  return fake;
}

/**
 * Caches that the given number of "instances" share: one Redis (a connection each, one key prefix)
 * when REDIS_URL is set, else one in-process cache.
 */
function sharedCaches(count: number): KeyValueCache[] {
  const shared = openSharedCaches(count);
  cleanups.push(() => shared.close());
  return shared.caches;
}

function newCache(): KeyValueCache {
  return sharedCaches(1)[0]!;
}

/** A clock the test moves by hand, with an in-process cache that follows it. */
function manualClock(startMs = Date.now()) {
  let nowMs = startMs;
  const clock = { nowMs: () => nowMs, advance: (ms: number) => (nowMs += ms) };
  const cache = new MemoryCache(() => nowMs);
  return { clock, cache };
}

function source(
  fake: FakeCoinGecko,
  cache: KeyValueCache = newCache(),
  options: { clock?: Clock; timeoutMs?: number } = {},
): CoinGeckoPriceSource {
  return new CoinGeckoPriceSource({
    baseUrl: fake.baseUrl,
    timeoutMs: options.timeoutMs ?? 2000,
    clock: options.clock ?? systemClock,
    cache,
  });
}

describe('symbol → coin', () => {
  it('resolves shared tickers to the coin with the largest market cap, in one /coins/markets call', async () => {
    const fake = await fakeCoinGecko();
    const cg = source(fake);
    expect(await cg.resolveSymbol('ETHUSDT')).toEqual({ id: 'ethereum', symbol: 'ETH', name: 'Ethereum' });
    expect(fake.idsRequested('/coins/markets')).toEqual([ETH_IDS]);
    expect(await cg.resolveSymbol('BTC')).toEqual({ id: 'bitcoin', symbol: 'BTC', name: 'Bitcoin' });
    expect(await cg.resolveSymbol('bnb')).toEqual({ id: 'binancecoin', symbol: 'BNB', name: 'BNB' });
    // Asked again in every form: answered from memory.
    for (const form of ['ETH', 'eth', 'ETHUSDT', 'btcusdt']) await cg.resolveSymbol(form);
    expect(fake.count('/coins/markets')).toBe(3);
  });

  it('needs no /coins/markets call for a ticker only one coin has', async () => {
    const fake = await fakeCoinGecko();
    expect(await source(fake).resolveSymbol('USDT')).toEqual({
      id: 'tether',
      symbol: 'USDT',
      name: 'Tether',
    });
    expect(fake.count('/coins/markets')).toBe(0);
  });

  it('decides by market cap, then rank, then id — whatever order CoinGecko answers in', async () => {
    const answers: Record<string, string>[] = [];
    for (const order of ['market_cap_desc', 'reversed'] as const) {
      const fake = await fakeCoinGecko();
      fake.marketsOrder = order;
      // A larger cap beats the listing's "obvious" coin (ethereum: 146,770,392,298 USD).
      fake.setMarket('the-infinite-garden', { marketCap: 200_000_000_000, rank: 9 });
      // Equal caps: the better rank wins.
      fake.setMarket('wrapped-solana', { marketCap: 5_000_000, rank: 300 });
      fake.setMarket('solana', { marketCap: 5_000_000, rank: 5 });
      // Equal caps and no rank: the smaller id wins; a coin without a cap loses to one with a cap.
      fake.setMarket('warioxrpdumbledoreyugioh69inu', { marketCap: 7, rank: null });
      fake.setMarket('harrypotterobamapacman8inu', { marketCap: 7, rank: null });
      fake.setMarket('ripple', { marketCap: null, rank: null });
      const cg = source(fake);
      const answer: Record<string, string> = {};
      for (const ticker of ['ETH', 'SOL', 'XRP']) answer[ticker] = (await cg.resolveSymbol(ticker)).id;
      answers.push(answer);
    }
    expect(answers[0]).toEqual({
      ETH: 'the-infinite-garden',
      SOL: 'solana',
      XRP: 'harrypotterobamapacman8inu',
    });
    expect(answers[1]).toEqual(answers[0]);
  });

  it('picks the same coin for any order of the candidates (property)', () => {
    const candidate = fc.record({
      marketCap: fc.option(
        fc.constantFrom('1', '5', '5', '1000000000').map((text) => new Decimal(text)),
        { nil: undefined },
      ),
      rank: fc.option(fc.constantFrom(1, 2, 2, 50), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z-]{1,6}$/), { minLength: 1, maxLength: 8 }),
        fc.array(candidate, { minLength: 8, maxLength: 8 }),
        fc.infiniteStream(fc.nat()),
        (ids, markets, randomness) => {
          const coins: CoinRef[] = ids.map((id) => ({ id, symbol: 'x', name: id }));
          const caps = new Map(ids.map((id, i) => [id, markets[i]!]));
          const shuffled = [...coins]
            .map((coin) => ({ coin, key: randomness.next().value as number }))
            .sort((a, b) => a.key - b.key)
            .map(({ coin }) => coin);
          const picked = pickLargestMarketCap(coins, caps);
          expect(pickLargestMarketCap(shuffled, caps)).toEqual(picked);
          const largest = Decimal.max(...ids.map((id) => caps.get(id)?.marketCap ?? -1));
          expect(new Decimal(caps.get(picked.id)?.marketCap ?? -1).eq(largest)).toBe(true);
        },
      ),
    );
  });

  it('throws UnknownSymbolError for a ticker CoinGecko does not list, and for junk without a request', async () => {
    const fake = await fakeCoinGecko();
    const cg = source(fake);
    for (const junk of ['B$C', '', 'X'.repeat(10_000), 'BTC/USDT']) {
      await expect(cg.resolveSymbol(junk)).rejects.toBeInstanceOf(UnknownSymbolError);
      await expect(cg.fetchQuote(junk)).rejects.toBeInstanceOf(UnknownSymbolError);
    }
    expect(fake.requestCount).toBe(0);
    await expect(cg.resolveSymbol('NOPE')).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    await expect(cg.fetchQuote('NOPEUSDT')).rejects.toBeInstanceOf(UnknownSymbolError);
    // Listed, but CoinGecko has no USD price for it (`{"staked-ether":{}}`).
    await expect(cg.fetchQuote('STETH')).rejects.toBeInstanceOf(UnknownSymbolError);
  });
});

describe('the symbol → id map is fetched once', () => {
  it('50 concurrent first callers → 1 /coins/list and 1 /coins/markets request; later calls none', async () => {
    const fake = await fakeCoinGecko();
    fake.delayMs = 50;
    const cg = source(fake);
    const coins = await Promise.all(Array.from({ length: 50 }, () => cg.resolveSymbol('ETH')));
    expect(new Set(coins.map((c) => c.id))).toEqual(new Set(['ethereum']));
    expect(fake.count('/coins/list')).toBe(1);
    expect(fake.count('/coins/markets')).toBe(1);
    await cg.fetchQuote('BTC');
    await cg.fetchQuotes(['ETH', 'USDT']);
    expect(fake.count('/coins/list')).toBe(1);
  });

  it('two instances sharing one cache, 50 concurrent first callers → 1 /coins/list; a third instance reads the cache', async () => {
    const fake = await fakeCoinGecko();
    fake.delayMs = 50;
    const [cacheA, cacheB, cacheC] = sharedCaches(3);
    const a = source(fake, cacheA);
    const b = source(fake, cacheB);
    const coins = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).resolveSymbol('BTC')),
    );
    expect(new Set(coins.map((c) => c.id))).toEqual(new Set(['bitcoin']));
    expect(fake.count('/coins/list')).toBe(1);
    const c = source(fake, cacheC);
    const marketsBefore = fake.count('/coins/markets');
    expect(await c.resolveSymbol('BTC')).toEqual({ id: 'bitcoin', symbol: 'BTC', name: 'Bitcoin' });
    expect(fake.count('/coins/list')).toBe(1);
    // The resolution is shared too: no /coins/markets call for BTC from the third instance.
    expect(fake.count('/coins/markets')).toBe(marketsBefore);
  });

  it('keeps the map 24 h, then fetches it again; a failed refresh keeps serving the old map', async () => {
    const fake = await fakeCoinGecko();
    const { clock, cache } = manualClock();
    const cg = source(fake, cache, { clock });
    await cg.resolveSymbol('BTC');
    clock.advance(COIN_MAP_TTL_MS - 1);
    await cg.resolveSymbol('SOL');
    expect(fake.count('/coins/list')).toBe(1);
    clock.advance(2);
    fake.mode = 'error500';
    fake.failPath = '/coins/list';
    expect((await cg.resolveSymbol('BTC')).id).toBe('bitcoin');
    expect(fake.count('/coins/list')).toBeGreaterThan(1);
    fake.mode = 'ok';
    const listsBefore = fake.count('/coins/list');
    await cg.resolveSymbol('BTC');
    expect(fake.count('/coins/list')).toBe(listsBefore + 1);
  });

  it('never caches an empty or garbled list', async () => {
    for (const mode of ['empty-list', 'garbage'] as const) {
      const fake = await fakeCoinGecko();
      const cache = newCache();
      fake.mode = mode;
      await expect(source(fake, cache).resolveSymbol('BTC')).rejects.toBeInstanceOf(UpstreamUnavailableError);
      fake.mode = 'ok';
      expect((await source(fake, cache).resolveSymbol('BTC')).id).toBe('bitcoin');
      expect(fake.count('/coins/list')).toBe(2);
    }
  });
});

describe('prices', () => {
  it('prices several symbols with one /simple/price call and leaves the unknown ones out', async () => {
    const fake = await fakeCoinGecko();
    const cg = source(fake);
    const quotes = await cg.fetchQuotes(['BTCUSDT', 'ETH', 'BNBUSDT', 'NOPE', 'B$C', 'STETH']);
    expect([...quotes.keys()]).toEqual(['BTCUSDT', 'ETH', 'BNBUSDT']);
    expect(quotes.get('BTCUSDT')).toMatchObject({
      symbol: 'BTCUSDT',
      last: '16730.75',
      bid: '16730.75',
      ask: '16730.75',
      source: 'coingecko',
    });
    expect(quotes.get('ETH')).toMatchObject({ symbol: 'ETHUSDT', last: '1218.19' });
    expect(quotes.get('BNBUSDT')).toMatchObject({ symbol: 'BNBUSDT', last: '246.67' });
    expect(fake.count('/simple/price')).toBe(1);
    expect(new Set(fake.idsRequested('/simple/price')[0])).toEqual(
      new Set(['bitcoin', 'ethereum', 'binancecoin', 'staked-ether']),
    );
    expect(
      fake.requests.find((u) => u.pathname.endsWith('/simple/price'))?.searchParams.get('vs_currencies'),
    ).toBe('usd');
    // The three shared tickers were decided together: one /coins/markets call for all candidates.
    expect(fake.count('/coins/markets')).toBe(1);
    expect(fake.idsRequested('/coins/markets')[0]).toHaveLength(2 + 5 + 5);
  });

  it('keeps prices as decimal strings: no exponent, no float arithmetic', async () => {
    const fake = await fakeCoinGecko();
    fake.setPrice('bitcoin', 67187.3358936566);
    fake.setPrice('ethereum', 1.2e-7);
    const quotes = await source(fake).fetchQuotes(['BTC', 'ETH']);
    expect(quotes.get('BTC')?.last).toBe('67187.3358936566');
    expect(quotes.get('ETH')?.last).toBe('0.00000012');
    // More significant digits than a double holds: kept exactly as sent, never read into a float.
    fake.setPrice('bitcoin', '67187.33589365661234567');
    expect((await source(fake).fetchQuote('BTC')).last).toBe('67187.33589365661234567');
  });

  it('counts every upstream request in upstream_requests_total by host, route and status', async () => {
    const fake = await fakeCoinGecko();
    await source(fake).fetchQuote('BTC');
    const values = (await upstreamRequests.get()).values.filter((v) => v.labels.host === fake.host);
    const count = (route: string) =>
      values.find((v) => v.labels.route === route && v.labels.status === '200')?.value;
    expect(count('/coins/list')).toBe(1);
    expect(count('/coins/markets')).toBe(1);
    expect(count('/simple/price')).toBe(1);
  });
});

describe('upstream failures', () => {
  it.each(['error500', 'hang', 'garbage', 'html', 'html200'] as const)(
    '%s → UpstreamUnavailableError, cold and with the map already loaded',
    async (mode) => {
      const cold = await fakeCoinGecko();
      cold.mode = mode;
      await expect(source(cold, newCache(), { timeoutMs: 300 }).fetchQuote('BTC')).rejects.toBeInstanceOf(
        UpstreamUnavailableError,
      );
      const warm = await fakeCoinGecko();
      const cg = source(warm, newCache(), { timeoutMs: 300 });
      await cg.resolveSymbol('BTC');
      warm.mode = mode;
      warm.failPath = '/simple/price';
      await expect(cg.fetchQuote('BTC')).rejects.toBeInstanceOf(UpstreamUnavailableError);
      await expect(cg.fetchQuotes(['BTC', 'ETH'])).rejects.toBeInstanceOf(UpstreamUnavailableError);
    },
  );

  it('retries a 500 once, not a 429', async () => {
    const fake = await fakeCoinGecko();
    const cg = source(fake);
    await cg.resolveSymbol('BTC');
    fake.mode = 'error500';
    await expect(cg.fetchQuote('BTC')).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(fake.count('/simple/price')).toBe(2);
  });

  it('429 with Retry-After: 2 → retryAfterSeconds 2, no request from any instance until then, then recovery', async () => {
    const fake = await fakeCoinGecko();
    const { clock, cache } = manualClock();
    const cg = source(fake, cache, { clock });
    const other = source(fake, cache, { clock });
    fake.mode = 'rate-limited';
    const error = await cg.fetchQuote('BTC').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect((error as UpstreamUnavailableError).retryAfterSeconds).toBe(2);
    expect(fake.requestCount).toBe(1);
    fake.mode = 'ok';
    clock.advance(1000);
    for (const instance of [cg, other]) {
      await expect(instance.fetchQuote('BTC')).rejects.toMatchObject({ retryAfterSeconds: 1 });
    }
    expect(fake.requestCount).toBe(1);
    clock.advance(1000);
    expect((await cg.fetchQuote('BTC')).last).toBe('16730.75');
  });

  it('429 without Retry-After waits a minute; the back-off is shared through the cache', async () => {
    const fake = await fakeCoinGecko();
    const [cacheA, cacheB] = sharedCaches(2);
    fake.mode = 'rate-limited';
    fake.retryAfter = null;
    await expect(source(fake, cacheA).resolveSymbol('BTC')).rejects.toMatchObject({ retryAfterSeconds: 60 });
    fake.mode = 'ok';
    await expect(source(fake, cacheB).resolveSymbol('BTC')).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(fake.requestCount).toBe(1);
  });
});

describe('through the app', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
  });
  afterAll(async () => database?.drop());

  it('PRICE_SOURCE=coingecko builds the CoinGecko source', async () => {
    const fake = await fakeCoinGecko();
    const config = loadConfig({ PRICE_SOURCE: 'coingecko', COINGECKO_BASE_URL: `${fake.baseUrl}/` });
    const created = createPriceSource(config, systemClock, newCache());
    expect(created).toBeInstanceOf(CoinGeckoPriceSource);
    expect((await created.fetchQuote('BTCUSDT')).last).toBe('16730.75');
  });

  it('GET /api/v1/market/prices/BTC answers with source "coingecko"; unknown → 404; upstream down → 503', async () => {
    const fake = await fakeCoinGecko();
    const t = await buildTestApp(database.db, { priceSource: source(fake) });
    apps.push(t);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      symbol: 'BTCUSDT',
      price: '16730.75',
      bid: '16730.75',
      ask: '16730.75',
      source: 'coingecko',
      stale: false,
    });
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/NOPE' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('UNKNOWN_SYMBOL');
    for (const mode of ['error500', 'garbage', 'html200', 'rate-limited'] as const) {
      fake.mode = mode;
      const down = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/ETH' });
      expect(down.statusCode, mode).toBe(503);
      expect(down.json().error.code).toBe('PRICE_UNAVAILABLE');
    }
  });
});
