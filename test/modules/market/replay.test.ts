/**
 * The replay never shows the future (issue 22, point 2), over HTTP on a clock the test moves: the
 * current candle is partial on every interval, the 24 h ticker covers only the replayed past, a
 * symbol has no price before its first candle, the replay clock skips the gaps no file covers, and
 * every time is on one axis (the replay instant reads as now). Also `fetchPricesAt`: the price at a
 * past instant is the quote the source gave when the clock read that instant.
 */
import { describe, expect, it } from 'vitest';
import { ReplayPriceSource } from '../../../src/modules/market/index.js';
import { useAppFactory } from '../../helpers/app.js';
import { manualClock } from '../../helpers/clock.js';
import { fixturePath } from '../../helpers/fixtures.js';

const apps = useAppFactory();
const START_MS = Date.parse('2026-12-02T10:00:00Z');
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const btcMay16 = fixturePath('klines/BTCUSDT-1m-2021-05-16.json');
const ethSep23 = fixturePath('klines/ETHUSDT-1m-2021-09-23.json');
const ethSep24 = fixturePath('klines/ETHUSDT-1m-2021-09-24.json');
const ethSep25 = fixturePath('klines/ETHUSDT-1m-2021-09-25.json');
const btcSep24 = fixturePath('klines/BTCUSDT-1m-2021-09-24.json');
// BTCUSDT 2021-05-16, first candle: open 46762.99, high 46995.00, low 46754.31, close 46969.15,
// volume 150.908437 (rising: open → low → high → close, each leg 20 s).

async function replayApp(files: string[]) {
  const clock = manualClock(START_MS);
  const source = new ReplayPriceSource(files, clock);
  const t = await apps.build({ priceSource: source, clock, env: { PRICE_CACHE_TTL_MS: '0' } });
  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };
  return { clock, source, get };
}

describe('the replay shows no future', () => {
  it('5 s into the replay, the current 1m candle is partial and no later candle exists', async () => {
    const { clock, get } = await replayApp([btcMay16]);
    clock.advance(5_000);
    const price = (await get('/api/v1/market/prices/BTC')).body.price;
    expect(price).toBe('46760.82'); // a quarter of the way from the open to the low
    const candles = await get('/api/v1/market/candles/BTC?interval=1m&limit=3');
    console.log('candles 1m 5 s into the replay:', JSON.stringify(candles.body.items), 'price', price);
    expect(candles.body.items).toEqual([
      {
        open_time: new Date(START_MS).toISOString(),
        open: '46762.99',
        high: '46762.99',
        low: '46760.82',
        close: price,
        volume: '12.57570308', // 150.908437 × 5 / 60, rounded down
        close_time: new Date(START_MS + MINUTE_MS - 1).toISOString(),
      },
    ]);
  });

  it.each(['5m', '1h', '1d'] as const)(
    'the current %s candle is cut at the replay instant',
    async (interval) => {
      const { clock, get } = await replayApp([btcMay16]);
      clock.advance(MINUTE_MS + 30_000); // half way through the second candle: open → high leg done
      const price = (await get('/api/v1/market/prices/BTC')).body.price;
      const items = (await get(`/api/v1/market/candles/BTC?interval=${interval}&limit=5`)).body.items;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ open: '46762.99', high: '47101.8', low: '46754.31', close: price });
    },
  );

  it('the 24 h ticker covers only the replayed past', async () => {
    const { clock, get } = await replayApp([btcMay16]);
    clock.advance(5_000);
    const ticker = await get('/api/v1/market/tickers/BTC');
    console.log('ticker 5 s into the replay:', JSON.stringify(ticker.body));
    expect(ticker.body).toMatchObject({
      open: '46762.99',
      high: '46762.99',
      low: '46760.82',
      last: '46760.82',
      volume: '12.57570308',
      open_time: new Date(START_MS).toISOString(),
      close_time: new Date(START_MS + 5_000).toISOString(),
    });
  });

  it('a symbol has no price before its first candle, and the clock skips the gap between files', async () => {
    const { clock, source, get } = await replayApp([btcMay16, ethSep23, btcSep24]);
    const eth = await get('/api/v1/market/prices/ETH');
    console.log('ETH at the replay start (2021-05-16):', eth.status, JSON.stringify(eth.body));
    expect(eth.status).toBe(503);
    expect(eth.body.error.code).toBe('PRICE_UNAVAILABLE');
    expect((await get('/api/v1/market/tickers/ETH')).status).toBe(503);
    expect((await get('/api/v1/market/prices?symbols=BTC,ETH')).status).toBe(503);
    expect((await get('/api/v1/market/candles/ETH?interval=1d')).body.items).toEqual([]);
    // One recorded day later the replay is at ETH's first candle, not four months into the gap.
    clock.advance(DAY_MS);
    console.log('replay instant one day in:', new Date(source.replayInstantMs()).toISOString());
    expect(source.replayInstantMs()).toBe(Date.parse('2021-09-23T00:00:00Z'));
    expect((await get('/api/v1/market/prices/ETH')).body.price).toBe('3076.92');
    // BTC has no candle there: it shows its latest, the close of 2021-05-16 23:59, never the open
    // of its next recording (2021-09-24), all day long.
    expect((await get('/api/v1/market/prices/BTC')).body.price).toBe('46431.5');
    const batch = (await get('/api/v1/market/prices?symbols=BTC,ETH')).body;
    expect(batch.items.map((p: { price: string }) => p.price)).toEqual(['46431.5', '3076.92']);
    clock.advance(DAY_MS - 1);
    expect((await get('/api/v1/market/prices/BTC')).body.price).toBe('46431.5');
    clock.advance(1);
    expect((await get('/api/v1/market/prices/BTC')).body.price).toBe('44865.26'); // 2021-09-24's first open
  });

  it('with several days, the ticker’s open_time is never after its close_time', async () => {
    const { clock, get } = await replayApp([btcMay16, ethSep23, ethSep24, ethSep25]);
    const before = await get('/api/v1/market/tickers/ETH');
    console.log('ETH ticker at the replay start:', before.status, JSON.stringify(before.body));
    expect(before.status).toBe(503);
    clock.advance(DAY_MS + 2 * DAY_MS + 3_600_000); // 2021-09-25T01:00Z
    const ticker = (await get('/api/v1/market/tickers/ETH')).body;
    expect(ticker.close_time).toBe(new Date(clock.nowMs()).toISOString());
    expect(ticker.open_time).toBe(new Date(clock.nowMs() - DAY_MS + MINUTE_MS).toISOString());
    expect(ticker.last).toBe((await get('/api/v1/market/prices/ETH')).body.price);
  });
});

describe('ReplayPriceSource.fetchPricesAt', () => {
  it('prices each past instant as fetchQuote did when the clock read it; other instants are left out', async () => {
    const clock = manualClock(START_MS);
    const source = new ReplayPriceSource([btcMay16, ethSep23], clock, 8);
    const seen = new Map<number, string>();
    for (const stepMs of [0, 1, 333, 19_999, 20_000, 45_123, 3_600_000, DAY_MS / 8, 1, 59_999, DAY_MS]) {
      clock.advance(stepMs);
      seen.set(clock.nowMs(), (await source.fetchQuote('BTCUSDT')).last);
    }
    const instants = [...seen.keys()];
    const found = await source.fetchPricesAt('BTCUSDT', [...instants].reverse());
    for (const atMs of instants) expect(found.get(atMs)).toEqual({ price: seen.get(atMs), atMs });
    // Before the replay started, and after now, the source cannot say.
    const outside = await source.fetchPricesAt('BTCUSDT', [START_MS - 1, clock.nowMs() + 1]);
    expect(outside.size).toBe(0);
    // ETH has no price until the replay reaches 2021-09-23.
    const eth = await source.fetchPricesAt('ETHUSDT', [START_MS, START_MS + DAY_MS / 8]);
    expect([...eth.entries()]).toEqual([
      [START_MS + DAY_MS / 8, { price: '3076.92', atMs: START_MS + DAY_MS / 8 }],
    ]);
    await expect(source.fetchPricesAt('DOGEUSDT', [START_MS])).rejects.toMatchObject({
      code: 'UNKNOWN_SYMBOL',
    });
  });
});
