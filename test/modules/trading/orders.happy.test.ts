/**
 * The product's main job end to end over HTTP: register → login → price → buy → sell → balances,
 * against real PostgreSQL and a fake Binance that answers with the recorded 24 h ticker
 * (bid 60755.18, ask 60755.19). Every amount is checked to the last decimal, and the wallet's
 * balances are checked against the sum of its ledger entries.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, getWallet, postOrder, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

describe('register → login → price → buy → sell', () => {
  it('fills at the ask and the bid with the taker fee, and the wallet equals its ledger entries', async () => {
    const { app } = t;
    const registered = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: 'Alice', password: 'correct horse battery', email: 'alice@example.com' },
    });
    expect(registered.statusCode).toBe(201);
    const user = registered.json();
    expect(user).toMatchObject({
      user: { username: 'Alice', email: 'alice@example.com', role: 'user' },
      token_type: 'bearer',
    });
    expect(JSON.stringify(user)).not.toMatch(/password|\$2[aby]\$/);

    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'alice', password: 'correct horse battery' },
    });
    expect(login.statusCode).toBe(200);
    const { access_token: token, token_type, expires_in } = login.json();
    expect(token_type).toBe('bearer');
    expect(expires_in).toBe(900);

    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
    expect(me.json()).toMatchObject({ id: user.user.id, username: 'Alice' });

    const wallets = await app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(token) });
    const [wallet] = wallets.json().items;
    expect(wallet).toMatchObject({
      name: 'Main',
      is_default: true,
      balance: '10000',
      balances: [{ asset: 'USDT', available: '10000', locked: '0' }],
    });

    const price = await app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
    expect(price.statusCode).toBe(200);
    expect(price.json()).toMatchObject({
      symbol: 'BTCUSDT',
      price: '60755.18',
      bid: '60755.18',
      ask: '60755.19',
      source: 'binance',
      stale: false,
    });

    const buy = await postOrder(app, token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.01' });
    expect(buy.statusCode).toBe(201);
    // 60755.19 × 0.01 = 607.5519; fee 0.1 % = 0.6075519
    expect(buy.json()).toMatchObject({
      wallet_id: wallet.id,
      symbol: 'BTCUSDT',
      side: 'buy',
      quantity: '0.01',
      avg_fill_price: '60755.19',
      notional: '607.5519',
      fee: '0.6075519',
      status: 'filled',
      client_order_id: null,
    });

    const sell = await postOrder(app, token, { symbol: 'BTC', side: 'sell', quantity: 0.004 });
    expect(sell.statusCode).toBe(201);
    // 60755.18 × 0.004 = 243.02072; fee 0.24302072
    expect(sell.json()).toMatchObject({
      side: 'sell',
      avg_fill_price: '60755.18',
      notional: '243.02072',
      fee: '0.24302072',
    });

    const after = await getWallet(app, token, wallet.id);
    // 10000 − 607.5519 − 0.6075519 + 243.02072 − 0.24302072 = 9634.61824738
    const expectedUsdt = new Decimal(10000)
      .minus('607.5519')
      .minus('0.6075519')
      .plus('243.02072')
      .minus('0.24302072');
    expect(expectedUsdt.toFixed()).toBe('9634.61824738');
    expect(after).toMatchObject({
      balance: '9634.61824738',
      balances: [
        { asset: 'BTC', available: '0.006', locked: '0' },
        { asset: 'USDT', available: '9634.61824738', locked: '0' },
      ],
    });

    const fromEntries = await t.db.execute<{ asset: string; total: string }>(sql`
      select a.asset, sum(e.amount)::text as total
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
       where a.wallet_id = ${wallet.id}
       group by a.asset order by a.asset`);
    expect(fromEntries.rows.map((r) => [r.asset, new Decimal(r.total).toFixed()])).toEqual([
      ['BTC', '0.006'],
      ['USDT', '9634.61824738'],
    ]);

    const fees = await t.db.execute<{ total: string }>(sql`
      select sum(e.amount)::text as total from ledger_entries e join ledger_accounts a on a.id = e.account_id
       where a.code = 'system:fees:USDT'`);
    expect(new Decimal(fees.rows[0]!.total).toFixed()).toBe('0.85057262');

    const orders = await app.inject({ method: 'GET', url: '/api/v1/orders', headers: bearer(token) });
    expect(orders.json().items.map((o: { side: string }) => o.side)).toEqual(['sell', 'buy']);
    expect(orders.json().next_cursor).toBeNull();
  });

  it('pages through orders newest first with an opaque cursor', async () => {
    const { token } = await registerUser(t.app);
    for (let i = 0; i < 3; i++) {
      const placed = await postOrder(t.app, token, {
        symbol: 'BTCUSDT',
        side: 'buy',
        quantity: `0.00${i + 1}`,
      });
      expect(placed.statusCode).toBe(201);
    }
    const first = await t.app.inject({
      method: 'GET',
      url: '/api/v1/orders?limit=2',
      headers: bearer(token),
    });
    expect(first.json().items.map((o: { quantity: string }) => o.quantity)).toEqual(['0.003', '0.002']);
    const second = await t.app.inject({
      method: 'GET',
      url: `/api/v1/orders?limit=2&cursor=${first.json().next_cursor}`,
      headers: bearer(token),
    });
    expect(second.json()).toMatchObject({ items: [{ quantity: '0.001' }], next_cursor: null });
  });

  it('answers a repeated client_order_id with the first order and moves nothing', async () => {
    const { token, walletId } = await registerUser(t.app);
    const payload = { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001', client_order_id: 'bot-1' };
    const results = await Promise.all(Array.from({ length: 5 }, () => postOrder(t.app, token, payload)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    const wallet = await getWallet(t.app, token, walletId);
    expect(wallet.balances).toContainEqual({ asset: 'BTC', available: '0.001', locked: '0' });
  });

  it('serves one order by id exactly as placed, and another user’s as 404', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    const placed = await postOrder(t.app, alice.token, {
      symbol: 'BTCUSDT',
      side: 'buy',
      quantity: '0.001',
      client_order_id: 'as-placed',
    });
    const id = placed.json().id;
    expect(
      (
        await t.app.inject({ method: 'GET', url: `/api/v1/orders/${id}`, headers: bearer(alice.token) })
      ).json(),
    ).toEqual(placed.json());
    const other = await t.app.inject({
      method: 'GET',
      url: `/api/v1/orders/${id}`,
      headers: bearer(bob.token),
    });
    expect(other.statusCode).toBe(404);
    const otherWallet = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${alice.walletId}`,
      headers: bearer(bob.token),
    });
    expect(otherWallet.statusCode).toBe(404);
    const malformed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallets/not-a-uuid',
      headers: bearer(bob.token),
    });
    expect(malformed.statusCode).toBe(404);
    expect(malformed.json().error.code).toBe('NOT_FOUND');
  });
});
