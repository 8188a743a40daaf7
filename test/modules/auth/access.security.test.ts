/**
 * The one authorisation rule (SPEC C3): a user reads and changes only their own wallets and orders,
 * another user's answering 404 like a missing one; an admin reads anyone's but changes only their
 * own (a deposit into another user's wallet is still 404 for an admin, and moves nothing).
 */
import { describe, expect, it } from 'vitest';
import { bearer, getWallet, postOrder, registerAdmin, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

describe('access control', () => {
  it('lets an admin read another user’s wallet, history and order, and a user none of them', async () => {
    const owner = await registerUser(t.app);
    const stranger = await registerUser(t.app);
    const order = await postOrder(t.app, owner.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' });
    expect(order.statusCode).toBe(201);
    const urls = [
      `/api/v1/wallets/${owner.walletId}`,
      `/api/v1/wallets/${owner.walletId}/transactions`,
      `/api/v1/orders/${order.json().id}`,
    ];
    const admin = await registerAdmin(t.app, t.db);
    for (const url of urls) {
      const asAdmin = await t.app.inject({ method: 'GET', url, headers: bearer(admin) });
      expect(asAdmin.statusCode, url).toBe(200);
      const asStranger = await t.app.inject({ method: 'GET', url, headers: bearer(stranger.token) });
      expect(asStranger.statusCode, url).toBe(404);
      expect(asStranger.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('lets nobody but the owner move money, admins included', async () => {
    const owner = await registerUser(t.app);
    const admin = await registerAdmin(t.app, t.db);
    const before = await getWallet(t.app, owner.token, owner.walletId);
    for (const operation_type of ['DEPOSIT', 'WITHDRAW']) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/wallets/${owner.walletId}/operation`,
        headers: bearer(admin),
        payload: { operation_type, amount: '1' },
      });
      expect(res.statusCode).toBe(404);
    }
    const order = await postOrder(t.app, admin, {
      wallet_id: owner.walletId,
      symbol: 'BTCUSDT',
      side: 'buy',
      quantity: '0.001',
    });
    expect(order.statusCode).toBe(404);
    expect(await getWallet(t.app, owner.token, owner.walletId)).toEqual(before);
  });
});
