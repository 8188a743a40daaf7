/**
 * Binance's `ticker/price` and `ticker/bookTicker` endpoints and the host's back-off, against the
 * fake Binance on loopback (recorded bodies from ../shared/fixtures, read at run time): the one-symbol
 * forms answer the recordings exactly; a batch of more than 20 symbols costs one `ticker/price` and
 * one `ticker/bookTicker` request (weight 8 as the fake charges it by Binance's tables) instead of a
 * `ticker/24hr` of weight 40, with last price and book merged exactly, while up to 20 stay on one
 * `ticker/24hr`; broken answers of the new endpoints are 503 at the route, never 500; and a 429 or
 * 418 from any endpoint stops every call to the host from every instance sharing the cache (Redis
 * when REDIS_URL is set) until its Retry-After, recorded once. Time is a hand-moved clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BenchFakeBinance } from '../../../bench/fake-binance.js';
import {
  PriceUnavailableError,
  UnknownSymbolError,
  UpstreamUnavailableError,
} from '../../../src/modules/market/errors.js';
import { PriceService } from '../../../src/modules/market/service.js';
import { BinancePriceSource } from '../../../src/modules/market/sources/binance.js';
import { UpstreamBackoff } from '../../../src/modules/market/sources/upstream.js';
import type { KeyValueCache } from '../../../src/platform/cache/cache.js';
import { upstreamBackoffRefusals, upstreamRequests } from '../../../src/platform/observability/metrics.js';
import { type Clock, systemClock } from '../../../src/shared/clock.js';
import { useAppFactory } from '../../helpers/app.js';
import { FakeBinance } from '../../helpers/fake-binance.js';
import { readFixture } from '../../helpers/fixtures.js';
import { openSharedCaches } from '../../helpers/shared-caches.js';

const TICKER_24HR = '/api/v3/ticker/24hr';
const TICKER_PRICE = '/api/v3/ticker/price';
const BOOK_TICKER = '/api/v3/ticker/bookTicker';

const apps = useAppFactory();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeBinance(): Promise<FakeBinance> {
  const fake = await new FakeBinance().start();
  cleanups.push(() => fake.close());
  return fake;
}

/** A clock the test moves by hand. */
function manualClock(startMs = Date.now()) {
  let nowMs = startMs;
  return { nowMs: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

function sharedCaches(count: number, clock: Clock): KeyValueCache[] {
  const shared = openSharedCaches(count, () => clock.nowMs());
  cleanups.push(() => shared.close());
  return shared.caches;
}

function source(fake: { baseUrl: string }, cache: KeyValueCache, clock: Clock = systemClock) {
  return new BinancePriceSource({ baseUrl: fake.baseUrl, timeoutMs: 1000, clock, cache });
}

/**
 * Lists `count` more symbols on the fake, `C01USDT`…, each with its own last, bid and ask
 * (`i.5`, `i.4`, `i.6`), and returns them.
 */
function listSymbols(fake: FakeBinance, count: number): string[] {
  return Array.from({ length: count }, (_, index) => {
    const i = index + 1;
    const symbol = `C${String(i).padStart(2, '0')}USDT`;
    fake.setQuote(symbol, { last: `${i}.5`, bid: `${i}.4`, ask: `${i}.6` });
    return symbol;
  });
}

const recorded = (name: string) => JSON.parse(readFixture(`binance/${name}-BTCUSDT.json`)) as unknown;

describe('ticker/price and ticker/bookTicker, one symbol', () => {
  it('answer the recorded bodies exactly, at weight 2 each; an unknown symbol is UnknownSymbolError', async () => {
    const fake = await fakeBinance();
    const binance = source(fake, sharedCaches(1, systemClock)[0]!);
    expect(await binance.fetchLastPrice('BTCUSDT')).toEqual(recorded('ticker-price'));
    expect(binance.usedWeight1m).toBe(2);
    expect(await binance.fetchBookTicker('BTCUSDT')).toEqual(recorded('ticker-bookTicker'));
    expect(binance.usedWeight1m).toBe(4);
    await expect(binance.fetchLastPrice('NOPEUSDT')).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(binance.fetchBookTicker('NOPEUSDT')).rejects.toBeInstanceOf(UnknownSymbolError);
    expect([fake.count(TICKER_PRICE), fake.count(BOOK_TICKER), fake.count(TICKER_24HR)]).toEqual([2, 2, 0]);
  });

  it.each(['garbage', 'html', 'html200', 'wrong-shape', 'error500'] as const)(
    '%s → UpstreamUnavailableError, one symbol and lists',
    async (mode) => {
      const fake = await fakeBinance();
      const binance = source(fake, sharedCaches(1, systemClock)[0]!);
      fake.mode = mode;
      for (const call of [
        () => binance.fetchLastPrice('BTCUSDT'),
        () => binance.fetchBookTicker('BTCUSDT'),
        () => binance.fetchLastPrices(['BTCUSDT']),
        () => binance.fetchBookTickers(['BTCUSDT']),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(UpstreamUnavailableError);
      }
    },
  );

  it('the bench fake answers both endpoints as the test fake does, from the same recordings', async () => {
    const bench = await new BenchFakeBinance(['BTCUSDT', 'ETHUSDT']).start();
    cleanups.push(() => bench.close());
    const binance = source(bench, sharedCaches(1, systemClock)[0]!);
    expect(await binance.fetchLastPrice('BTCUSDT')).toEqual(recorded('ticker-price'));
    expect(await binance.fetchBookTicker('BTCUSDT')).toEqual(recorded('ticker-bookTicker'));
    expect((await binance.fetchLastPrices(['BTCUSDT', 'ETHUSDT'])).map((p) => p.symbol)).toEqual([
      'BTCUSDT',
      'ETHUSDT',
    ]);
    expect(await binance.fetchBookTickers(['ETHUSDT'])).toEqual([
      { ...(recorded('ticker-bookTicker') as object), symbol: 'ETHUSDT' },
    ]);
    await expect(binance.fetchLastPrices(['BTCUSDT', 'NOPEUSDT'])).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    expect(bench.requestsFor('ETHUSDT')).toBe(2);
  });
});

describe('fetchQuotes: the cheaper batch', () => {
  it('more than 20 symbols: one ticker/price and one bookTicker request (weight 8), no 24hr; merged exactly', async () => {
    const fake = await fakeBinance();
    const symbols = ['BTCUSDT', ...listSymbols(fake, 24)];
    fake.setQuote('EMPTYUSDT', { last: '0.25', bid: '0.00000000', ask: '0.00000000' });
    const binance = source(fake, sharedCaches(1, systemClock)[0]!);
    await binance.fetchSymbols(); // exchangeInfo, kept an hour
    const weightBefore = fake.usedWeight1m;
    const quotes = await binance.fetchQuotes([...symbols, 'EMPTYUSDT', 'NOPEUSDT']);
    expect([fake.count(TICKER_PRICE), fake.count(BOOK_TICKER), fake.count(TICKER_24HR)]).toEqual([1, 1, 0]);
    expect(fake.usedWeight1m - weightBefore).toBe(8);
    expect(quotes.size).toBe(26);
    const view = (symbol: string) => {
      const q = quotes.get(symbol)!;
      return [q.last, q.bid, q.ask, q.source];
    };
    // BTCUSDT from the two recordings: last 60740.00, book 60741.67 / 60741.68.
    expect(view('BTCUSDT')).toEqual(['60740.00000000', '60741.67000000', '60741.68000000', 'binance']);
    expect(view('C07USDT')).toEqual(['7.5', '7.4', '7.6', 'binance']);
    expect(view('C24USDT')).toEqual(['24.5', '24.4', '24.6', 'binance']);
    // An empty book side ("0.00000000") is the last price.
    expect(view('EMPTYUSDT')).toEqual(['0.25', '0.25', '0.25', 'binance']);
    expect(quotes.has('NOPEUSDT')).toBe(false);
    const counted = (await upstreamRequests.get()).values.filter(
      (v) => v.labels.host === new URL(fake.baseUrl).host && v.labels.status === '200',
    );
    expect(counted.map((v) => [v.labels.route, v.value]).sort()).toEqual([
      ['/api/v3/exchangeInfo', 1],
      [BOOK_TICKER, 1],
      [TICKER_PRICE, 1],
    ]);
  });

  it('up to 20 symbols: one 24hr request (weight 2)', async () => {
    const fake = await fakeBinance();
    const symbols = ['BTCUSDT', ...listSymbols(fake, 19)];
    const binance = source(fake, sharedCaches(1, systemClock)[0]!);
    await binance.fetchSymbols();
    const weightBefore = fake.usedWeight1m;
    const quotes = await binance.fetchQuotes(symbols);
    expect([fake.count(TICKER_PRICE), fake.count(BOOK_TICKER), fake.count(TICKER_24HR)]).toEqual([0, 0, 1]);
    expect(fake.usedWeight1m - weightBefore).toBe(2);
    expect(quotes.size).toBe(20);
    const btc = quotes.get('BTCUSDT')!;
    expect([btc.last, btc.bid, btc.ask]).toEqual(['60755.18000000', '60755.18000000', '60755.19000000']);
    expect(quotes.get('C19USDT')).toMatchObject({ last: '19.5', bid: '19.4', ask: '19.6' });
  });

  it('per 100 symbols: 105 cost one ticker/price + bookTicker pair for 100 and one 24hr for 5', async () => {
    const fake = await fakeBinance();
    const symbols = listSymbols(fake, 105);
    const binance = source(fake, sharedCaches(1, systemClock)[0]!);
    const quotes = await binance.fetchQuotes(symbols);
    expect([fake.count(TICKER_PRICE), fake.count(BOOK_TICKER), fake.count(TICKER_24HR)]).toEqual([1, 1, 1]);
    expect(quotes.size).toBe(105);
    expect(quotes.get('C100USDT')).toMatchObject({ last: '100.5', bid: '100.4', ask: '100.6' });
    expect(quotes.get('C105USDT')).toMatchObject({ last: '105.5', bid: '105.4', ask: '105.6' });
  });
});

describe('GET /api/v1/market/prices?symbols= over Binance', () => {
  it('25 symbols: one ticker/price and one bookTicker request, prices exact', async () => {
    const t = await apps.build();
    const fake = t.binance!;
    const symbols = ['BTCUSDT', ...listSymbols(fake, 24)];
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/market/prices?symbols=${symbols.join(',')}`,
    });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { symbol: string; price: string; bid: string; ask: string }[];
    expect(items).toHaveLength(25);
    expect(items[0]).toMatchObject({ symbol: 'BTCUSDT', price: '60740', bid: '60741.67', ask: '60741.68' });
    expect(items[12]).toMatchObject({ symbol: 'C12USDT', price: '12.5', bid: '12.4', ask: '12.6' });
    expect([fake.count(TICKER_PRICE), fake.count(BOOK_TICKER), fake.count(TICKER_24HR)]).toEqual([1, 1, 0]);
  });

  it.each(['garbage', 'html', 'html200', 'wrong-shape', 'error500'] as const)(
    'answers 503, never 500, when ticker/price or bookTicker answers %s',
    async (mode) => {
      const t = await apps.build();
      const fake = t.binance!;
      const symbols = ['BTCUSDT', ...listSymbols(fake, 24)];
      fake.mode = mode;
      for (const path of [TICKER_PRICE, BOOK_TICKER]) {
        fake.failPath = path;
        const res = await t.app.inject({
          method: 'GET',
          url: `/api/v1/market/prices?symbols=${symbols.join(',')}`,
        });
        expect(res.statusCode, path).toBe(503);
        expect(res.json().error.code, path).toBe('PRICE_UNAVAILABLE');
      }
      expect(fake.count(TICKER_24HR)).toBe(0);
    },
  );
});

/** One call per endpoint, each reaching Binance when nothing stops it. */
const ENDPOINT_CALLS = {
  [TICKER_24HR]: (s: BinancePriceSource) => s.fetchQuote('BTCUSDT'),
  [TICKER_PRICE]: (s: BinancePriceSource) => s.fetchLastPrice('BTCUSDT'),
  [BOOK_TICKER]: (s: BinancePriceSource) => s.fetchBookTicker('BTCUSDT'),
  '/api/v3/klines': (s: BinancePriceSource) => s.fetchCandles('BTCUSDT', '1m', 5),
  '/api/v3/exchangeInfo': (s: BinancePriceSource) => s.fetchSymbols(),
} as const;

describe('429 and 418: one back-off for the host', () => {
  const cases = Object.keys(ENDPOINT_CALLS).flatMap((path) =>
    ([429, 418] as const).map((status) => [status, path] as const),
  );

  it.each(cases)(
    'a %i from %s with Retry-After: 2 stops every call from every instance for 2 s, then recovery',
    async (status, path) => {
      const fake = await fakeBinance();
      const symbols = ['BTCUSDT', ...listSymbols(fake, 24)];
      const clock = manualClock();
      const [cacheA, cacheB] = sharedCaches(2, clock);
      const a = source(fake, cacheA!, clock);
      const b = source(fake, cacheB!, clock);
      await b.fetchSymbols(); // b's batches go straight to ticker/price + bookTicker
      fake.mode = status === 429 ? 'rate-limited' : 'banned';
      fake.failPath = path;
      await expect(ENDPOINT_CALLS[path as keyof typeof ENDPOINT_CALLS](a)).rejects.toMatchObject({
        retryAfterSeconds: 2,
      });
      fake.mode = 'ok';
      const sent = fake.requestCount;
      for (const instance of [a, b]) {
        for (const call of [
          () => instance.fetchQuote('BTCUSDT'),
          () => instance.fetchLastPrice('BTCUSDT'),
          () => instance.fetchBookTicker('BTCUSDT'),
          () => instance.fetchTicker24h('BTCUSDT'),
          () => instance.fetchCandles('BTCUSDT', '1m', 5),
          () => instance.fetchQuotes(symbols),
        ]) {
          await expect(call()).rejects.toMatchObject({
            name: 'UpstreamUnavailableError',
            retryAfterSeconds: 2,
          });
        }
      }
      expect(fake.requestCount).toBe(sent);
      clock.advance(2_000);
      expect((await a.fetchQuote('BTCUSDT')).last).toBe('60755.18000000');
      expect((await b.fetchQuotes(symbols)).size).toBe(25);
    },
  );

  it('a 418 ban of 2 days is honoured to its end (longer than the 1 h cap of a broken header)', async () => {
    const fake = await fakeBinance();
    const clock = manualClock();
    const [cache] = sharedCaches(1, clock);
    const binance = source(fake, cache!, clock);
    const twoDays = 2 * 24 * 60 * 60;
    fake.mode = 'banned';
    fake.retryAfterSeconds = twoDays;
    await expect(binance.fetchQuote('BTCUSDT')).rejects.toMatchObject({ retryAfterSeconds: twoDays });
    fake.mode = 'ok';
    const sent = fake.requestCount;
    clock.advance((twoDays - 1) * 1000);
    await expect(binance.fetchQuote('BTCUSDT')).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(fake.requestCount).toBe(sent);
    clock.advance(1000);
    expect((await binance.fetchQuote('BTCUSDT')).last).toBe('60755.18000000');
  });

  it('a 429 asking for 2 days waits 1 h at most (only a ban may last for days)', async () => {
    const fake = await fakeBinance();
    const clock = manualClock();
    const [cache] = sharedCaches(1, clock);
    fake.mode = 'rate-limited';
    fake.retryAfterSeconds = 2 * 24 * 60 * 60;
    await expect(source(fake, cache!, clock).fetchQuote('BTCUSDT')).rejects.toMatchObject({
      retryAfterSeconds: 3600,
    });
  });

  it('a short hold never cuts a longer one, and a lost cache record does not end this instance’s ban', async () => {
    const clock = manualClock();
    const [cache] = sharedCaches(1, clock);
    const backoff = new UpstreamBackoff(cache!, 'test:backoff', clock);
    await backoff.hold(172_800);
    await backoff.hold(2);
    expect(await backoff.remainingSeconds()).toBe(172_800);
    await cache!.delete('test:backoff');
    expect(await backoff.remainingSeconds()).toBe(172_800);
    expect(await new UpstreamBackoff(cache!, 'test:backoff', clock).remainingSeconds()).toBeUndefined();
    clock.advance(172_800_000);
    expect(await backoff.remainingSeconds()).toBeUndefined();
  });

  it('is one record: price services answer 503 with it, count refusals by host, and deleting binance:backoff alone ends it', async () => {
    const fake = await fakeBinance();
    const symbols = ['BTCUSDT', ...listSymbols(fake, 24)];
    const clock = manualClock();
    const caches = sharedCaches(2, clock);
    const options = { cacheTtlMs: 2000, priceAgeMsMax: 10_000, priceStaleMsMax: 60_000, quoteAsset: 'USDT' };
    const services = caches.map(
      (cache) => new PriceService(source(fake, cache, clock), cache, clock, options),
    );
    const host = new URL(fake.baseUrl).host;
    const refusals = async () =>
      (await upstreamBackoffRefusals.get()).values.find((v) => v.labels.host === host)?.value ?? 0;
    fake.mode = 'banned';
    await expect(services[0]!.getQuote('BTCUSDT', 'read')).rejects.toBeInstanceOf(PriceUnavailableError);
    fake.mode = 'ok';
    const sent = fake.requestCount;
    for (const service of services) {
      await expect(service.getQuote('ETHUSDT', 'read')).rejects.toBeInstanceOf(PriceUnavailableError);
      await expect(service.getQuotes(symbols, 'read')).rejects.toBeInstanceOf(PriceUnavailableError);
    }
    expect(fake.requestCount).toBe(sent);
    expect(await refusals()).toBe(4);
    // Nothing else holds the back-off: no copy in a source or a service, no second key.
    await caches[0]!.delete('binance:backoff');
    expect((await services[1]!.getQuotes(symbols, 'read', { refresh: true })).quotes).toHaveLength(25);
    expect((await services[0]!.getQuote('BTCUSDT', 'read')).last).toBe('60740');
  });
});
