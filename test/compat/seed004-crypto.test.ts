/**
 * Seed 004's crypto contract, replayed as its document gives it, over the real app (Binance as the
 * price source, CoinGecko for names, both fake HTTP servers on loopback): register → token → add
 * BTC, ETH, DOGE → list → refresh → history → stats → delete, with each answer's exact shape and
 * JSON types, every error status the seed lists (400, 401, 404, 409), case-insensitive symbols, and
 * junk in bodies and paths answered 4xx, never 500.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/shared/decimal.js';
import type { FakeBinance } from '../helpers/fake-binance.js';
import { useTrackingApp } from '../helpers/tracking.js';

const t = useTrackingApp(() => ({}));
let binance: FakeBinance;
/** seed 004's own token, from `POST /auth/register` */
let token: string;

beforeAll(async () => {
  const registered = await t.built.app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { username: 'tracker', password: 'password123' },
  });
  expect(registered.statusCode).toBe(201);
  token = registered.json().token;
  binance = t.built.binance!;
  binance.setQuote('BTCUSDT', { last: '45000.5', bid: '45000.4', ask: '45000.6' });
  binance.setQuote('ETHUSDT', { last: '3000.25', bid: '3000.2', ask: '3000.3' });
  binance.setQuote('DOGEUSDT', { last: '0.08123456', bid: '0.0812', ask: '0.0813' });
  binance.setQuote('XRPUSDT', { last: '0.5', bid: '0.4999', ask: '0.5001' });
});

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  t.callAs(token, method, url, payload);

const cryptoShape = (symbol: string, name: string, price: number) => ({
  symbol,
  name,
  current_price: price,
  last_updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
});

describe('seed 004 /crypto', () => {
  it('runs the whole flow: add → list → refresh → history → stats → delete', async () => {
    const btc = await call('POST', '/crypto', { symbol: 'BTC' });
    expect(btc.statusCode).toBe(201);
    expect(btc.json()).toEqual({ crypto: cryptoShape('BTC', 'Bitcoin', 45000.5) });
    expect((await call('POST', '/crypto', { symbol: 'eth' })).json()).toEqual({
      crypto: cryptoShape('ETH', 'Ethereum', 3000.25),
    });
    expect((await call('POST', '/crypto', { symbol: 'Doge' })).json()).toEqual({
      crypto: cryptoShape('DOGE', 'Dogecoin', 0.08123456),
    });

    const list = await call('GET', '/crypto');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      cryptos: [
        cryptoShape('BTC', 'Bitcoin', 45000.5),
        cryptoShape('ETH', 'Ethereum', 3000.25),
        cryptoShape('DOGE', 'Dogecoin', 0.08123456),
      ],
    });
    expect((await call('GET', '/crypto/BTC')).json()).toEqual(cryptoShape('BTC', 'Bitcoin', 45000.5));

    // Each refresh appends one price; lower and mixed case reach the same record.
    binance.setQuote('BTCUSDT', { last: '46000', bid: '45999', ask: '46001' });
    const refreshed = await call('PUT', '/crypto/btc/refresh');
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json()).toEqual({ crypto: cryptoShape('BTC', 'Bitcoin', 46000) });
    binance.setQuote('BTCUSDT', { last: '44000.12345678', bid: '44000', ask: '44001' });
    expect((await call('PUT', '/crypto/bTc/refresh')).json().crypto.current_price).toBe(44000.12345678);

    const history = await call('GET', '/crypto/Btc/history');
    expect(history.statusCode).toBe(200);
    expect(history.json()).toEqual({
      symbol: 'BTC',
      history: [
        { price: 44000.12345678, timestamp: expect.any(String) },
        { price: 46000, timestamp: expect.any(String) },
        { price: 45000.5, timestamp: expect.any(String) },
      ],
    });
    const times = history.json().history.map((p: { timestamp: string }) => Date.parse(p.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const stats = await call('GET', '/crypto/btc/stats');
    expect(stats.statusCode).toBe(200);
    // By hand: newest 44000.12345678, oldest 45000.5; change −1000.37654322; mean of the three.
    const avg = new Decimal('45000.5').plus('46000').plus('44000.12345678').div(3);
    expect(stats.json()).toEqual({
      symbol: 'BTC',
      current_price: 44000.12345678,
      stats: {
        min_price: 44000.12345678,
        max_price: 46000,
        avg_price: Number(avg.toDecimalPlaces(8).toFixed()),
        price_change: -1000.37654322,
        price_change_percent: -2.22,
        records_count: 3,
      },
    });

    const deleted = await call('DELETE', '/crypto/BTC');
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({});
    for (const url of ['/crypto/BTC', '/crypto/btc/history', '/crypto/BTC/stats']) {
      const gone = await call('GET', url);
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toEqual({ error: expect.any(String) });
    }
    const rows = await t.database.db.$client.query(
      'select count(*)::int as n from tracked_price_history h where not exists (select 1 from tracked_cryptos c where c.id = h.tracked_id)',
    );
    expect(rows.rows[0].n).toBe(0);
    // Added again, it starts a new history of one price.
    expect((await call('POST', '/crypto', { symbol: 'btc' })).statusCode).toBe(201);
    expect((await call('GET', '/crypto/BTC/history')).json().history).toHaveLength(1);
  });

  it('answers 409 for a symbol already tracked, in any case', async () => {
    await call('POST', '/crypto', { symbol: 'ETH' });
    for (const symbol of ['ETH', 'eth', 'EtH', 'ETHUSDT']) {
      const again = await call('POST', '/crypto', { symbol });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toEqual({ error: expect.any(String) });
    }
  });

  it('answers 400 for a ticker no coin has, with no upstream price request and nothing stored', async () => {
    const before = (await call('GET', '/crypto')).json().cryptos.length;
    const unknown = await call('POST', '/crypto', { symbol: 'NOPEZZ' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: expect.any(String) });
    expect((await call('GET', '/crypto')).json().cryptos).toHaveLength(before);
  });

  it.each([
    ['empty symbol', { symbol: '' }],
    ['overlong symbol', { symbol: 'B'.repeat(40) }],
    ['21 characters', { symbol: 'A'.repeat(21) }],
    ['odd characters', { symbol: 'BTC/USD' }],
    ['spaces', { symbol: ' BTC ' }],
    ['unicode', { symbol: 'ВТС' }],
    ['number', { symbol: 42 }],
    ['null', { symbol: null }],
    ['missing symbol', {}],
    ['array body', [{ symbol: 'BTC' }]],
    ['malformed JSON', '{"symbol": "BTC",'],
  ])('answers 400 {"error"} for a bad body: %s', async (_name, payload) => {
    const res = await call('POST', '/crypto', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String) });
  });

  it.each([
    ['GET', '/crypto/NOPEZZ', 404],
    ['GET', '/crypto/NOPEZZ/history', 404],
    ['GET', '/crypto/NOPEZZ/stats', 404],
    ['PUT', '/crypto/NOPEZZ/refresh', 404],
    ['DELETE', '/crypto/NOPEZZ', 404],
    ['GET', '/crypto/BTC%2FUSD', 400],
    ['GET', '/crypto/%20BTC', 400],
    ['GET', `/crypto/${'X'.repeat(33)}`, 400],
    ['PUT', '/crypto/..%2F..%2Fetc/refresh', 400],
    ['DELETE', '/crypto/%00', 400],
    ['GET', '/crypto/ETH/junk', 404],
    ['GET', '/crypto/ETH/history/more', 404],
  ] as const)('%s %s → %i {"error"}, never 500', async (method, url, status) => {
    const res = await call(method, url);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: expect.any(String) });
  });

  it('answers 401 {"error"} on every route without a token', async () => {
    for (const [method, url] of [
      ['GET', '/crypto'],
      ['POST', '/crypto'],
      ['GET', '/crypto/ETH'],
      ['PUT', '/crypto/ETH/refresh'],
      ['GET', '/crypto/ETH/history'],
      ['GET', '/crypto/ETH/stats'],
      ['DELETE', '/crypto/ETH'],
    ] as const) {
      const res = await t.built.app.inject({
        method,
        url,
        payload: method === 'POST' ? { symbol: 'SOL' } : undefined,
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: expect.any(String) });
    }
    expect((await call('GET', '/crypto/ETH')).statusCode).toBe(200);
  });

  it('answers 503 {"error"}, never 500, when CoinGecko cannot name a new coin, storing nothing', async () => {
    // XRP is shared by several coins: naming it needs /coins/markets, which fails here.
    t.coingecko.mode = 'error500';
    t.coingecko.failPath = '/coins/markets';
    t.coingecko.setMarket('ripple', { marketCap: 30_000_000_000, rank: 6 });
    try {
      const res = await call('POST', '/crypto', { symbol: 'XRP' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: expect.any(String) });
    } finally {
      t.coingecko.mode = 'ok';
      t.coingecko.failPath = undefined;
    }
    expect((await call('GET', '/crypto/XRP')).statusCode).toBe(404);
    const later = await call('POST', '/crypto', { symbol: 'XRP' });
    expect(later.json()).toEqual({ crypto: cryptoShape('XRP', 'XRP', 0.5) });
  });

  it('answers 503 {"error"} when no price can be had, and keeps the history', async () => {
    const before = (await call('GET', '/crypto/ETH/history')).json().history;
    binance.mode = 'error500';
    try {
      const res = await call('PUT', '/crypto/ETH/refresh');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: expect.any(String) });
    } finally {
      binance.mode = 'ok';
    }
    expect((await call('GET', '/crypto/ETH/history')).json().history).toEqual(before);
  });
});
