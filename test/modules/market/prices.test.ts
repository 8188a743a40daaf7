/**
 * The price route over a fake Binance on loopback (recorded 24 h ticker) and over the replay
 * source (recorded klines): symbol forms, unknown symbols, one upstream request for a stampede,
 * stale serving when the upstream fails, and 503 after the stale window.
 */
import { describe, expect, it } from 'vitest';
import { ReplayPriceSource } from '../../../src/modules/market/index.js';
import { useAppFactory } from '../../helpers/app.js';
import { fixturePath } from '../../helpers/fixtures.js';

const apps = useAppFactory();

async function app(env: Record<string, string> = {}, clock?: { nowMs(): number }) {
  return await apps.build({ env, ...(clock ? { clock } : {}) });
}

describe('GET /api/v1/market/prices/{symbol} from Binance', () => {
  it('accepts BTCUSDT, btcusdt and BTC alike', async () => {
    const t = await app();
    for (const symbol of ['BTCUSDT', 'btcusdt', 'BTC']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/market/prices/${symbol}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        symbol: 'BTCUSDT',
        price: '60755.18',
        bid: '60755.18',
        ask: '60755.19',
      });
    }
  });

  it('answers 404 for an unknown symbol and 422 for junk', async () => {
    const t = await app();
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/NOPE' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('UNKNOWN_SYMBOL');
    for (const junk of ['B%24C', 'A', 'X'.repeat(30)]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/market/prices/${junk}` });
      expect(res.statusCode, junk).toBe(422);
    }
  });

  it('makes one upstream request for 300 concurrent reads of a cold symbol', async () => {
    const t = await app();
    t.binance!.delayMs = 100;
    const results = await Promise.all(
      Array.from({ length: 300 }, () =>
        t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTCUSDT' }),
      ),
    );
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(t.binance!.requestCount).toBe(1);
  });

  it('serves the cached price marked stale while the upstream fails, then 503 after PRICE_STALE_MAX_MS', async () => {
    let nowMs = Date.now();
    const t = await app(
      { PRICE_CACHE_TTL_MS: '1000', PRICE_MAX_AGE_MS: '5000', PRICE_STALE_MAX_MS: '20000' },
      { nowMs: () => nowMs },
    );
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTCUSDT' })).json().stale).toBe(
      false,
    );
    t.binance!.mode = 'error500';
    nowMs += 10_000;
    const stale = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTCUSDT' });
    expect(stale.statusCode).toBe(200);
    expect(stale.json()).toMatchObject({ price: '60755.18', stale: true });
    nowMs += 15_000;
    const gone = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTCUSDT' });
    expect(gone.statusCode).toBe(503);
    expect(gone.headers['retry-after']).toBe('1');
    expect(gone.json().error.code).toBe('PRICE_UNAVAILABLE');
  });
});

describe('replay source', () => {
  const btc = fixturePath('klines/BTCUSDT-1m-2021-05-16.json');
  // First candle: open 46762.99, high 46995.00, low 46754.31, close 46969.15 (rising: open → low → high → close).

  it('starts at the first candle and moves open → low → high → close within its minute', async () => {
    let nowMs = 1_000_000;
    const source = new ReplayPriceSource([btc], { nowMs: () => nowMs });
    expect((await source.fetchQuote('BTCUSDT')).last).toBe('46762.99');
    nowMs += 20_000;
    expect((await source.fetchQuote('BTCUSDT')).last).toBe('46754.31');
    nowMs += 20_000;
    expect((await source.fetchQuote('BTCUSDT')).last).toBe('46995.00');
    nowMs += 10_000;
    const between = (await source.fetchQuote('BTCUSDT')).last;
    expect(Number(between)).toBeLessThan(46995);
    expect(Number(between)).toBeGreaterThan(46969.15);
    nowMs += 10_000;
    expect((await source.fetchQuote('BTCUSDT')).last).toBe('46986.54'); // the second candle's open
  });

  it('wraps around at the end of the recording and speeds up with REPLAY_SPEED', async () => {
    let nowMs = 0;
    const source = new ReplayPriceSource([btc], { nowMs: () => nowMs }, 60);
    nowMs = (24 * 60 * 60_000) / 60; // one recorded day at 60× speed
    expect((await source.fetchQuote('BTCUSDT')).last).toBe('46762.99');
  });

  it('keeps symbols of one window aligned, the replay starting at the earliest candle of all files', async () => {
    const nowMs = 0;
    const source = new ReplayPriceSource(
      [
        fixturePath('klines/ETHUSDT-1m-2021-09-23.json'),
        fixturePath('klines/BTCUSDT-1m-2021-09-23.json'),
        fixturePath('klines/ETHUSDT-1m-2021-09-25.json'),
      ],
      { nowMs: () => nowMs },
    );
    expect(source.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(source.replayInstantMs()).toBe(1632355200000);
    expect((await source.fetchQuote('ETHUSDT')).last).toBe('3076.92');
    await expect(source.fetchQuote('DOGEUSDT')).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
  });

  it('serves and trades on the replayed price over HTTP', async () => {
    const t = await apps.build({ priceSource: new ReplayPriceSource([btc], { nowMs: () => 0 }) });
    const price = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
    expect(price.json()).toMatchObject({
      symbol: 'BTCUSDT',
      price: '46762.99',
      bid: '46762.99',
      ask: '46762.99',
      source: 'replay',
    });
  });
});
