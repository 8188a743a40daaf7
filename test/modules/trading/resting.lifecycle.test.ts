/**
 * A resting order's life after it is placed: cancel (and the 409/404 around it), cancel-all,
 * cancel-replace, OCO both ways, the 200-order limit, the open list, the liquidation of a short
 * expiring its closes, and the events on the owner's account stream.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/shared/decimal.js';
import {
  bearer,
  expectLedgerSound,
  getWallet,
  postOrder,
  registerUser,
  useTestApp,
} from '../../helpers/app.js';
import { movePrice, type OrderBody, placeOk, type TestQuote, waitForOrder } from '../../helpers/resting.js';

const t = useTestApp({
  env: { PRICE_CACHE_TTL_MS: '0', LIQUIDATION_CHECK_INTERVAL_MS: '3600000' },
  jobs: true,
});

const START: TestQuote = { last: '60000', bid: '59999.99', ask: '60000' };
const limitBuy = (price: string, extra: Record<string, unknown> = {}) => ({
  symbol: 'BTC',
  side: 'buy',
  type: 'limit',
  price,
  quantity: '0.01',
  ...extra,
});
const usdt = async (token: string, walletId: string) =>
  (await getWallet(t.app, token, walletId)).balances.find((b) => b.asset === 'USDT')!;

describe('resting orders: cancel, cancel-all, replace', () => {
  it('cancels an open order and gives its reservation back; a second cancel is 409, another user’s 404', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const before = await usdt(token, walletId);
    const order = await placeOk(t.app, token, limitBuy('59000'));
    expect((await usdt(token, walletId)).locked).toBe('590.59');
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/orders/${order.id}`,
      headers: bearer(token),
    });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json()).toMatchObject({ id: order.id, status: 'canceled' });
    expect(await usdt(token, walletId)).toEqual(before);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/orders/${order.id}`,
      headers: bearer(token),
    });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'ORDER_NOT_OPEN']);
    const other = await registerUser(t.app);
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/orders/${order.id}`,
      headers: bearer(other.token),
    });
    expect(foreign.statusCode).toBe(404);
    await expectLedgerSound(t.db);
  });

  it('cancels every open order of a symbol, and only those', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    await movePrice(t.app, t.binance!, 'ETHUSDT', { last: '3000', bid: '2999.99', ask: '3000' });
    const { token, walletId } = await registerUser(t.app);
    const a = await placeOk(t.app, token, limitBuy('59000'));
    const b = await placeOk(t.app, token, limitBuy('58000'));
    const eth = await placeOk(t.app, token, { ...limitBuy('2900'), symbol: 'ETH', quantity: '0.1' });
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/orders?symbol=BTC',
      headers: bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(
      res
        .json()
        .items.map((o: OrderBody) => o.id)
        .sort(),
    ).toEqual([a.id, b.id].sort());
    const open = await t.app.inject({
      method: 'GET',
      url: '/api/v1/orders?status=open',
      headers: bearer(token),
    });
    expect(open.json().items.map((o: OrderBody) => o.id)).toEqual([eth.id]);
    expect((await usdt(token, walletId)).locked).toBe('290.29');
    await expectLedgerSound(t.db);
  });

  it('cancel-replace: a new order in the old one’s place, the reservation moved, both or neither', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const old = await placeOk(t.app, token, limitBuy('59000'));
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/orders/${old.id}`,
      headers: bearer(token),
      payload: { price: '58000', quantity: '0.02' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const placed: OrderBody = res.json();
    expect(placed).toMatchObject({ status: 'new', price: '58000', quantity: '0.02', type: 'limit' });
    const canceled = (
      await t.app.inject({ method: 'GET', url: `/api/v1/orders/${old.id}`, headers: bearer(token) })
    ).json();
    expect(canceled).toMatchObject({ status: 'canceled', replaced_by: placed.id });
    expect((await usdt(token, walletId)).locked).toBe('1161.16');
    // A replacement the wallet cannot pay for changes nothing.
    const tooBig = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/orders/${placed.id}`,
      headers: bearer(token),
      payload: { quantity: '1' },
    });
    expect([tooBig.statusCode, tooBig.json().error.code]).toEqual([400, 'INSUFFICIENT_FUNDS']);
    expect(
      (
        await t.app.inject({ method: 'GET', url: `/api/v1/orders/${placed.id}`, headers: bearer(token) })
      ).json().status,
    ).toBe('new');
    const crossing = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/orders/${placed.id}`,
      headers: bearer(token),
      payload: { price: '60500' },
    });
    expect([crossing.statusCode, crossing.json().error.code]).toEqual([422, 'WOULD_MATCH_IMMEDIATELY']);
    expect((await usdt(token, walletId)).locked).toBe('1161.16');
    await expectLedgerSound(t.db);
  });

  it('refuses a 201st open order in a wallet with 409', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token } = await registerUser(t.app);
    for (let i = 0; i < 200; i++) {
      const res = await postOrder(t.app, token, { ...limitBuy('30000'), quantity: '0.001' });
      expect(res.statusCode, res.body).toBe(201);
    }
    const res = await postOrder(t.app, token, { ...limitBuy('30000'), quantity: '0.001' });
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'TOO_MANY_OPEN_ORDERS']);
    await expectLedgerSound(t.db);
  });
});

describe('OCO', () => {
  async function sellOco(token: string) {
    await placeOk(t.app, token, { symbol: 'BTC', side: 'buy', quantity: '0.01' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/orders/oco',
      headers: bearer(token),
      payload: { symbol: 'BTC', side: 'sell', quantity: '0.01', price: '61000', stop_price: '59000' },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; orders: OrderBody[] };
  }

  it('a sell OCO reserves the base once; the limit leg filling cancels the stop leg', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const oco = await sellOco(token);
    expect(oco.orders.map((o) => [o.type, o.order_list_id])).toEqual([
      ['limit_maker', oco.id],
      ['stop_loss', oco.id],
    ]);
    const btc = (await getWallet(t.app, token, walletId)).balances.find((b) => b.asset === 'BTC')!;
    expect(btc).toMatchObject({ available: '0', locked: '0.01' });
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '61100', bid: '61100', ask: '61100.01' });
    const [limit, stop] = oco.orders;
    expect(await waitForOrder(t.app, token, limit!.id, (o) => o.status !== 'new')).toMatchObject({
      status: 'filled',
      avg_fill_price: '61000',
      fills: [{ liquidity: 'maker' }],
    });
    expect(await waitForOrder(t.app, token, stop!.id, (o) => o.status !== 'new')).toMatchObject({
      status: 'canceled',
    });
    const after = await getWallet(t.app, token, walletId);
    // Sold whole: no BTC left, none locked (an asset at zero is not listed).
    expect(after.balances.find((b) => b.asset === 'BTC') ?? { available: '0', locked: '0' }).toMatchObject({
      available: '0',
      locked: '0',
    });
    await expectLedgerSound(t.db);
  });

  it('the stop leg triggering cancels the limit leg; canceling one leg cancels the OCO', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token } = await registerUser(t.app);
    const oco = await sellOco(token);
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '58900', bid: '58899.99', ask: '58900' });
    const [limit, stop] = oco.orders;
    expect(await waitForOrder(t.app, token, stop!.id, (o) => o.status !== 'new')).toMatchObject({
      status: 'filled',
      avg_fill_price: '58899.99',
      fills: [{ liquidity: 'taker' }],
    });
    expect((await waitForOrder(t.app, token, limit!.id, (o) => o.status !== 'new')).status).toBe('canceled');

    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const second = await sellOco(token);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/orders/${second.orders[1]!.id}`,
      headers: bearer(token),
    });
    expect(del.statusCode, del.body).toBe(200);
    expect((await waitForOrder(t.app, token, second.orders[0]!.id, (o) => o.status !== 'new')).status).toBe(
      'canceled',
    );
    await expectLedgerSound(t.db);
  });

  it('a buy OCO reserves its dearer leg once, and refuses legs on the wrong side of the market', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/orders/oco',
      headers: bearer(token),
      payload: {
        symbol: 'BTC',
        side: 'buy',
        quantity: '0.01',
        price: '59000',
        stop_price: '61000',
        stop_limit_price: '61500',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().orders.map((o: OrderBody) => o.type)).toEqual(['limit_maker', 'stop_loss_limit']);
    // The stop-limit leg at 61500 is the dearer: 615 + 0.615.
    expect((await usdt(token, walletId)).locked).toBe('615.615');
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/orders/oco',
      headers: bearer(token),
      payload: { symbol: 'BTC', side: 'buy', quantity: '0.01', price: '60500', stop_price: '61000' },
    });
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([422, 'WOULD_MATCH_IMMEDIATELY']);
    await expectLedgerSound(t.db);
  });
});

describe('resting orders and the rest of the product', () => {
  it('a liquidation expires the position’s resting closes and gives their reservations back', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    await placeOk(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.1' });
    const close = await placeOk(t.app, token, {
      symbol: 'BTC',
      side: 'close_short',
      type: 'limit',
      price: '50000',
      quantity: '0.1',
    });
    expect(close.position_id).not.toBeNull();
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '70200', bid: '70199.99', ask: '70200' });
    expect(await waitForOrder(t.app, token, close.id, (o) => o.status !== 'new')).toMatchObject({
      status: 'expired',
    });
    const wallet = await getWallet(t.app, token, walletId);
    expect(wallet.balances.find((b) => b.asset === 'USDT')!.locked).toBe('0');
    await expectLedgerSound(t.db);
  });

  it('announces accepted, filled and canceled on the owner’s account stream, data as GET answers it', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, userId } = await registerUser(t.app);
    const seen: { event: string; data: OrderBody }[] = [];
    const unsubscribe = await t.events.subscribe(`account:${userId}`, (payload) => {
      seen.push(payload as { event: string; data: OrderBody });
    });
    const rest = await placeOk(t.app, token, limitBuy('59000'));
    const other = await placeOk(t.app, token, limitBuy('58000'));
    await t.app.inject({ method: 'DELETE', url: `/api/v1/orders/${other.id}`, headers: bearer(token) });
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '58900', bid: '58899.99', ask: '58900' });
    const filled = await waitForOrder(t.app, token, rest.id, (o) => o.status === 'filled');
    const deadline = Date.now() + 3000;
    while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await unsubscribe();
    expect(seen.map((e) => [e.event, e.data.id])).toEqual([
      ['order.accepted', rest.id],
      ['order.accepted', other.id],
      ['order.canceled', other.id],
      ['order.filled', rest.id],
    ]);
    expect(seen[3]!.data).toEqual(filled);
  });

  it('keeps the wallet’s locked balance equal to its reservations at every step', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const a = await placeOk(t.app, token, limitBuy('59000'));
    await placeOk(t.app, token, limitBuy('58000'));
    expect(new Decimal((await usdt(token, walletId)).locked).toFixed()).toBe('1171.17');
    await t.app.inject({ method: 'DELETE', url: `/api/v1/orders/${a.id}`, headers: bearer(token) });
    expect((await usdt(token, walletId)).locked).toBe('580.58');
    await expectLedgerSound(t.db);
  });
});
