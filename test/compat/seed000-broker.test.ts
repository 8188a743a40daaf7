/**
 * Seed 000's broker API over the real services: users, the own-wallet rule (403 for another user's,
 * as that seed has it), asset prices and trades as JSON numbers, and a clear 4xx for every failure.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, useTestApp } from '../helpers/app.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });
let alice: Awaited<ReturnType<typeof registerUser>>;
let bob: Awaited<ReturnType<typeof registerUser>>;

beforeAll(async () => {
  alice = await registerUser(t.app);
  bob = await registerUser(t.app);
  t.binance!.setQuote('DOGEUSDT', { last: '0.25', bid: '0.2499', ask: '0.2501' });
  t.binance!.setFilters('DOGEUSDT', { minQty: '1', maxQty: '9000000', stepSize: '1', minNotional: '1' });
});

function get(url: string, token = alice.token) {
  return t.app.inject({ method: 'GET', url, headers: bearer(token) });
}

function transaction(payload: unknown, token = alice.token) {
  return t.app.inject({
    method: 'POST',
    url: '/transaction',
    headers: bearer(token),
    payload: payload as object,
  });
}

describe('seed 000: users and wallets', () => {
  it('GET /get_user_by_id: the full profile for oneself, the public one for another user, 404 for none', async () => {
    const own = await get(`/get_user_by_id?user_id=${alice.userId}`);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: alice.userId, username: alice.username, email: null });
    const other = await get(`/get_user_by_id?user_id=${bob.userId}`);
    expect(other.json()).toEqual({ id: bob.userId, username: bob.username, created_at: expect.any(String) });
    expect((await get('/get_user_by_id?user_id=00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await get('/get_user_by_id?user_id=junk')).statusCode).toBe(422);
    expect((await get('/get_user_by_id')).statusCode).toBe(422);
  });

  it('GET /get_user_wallet_by_user_id: the own default wallet with JSON numbers; another user’s → 403', async () => {
    const own = await get(`/get_user_wallet_by_user_id?user_id=${alice.userId}`);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({
      id: alice.walletId,
      user_id: alice.userId,
      balance: 10000,
      balances: [{ asset: 'USDT', available: 10000, locked: 0 }],
    });
    const other = await get(`/get_user_wallet_by_user_id?user_id=${bob.userId}`);
    expect(other.statusCode).toBe(403);
    expect(other.json()).toEqual({ detail: expect.any(String) });
  });

  it('every route but /login and /new_user needs the JWT', async () => {
    for (const url of [`/get_user_by_id?user_id=${alice.userId}`, '/asset_data?asset_name=BTC']) {
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
    const res = await t.app.inject({
      method: 'POST',
      url: '/transaction',
      payload: { asset_name: 'BTC', amount: 0.01, transaction_type: 'buy' },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('seed 000: prices and trades', () => {
  it('GET /asset_data answers the price data with JSON numbers', async () => {
    const res = await get('/asset_data?asset_name=btc');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      asset_name: 'BTC',
      symbol: 'BTCUSDT',
      price: 60755.18,
      bid: 60755.18,
      ask: 60755.19,
      source: 'binance',
    });
    expect((await get('/asset_data?asset_name=NOPECOIN')).statusCode).toBe(404);
    expect((await get('/asset_data?asset_name=B%2FTC')).statusCode).toBe(422);
  });

  it('POST /transaction: buy, sell, short, close_short on the default wallet → {"status":"success"}', async () => {
    const user = await registerUser(t.app);
    for (const [transaction_type, amount] of [
      ['buy', 0.012],
      ['sell', 0.002],
      ['short', 1000],
      ['close_short', 1000],
    ] as const) {
      const res = await transaction(
        { asset_name: transaction_type.includes('short') ? 'DOGE' : 'BTC', amount, transaction_type },
        user.token,
      );
      expect(res.statusCode, transaction_type).toBe(200);
      expect(res.json()).toEqual({ status: 'success' });
    }
    const wallet = await get(`/get_user_wallet_by_user_id?user_id=${user.userId}`, user.token);
    expect(wallet.json().balances).toEqual(
      expect.arrayContaining([{ asset: 'BTC', available: 0.01, locked: 0 }]),
    );
    const orders = await get('/api/v1/orders', user.token);
    expect(orders.json().items.map((o: { side: string }) => o.side)).toEqual([
      'close_short',
      'short',
      'sell',
      'buy',
    ]);
  });

  it('answers every failure with a clear 4xx in the seed’s {"detail"} shape, and moves nothing', async () => {
    const user = await registerUser(t.app);
    const cases: [unknown, number][] = [
      [{ asset_name: 'BTC', amount: 1, transaction_type: 'buy' }, 400],
      [{ asset_name: 'BTC', amount: 0.01, transaction_type: 'sell' }, 400],
      [{ asset_name: 'BTC', amount: 0.01, transaction_type: 'close_short' }, 409],
      [{ asset_name: 'BTC', amount: 0.000015, transaction_type: 'buy' }, 422],
      [{ asset_name: 'BTC', amount: -1, transaction_type: 'buy' }, 422],
      [{ asset_name: 'BTC', amount: 0, transaction_type: 'buy' }, 422],
      [{ asset_name: 'BTC', amount: 'NaN', transaction_type: 'buy' }, 422],
      [{ asset_name: 'BTC', amount: 0.01, transaction_type: 'hold' }, 422],
      [{ asset_name: 'NOPECOIN', amount: 1, transaction_type: 'buy' }, 404],
      [{ amount: 1, transaction_type: 'buy' }, 422],
    ];
    for (const [payload, status] of cases) {
      const res = await transaction(payload, user.token);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json(), JSON.stringify(payload)).toHaveProperty('detail');
    }
    const wallet = await get(`/get_user_wallet_by_user_id?user_id=${user.userId}`, user.token);
    expect(wallet.json().balances).toEqual([{ asset: 'USDT', available: 10000, locked: 0 }]);
  });
});
