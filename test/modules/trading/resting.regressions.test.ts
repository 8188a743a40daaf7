/**
 * Answers the resting-order routes got wrong, found by resting.property.test.ts: a close_short limit
 * with IOC or FOK that cannot fill at once was written expired without the short it names, which the
 * orders table refuses (orders_position_check), and the client got 500. It now expires like any
 * other side when a short is open (201, status expired, nothing moved), and is refused with 409
 * NO_OPEN_SHORT when none is, as a resting close_short is.
 */
import { describe, expect, it } from 'vitest';
import { expectLedgerSound, getWallet, postOrder, registerUser, useTestApp } from '../../helpers/app.js';
import { movePrice, placeOk } from '../../helpers/resting.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });

describe('a close_short limit with IOC or FOK that cannot fill at once', () => {
  it.each(['ioc', 'fok'])('%s: 409 NO_OPEN_SHORT without a short, expired (201) with one', async (tif) => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '60000', bid: '59999.99', ask: '60000' });
    const { token, walletId } = await registerUser(t.app);
    const close = {
      symbol: 'BTC',
      side: 'close_short',
      type: 'limit',
      price: '59000',
      quantity: '0.01',
      time_in_force: tif,
    };
    const none = await postOrder(t.app, token, close);
    expect([none.statusCode, none.json().error.code], none.body).toEqual([409, 'NO_OPEN_SHORT']);

    const short = await placeOk(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.01' });
    const before = await getWallet(t.app, token, walletId);
    const expired = await placeOk(t.app, token, close);
    expect(expired).toMatchObject({ status: 'expired', position_id: short.position_id, fills: [] });
    expect(await getWallet(t.app, token, walletId)).toEqual(before);
    await expectLedgerSound(t.db);
  });
});
