/**
 * Market data beyond one price, over a fake Binance on loopback (recorded responses) and the replay
 * source: several prices in one upstream call, 24 h tickers, candles, the symbol list with Binance's
 * filters; a 429/418 back-off that no instance breaks; one upstream request for a cold stampede
 * across two instances sharing one cache; and junk input answered 4xx.
 */
import { describe, expect, it } from 'vitest';
import { ReplayPriceSource } from '../../../src/modules/market/index.js';
import { PriceService } from '../../../src/modules/market/service.js';
import { BinancePriceSource } from '../../../src/modules/market/sources/binance.js';
import { CoinGeckoPriceSource } from '../../../src/modules/market/sources/coingecko.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { RedisCache } from '../../../src/platform/cache/redis.js';
import { getWallet, postOrder, registerUser, type TestAppOptions, useAppFactory } from '../../helpers/app.js';
import { FakeBinance } from '../../helpers/fake-binance.js';
import { FakeCoinGecko } from '../../helpers/fake-coingecko.js';
import { fixturePath } from '../../helpers/fixtures.js';

const apps = useAppFactory();

/** A clock the test moves by hand. */
function manualClock(startMs = Date.now()) {
  let nowMs = startMs;
  return { nowMs: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

const app = (options: TestAppOptions = {}) => apps.build(options);

describe('Binance routes', () => {
  it('answers several prices with one upstream call and names the unknown symbols', async () => {
    const t = await app();
    t.binance!.setQuote('ETHUSDT', { last: '3076.92', bid: '3076.91', ask: '3076.93' });
    await t.app.inject({ method: 'GET', url: '/api/v1/market/symbols' }); // warms exchangeInfo
    const before = t.binance!.requestsByPath.get('/api/v3/ticker/24hr') ?? 0;
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices?symbols=BTC,ethusdt,NOPE' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items.map((p: { symbol: string; price: string }) => [p.symbol, p.price])).toEqual([
      ['BTCUSDT', '60755.18'],
      ['ETHUSDT', '3076.92'],
    ]);
    expect(body.unknown_symbols).toEqual(['NOPEUSDT']);
    expect((t.binance!.requestsByPath.get('/api/v3/ticker/24hr') ?? 0) - before).toBe(1);
    // Now cached: no upstream call at all.
    await t.app.inject({ method: 'GET', url: '/api/v1/market/prices?symbols=BTC,ETH' });
    expect((t.binance!.requestsByPath.get('/api/v3/ticker/24hr') ?? 0) - before).toBe(1);
  });

  it('answers the 24 h ticker, candles and symbols in their shapes', async () => {
    const t = await app();
    const ticker = await t.app.inject({ method: 'GET', url: '/api/v1/market/tickers/BTC' });
    expect(ticker.statusCode).toBe(200);
    expect(ticker.json()).toMatchObject({
      symbol: 'BTCUSDT',
      open: '62636.13',
      high: '63732.39',
      low: '60000',
      last: '60755.18',
      price_change: '-1880.95',
      price_change_percent: '-3.003',
      trade_count: 1580643,
    });
    const candles = await t.app.inject({
      method: 'GET',
      url: '/api/v1/market/candles/BTCUSDT?interval=1m&limit=5',
    });
    expect(candles.statusCode).toBe(200);
    const items = candles.json().items;
    expect(items).toHaveLength(5);
    expect(items[0]).toMatchObject({ open: expect.any(String), close_time: expect.stringMatching(/Z$/) });
    expect(Date.parse(items[1].open_time) - Date.parse(items[0].open_time)).toBe(60_000);
    const symbols = await t.app.inject({ method: 'GET', url: '/api/v1/market/symbols' });
    expect(symbols.json().items).toContainEqual({
      symbol: 'BTCUSDT',
      base_asset: 'BTC',
      quote_asset: 'USDT',
      tick_size: '0.01',
      min_price: '0.01',
      max_price: '1000000',
      min_qty: '0.00001',
      max_qty: '9000',
      step_size: '0.00001',
      min_notional: '10',
    });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/tickers/NOPE' })).statusCode).toBe(404);
  });

  it.each([
    ['/api/v1/market/candles/BTCUSDT?interval=2m', 422],
    ['/api/v1/market/candles/BTCUSDT?limit=0', 422],
    ['/api/v1/market/candles/BTCUSDT?limit=-1', 422],
    ['/api/v1/market/candles/BTCUSDT?limit=1001', 422],
    ['/api/v1/market/candles/BTCUSDT?limit=10001', 422],
    ['/api/v1/market/candles/BTCUSDT?limit=abc', 422],
    ['/api/v1/market/candles/BTC$USDT', 422],
    ['/api/v1/market/tickers/%F0%9F%92%B0', 422],
    [`/api/v1/market/tickers/${'B'.repeat(10_000)}`.slice(0, 10_030), 414],
    ['/api/v1/market/prices?symbols=', 422],
    ['/api/v1/market/prices?symbols=BTC,ET%00H', 422],
    [`/api/v1/market/prices?symbols=${Array.from({ length: 101 }, (_, i) => `S${i}X`).join(',')}`, 422],
    ['/api/v1/market/prices?symbols=BTC,<script>', 422],
  ])('answers junk (%#) with a 4xx in the v1 shape', async (url, status) => {
    const t = await app();
    const res = await t.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toEqual(expect.any(String));
  });
});

describe('fee and margin rates', () => {
  it('publishes what an order pays and needs, from the configuration (an estimate before sending)', async () => {
    const t = await app({ env: { TAKER_FEE_RATE: '0.00075', SHORT_INITIAL_MARGIN: '0.6' } });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/market/fees' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      quote_asset: 'USDT',
      taker_fee_rate: '0.00075',
      short_initial_margin_rate: '0.6',
      short_maintenance_margin_rate: '0.3',
    });
  });
});

describe('upstream back-off', () => {
  it.each([
    [429, 'rate-limited'],
    [418, 'banned'],
  ] as const)(
    'a %i with Retry-After: 2 stops every call to the host for 2 s, then recovers',
    async (_status, mode) => {
      const clock = manualClock();
      const t = await app({ clock });
      t.binance!.mode = mode;
      const first = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
      expect(first.statusCode).toBe(503);
      const sent = t.binance!.requestCount;
      t.binance!.mode = 'ok';
      for (const url of [
        '/api/v1/market/prices/BTC',
        '/api/v1/market/tickers/BTC',
        '/api/v1/market/candles/BTC',
      ]) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(503);
        expect(res.headers['retry-after'], url).toBeDefined();
      }
      expect(t.binance!.requestCount).toBe(sent);
      clock.advance(2_100);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' })).statusCode).toBe(200);
    },
  );
});

describe('one upstream request per symbol across instances', () => {
  it('300 concurrent reads of a cold symbol on two instances sharing one cache → 1 upstream request', async () => {
    const binance = await new FakeBinance().start();
    binance.delayMs = 100;
    const redisUrl = process.env.REDIS_URL;
    const prefix = `pbtest:${Math.random().toString(16).slice(2)}:`;
    // Two caches on one Redis are two instances' views of one store; without Redis, one shared map.
    const shared = new MemoryCache();
    const caches = redisUrl
      ? [new RedisCache(redisUrl, prefix), new RedisCache(redisUrl, prefix)]
      : [shared, shared];
    const options = { cacheTtlMs: 2000, priceAgeMsMax: 10_000, priceStaleMsMax: 60_000, quoteAsset: 'USDT' };
    const clock = { nowMs: () => Date.now() };
    const instances = caches.map(
      (cache) =>
        new PriceService(
          new BinancePriceSource({ baseUrl: binance.baseUrl, timeoutMs: 5000, clock, cache }),
          cache,
          clock,
          options,
        ),
    );
    try {
      const quotes = await Promise.all(
        Array.from({ length: 300 }, (_, i) => instances[i % 2]!.getQuote('BTCUSDT', 'read')),
      );
      expect(new Set(quotes.map((q) => q.last))).toEqual(new Set(['60755.18']));
      expect(binance.requestCount).toBe(1);
    } finally {
      await binance.close();
      if (redisUrl) for (const cache of caches) await cache.close();
    }
  });
});

describe('replay source', () => {
  it('computes the 24 h ticker and candles from the recording', async () => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
    const source = new ReplayPriceSource([fixturePath('klines/BTCUSDT-1m-2021-05-16.json')], clock, 1);
    const t = await app({ priceSource: source, clock });
    clock.advance(2 * 3_600_000 + 30_000); // 02:00:30 into the recording
    const ticker = (await t.app.inject({ method: 'GET', url: '/api/v1/market/tickers/BTC' })).json();
    expect(ticker).toMatchObject({ symbol: 'BTCUSDT', trade_count: 0 });
    expect(Number(ticker.high)).toBeGreaterThanOrEqual(Number(ticker.low));
    expect(ticker.close_time).toBe(new Date(clock.nowMs()).toISOString());
    const candles = (
      await t.app.inject({ method: 'GET', url: '/api/v1/market/candles/BTC?interval=15m&limit=4' })
    ).json().items;
    expect(candles).toHaveLength(4);
    for (const c of candles) {
      expect(Number(c.high)).toBeGreaterThanOrEqual(Math.max(Number(c.open), Number(c.close)));
      expect(Number(c.low)).toBeLessThanOrEqual(Math.min(Number(c.open), Number(c.close)));
    }
    expect(Date.parse(candles[3].open_time) - Date.parse(candles[2].open_time)).toBe(900_000);
    const oneSecond = await t.app.inject({ method: 'GET', url: '/api/v1/market/candles/BTC?interval=1s' });
    expect(oneSecond.statusCode).toBe(422);
    const symbols = (await t.app.inject({ method: 'GET', url: '/api/v1/market/symbols' })).json();
    expect(symbols.items).toEqual([
      expect.objectContaining({ symbol: 'BTCUSDT', base_asset: 'BTC', quote_asset: 'USDT', min_qty: null }),
    ]);
  });
});

describe('a failing upstream', () => {
  it('serves a cached price marked stale to reads, refuses it to orders (503, nothing moves), then 503 everywhere', async () => {
    const clock = manualClock();
    const t = await app({
      clock,
      env: { PRICE_CACHE_TTL_MS: '500', PRICE_MAX_AGE_MS: '1000', PRICE_STALE_MAX_MS: '60000' },
    });
    const user = await registerUser(t.app);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' })).json().stale).toBe(
      false,
    );
    t.binance!.mode = 'error500';
    clock.advance(1_500);
    const stale = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
    expect(stale.statusCode).toBe(200);
    expect(stale.json()).toMatchObject({ price: '60755.18', stale: true });
    const before = await getWallet(t.app, user.token, user.walletId);
    const order = await postOrder(t.app, user.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' });
    expect(order.statusCode).toBe(503);
    expect(order.json().error.code).toBe('PRICE_UNAVAILABLE');
    expect(order.headers['retry-after']).toBeDefined();
    expect(await getWallet(t.app, user.token, user.walletId)).toEqual(before);
    clock.advance(60_000);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' })).statusCode).toBe(503);
  });

  it('answers 503 within the upstream timeout when Binance hangs, and the server keeps answering meanwhile', async () => {
    const t = await app({ env: { UPSTREAM_TIMEOUT_MS: '1500' } });
    t.binance!.mode = 'hang';
    const hanging = t.app.inject({ method: 'GET', url: '/api/v1/market/tickers/BTC' });
    const probe = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(probe.statusCode).toBe(200);
    const res = await hanging;
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('PRICE_UNAVAILABLE');
  });

  it.each(['garbage', 'html', 'error500'] as const)(
    'answers 503, never 500, when Binance answers %s',
    async (mode) => {
      const t = await app();
      t.binance!.mode = mode;
      for (const url of [
        '/api/v1/market/prices/BTC',
        '/api/v1/market/prices?symbols=BTC,ETH',
        '/api/v1/market/tickers/BTC',
        '/api/v1/market/candles/BTC',
        '/api/v1/market/symbols',
      ]) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(503);
        expect(res.json().error.code, url).toBe('PRICE_UNAVAILABLE');
      }
    },
  );
});

describe('price age for trading', () => {
  it('never trades on a cached price older than PRICE_MAX_AGE_MS, even when the cache TTL is longer', async () => {
    const clock = manualClock();
    const t = await app({ clock, env: { PRICE_CACHE_TTL_MS: '5000', PRICE_MAX_AGE_MS: '1000' } });
    const user = await registerUser(t.app);
    await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
    const tickers = () => t.binance!.requestsByPath.get('/api/v3/ticker/24hr') ?? 0;
    const sent = tickers();
    clock.advance(1_500);
    // A read may use the cached price (within its TTL); an order must fetch a young one.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' })).json().stale).toBe(
      false,
    );
    expect(tickers()).toBe(sent);
    const order = await postOrder(t.app, user.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' });
    expect(order.statusCode).toBe(201);
    expect(tickers()).toBe(sent + 1);
  });
});

describe('CoinGecko behind Binance', () => {
  it('prices a symbol Binance does not list from CoinGecko, alone and in a batch; unknown to both → 404', async () => {
    const coingecko = await new FakeCoinGecko().start();
    try {
      coingecko.setPrice('ethereum', 3076.92);
      const fallback = new CoinGeckoPriceSource({
        baseUrl: coingecko.baseUrl,
        timeoutMs: 1500,
        clock: { nowMs: () => Date.now() },
        cache: new MemoryCache(),
        quoteAsset: 'USDT',
      });
      const t = await app({ fallbackPriceSource: fallback });
      const eth = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/ETH' });
      expect(eth.statusCode).toBe(200);
      expect(eth.json()).toMatchObject({ symbol: 'ETHUSDT', price: '3076.92', source: 'coingecko' });
      const batch = (
        await t.app.inject({ method: 'GET', url: '/api/v1/market/prices?symbols=BTC,ETH,NOPEZZ' })
      ).json();
      expect(batch.items.map((p: { symbol: string; source: string }) => [p.symbol, p.source])).toEqual([
        ['BTCUSDT', 'binance'],
        ['ETHUSDT', 'coingecko'],
      ]);
      expect(batch.unknown_symbols).toEqual(['NOPEZZUSDT']);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/NOPEZZ' })).statusCode).toBe(
        404,
      );
      // CoinGecko down: Binance's own verdict stands (404 for a symbol it does not list).
      coingecko.mode = 'error500';
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/DOGE' })).statusCode).toBe(404);
    } finally {
      await coingecko.close();
    }
  });
});
