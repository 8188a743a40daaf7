/**
 * Every way a bet can be refused, in v1 and through seed 002's routes (errors in the v1 shape), and who may see a bet: each bad
 * request answers a 4xx (400 for a stake over the balance, 404 for an unknown symbol or another
 * user's bet, 422 for a bad field) and moves nothing — the wallet and the bet list are unchanged.
 * Also: an Idempotency-Key replays the first answer; a failing price source refuses with 503.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BetView } from '../../../src/modules/bets/index.js';
import { bearer, getWallet, registerUser, useTestApp } from '../../helpers/app.js';
import { postBet, postTrade, quoteAt } from './helpers.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });
let user: Awaited<ReturnType<typeof registerUser>>;

beforeAll(async () => {
  user = await registerUser(t.app);
  t.binance!.setQuote('BTCUSDT', quoteAt('50000'));
});
afterEach(() => {
  t.binance!.mode = 'ok';
});

async function snapshot(token = user.token, walletId = user.walletId) {
  const bets = await t.app.inject({ method: 'GET', url: '/api/v1/bets', headers: bearer(token) });
  return { wallet: await getWallet(t.app, token, walletId), bets: bets.json() };
}

const v1Valid = { symbol: 'BTCUSDT', direction: 'up', stake: '10', leverage: 5, duration_seconds: 60 };
const seedValid = { exchange: 'BTC', bet_amount: 10, leverage: 5, direction: 'up', time: 1 };

describe('bad bets change nothing', () => {
  const v1Cases: [string, unknown, number][] = [
    ['negative stake', { ...v1Valid, stake: '-1' }, 422],
    ['zero stake', { ...v1Valid, stake: 0 }, 422],
    ['stake below the minimum', { ...v1Valid, stake: '0.5' }, 422],
    ['stake with 9 decimals', { ...v1Valid, stake: '1.000000001' }, 422],
    ['huge stake (beyond NUMERIC)', { ...v1Valid, stake: '1234567890123456789012345678901234567' }, 422],
    ['stake over the balance', { ...v1Valid, stake: '10000.01' }, 400],
    ['huge stake within NUMERIC', { ...v1Valid, stake: '1000000000000' }, 400],
    [
      'stake × (leverage + 1) beyond the largest balance (10^15)',
      { ...v1Valid, stake: '10000000000000', leverage: 100 },
      422,
    ],
    ['leverage 0', { ...v1Valid, leverage: 0 }, 422],
    ['leverage 101', { ...v1Valid, leverage: 101 }, 422],
    ['leverage "x"', { ...v1Valid, leverage: 'x' }, 422],
    ['leverage 2.5', { ...v1Valid, leverage: 2.5 }, 422],
    ['direction sideways', { ...v1Valid, direction: 'sideways' }, 422],
    ['duration 0', { ...v1Valid, duration_seconds: 0 }, 422],
    ['duration −1', { ...v1Valid, duration_seconds: -1 }, 422],
    ['duration 0.5 s', { ...v1Valid, duration_seconds: 0.5 }, 422],
    ['duration 1e9 s', { ...v1Valid, duration_seconds: 1e9 }, 422],
    ['duration 7 days + 1 s', { ...v1Valid, duration_seconds: 604_801 }, 422],
    ['unknown symbol', { ...v1Valid, symbol: 'NOPEUSDT' }, 404],
    ['symbol with junk', { ...v1Valid, symbol: 'BTC/USDT;drop' }, 422],
    ['the cash asset itself (USDTUSDT)', { ...v1Valid, symbol: 'USDT' }, 404],
    ['missing direction', { symbol: 'BTCUSDT', stake: '10', leverage: 5, duration_seconds: 60 }, 422],
    ['missing stake', { symbol: 'BTCUSDT', direction: 'up', leverage: 5, duration_seconds: 60 }, 422],
    ['wallet id not a UUID', { ...v1Valid, wallet_id: 'abc' }, 422],
    [
      'another user’s / unknown wallet',
      { ...v1Valid, wallet_id: '00000000-0000-4000-8000-000000000000' },
      404,
    ],
    ['array body', [v1Valid], 422],
    ['malformed JSON', '{"symbol":', 400],
  ];
  it.each(v1Cases)('v1: %s → %i', async (_name, payload, status) => {
    const before = await snapshot();
    const res = await postBet(t.app, user.token, payload);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(await snapshot()).toEqual(before);
  });

  const seedCases: [string, unknown, number][] = [
    ['negative bet_amount', { ...seedValid, bet_amount: -5 }, 422],
    ['zero bet_amount', { ...seedValid, bet_amount: 0 }, 422],
    ['bet_amount over the balance', { ...seedValid, bet_amount: 20000 }, 400],
    [
      'bet_amount × (leverage + 1) beyond the largest balance',
      { ...seedValid, bet_amount: 10_000_000_000_000, leverage: 100 },
      422,
    ],
    ['leverage 0', { ...seedValid, leverage: 0 }, 422],
    ['leverage 101', { ...seedValid, leverage: 101 }, 422],
    ['leverage "x"', { ...seedValid, leverage: 'x' }, 422],
    ['direction sideways', { ...seedValid, direction: 'sideways' }, 422],
    ['time 0', { ...seedValid, time: 0 }, 422],
    ['time −1', { ...seedValid, time: -1 }, 422],
    ['time 1e9', { ...seedValid, time: 1e9 }, 422],
    ['time as text', { ...seedValid, time: 'soon' }, 422],
    ['unknown exchange', { ...seedValid, exchange: 'NOPE' }, 404],
    ['exchange with junk', { ...seedValid, exchange: '../etc' }, 422],
    ['missing exchange', { bet_amount: 10, leverage: 5, direction: 'up', time: 1 }, 422],
    ['missing time', { exchange: 'BTC', bet_amount: 10, leverage: 5, direction: 'up' }, 422],
    ['start_price an object', { ...seedValid, start_price: { x: 1 } }, 422],
  ];
  it.each(seedCases)('seed 002: %s → %i', async (_name, payload, status) => {
    const before = await snapshot();
    const res = await postTrade(t.app, user.token, payload);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses with 503 when no fresh price can be had, and moves nothing', async () => {
    // A symbol never priced before: no recent price to fall back on.
    t.binance!.setQuote('COLDUSDT', quoteAt('3'));
    const before = await snapshot();
    t.binance!.mode = 'error500';
    const res = await postBet(t.app, user.token, { ...v1Valid, symbol: 'COLDUSDT' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('PRICE_UNAVAILABLE');
    expect((await postTrade(t.app, user.token, { ...seedValid, exchange: 'COLD' })).statusCode).toBe(503);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 401 without a token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/bets', payload: v1Valid });
    expect(res.statusCode).toBe(401);
    const seed = await t.app.inject({ method: 'POST', url: '/api/v1/trade_it/', payload: seedValid });
    expect(seed.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/trade_status/x' })).statusCode).toBe(401);
  });
});

describe('who sees a bet', () => {
  it('answers another user’s bet, an unknown id and a junk id with 404, in both contracts', async () => {
    const other = await registerUser(t.app);
    const placed = await postBet(t.app, user.token, v1Valid);
    expect(placed.statusCode).toBe(201);
    const id = placed.json<BetView>().id;
    const ids = [id, '00000000-0000-4000-8000-000000000000', 'junk', '1', "1' or '1'='1", 'x'.repeat(64)];
    for (const betId of ids) {
      const v1 = await t.app.inject({
        method: 'GET',
        url: `/api/v1/bets/${encodeURIComponent(betId)}`,
        headers: bearer(other.token),
      });
      expect(v1.statusCode, betId).toBe(404);
      const seed = await t.app.inject({
        method: 'GET',
        url: `/api/v1/trade_status/${encodeURIComponent(betId)}`,
        headers: bearer(other.token),
      });
      expect(seed.statusCode, betId).toBe(404);
      expect(seed.json().error.code).toBe('NOT_FOUND');
    }
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/bets', headers: bearer(other.token) });
    expect(list.json()).toEqual({ items: [], next_cursor: null });
    const own = await t.app.inject({
      method: 'GET',
      url: `/api/v1/trade_status/${id}`,
      headers: bearer(user.token),
    });
    expect(own.json()).toEqual({ status: 'pending', result: null, profit: null });
  });

  it('lists the caller’s bets newest first, by status, a page at a time', async () => {
    const fresh = await registerUser(t.app);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postBet(t.app, fresh.token, v1Valid);
      ids.push(res.json<BetView>().id);
    }
    const page1 = await t.app.inject({
      method: 'GET',
      url: '/api/v1/bets?limit=2',
      headers: bearer(fresh.token),
    });
    const body1 = page1.json<{ items: BetView[]; next_cursor: string }>();
    expect(body1.items.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    const page2 = await t.app.inject({
      method: 'GET',
      url: `/api/v1/bets?limit=2&cursor=${body1.next_cursor}`,
      headers: bearer(fresh.token),
    });
    expect(page2.json()).toMatchObject({ items: [{ id: ids[0] }], next_cursor: null });
    const completed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/bets?status=completed',
      headers: bearer(fresh.token),
    });
    expect(completed.json()).toEqual({ items: [], next_cursor: null });
    for (const query of ['status=done', 'limit=0', 'limit=101', 'cursor=junk']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/bets?${query}`,
        headers: bearer(fresh.token),
      });
      expect(res.statusCode, query).toBe(422);
    }
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer and moves the stake once; another body with the key → 409', async () => {
    const fresh = await registerUser(t.app);
    const headers = { 'idempotency-key': 'bet-once-1' };
    const first = await postBet(t.app, fresh.token, v1Valid, headers);
    const again = await postBet(t.app, fresh.token, v1Valid, headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await postBet(t.app, fresh.token, { ...v1Valid, stake: '11' }, headers);
    expect(other.statusCode).toBe(409);
    const seedHeaders = { 'idempotency-key': 'trade-once-1' };
    const trade = await postTrade(t.app, fresh.token, seedValid, seedHeaders);
    const tradeAgain = await postTrade(t.app, fresh.token, seedValid, seedHeaders);
    expect(tradeAgain.body).toBe(trade.body);
    const wallet = await getWallet(t.app, fresh.token, fresh.walletId);
    expect(wallet.balances.find((b) => b.asset === 'USDT')).toEqual({
      asset: 'USDT',
      available: '9980',
      locked: '20',
    });
  });
});
