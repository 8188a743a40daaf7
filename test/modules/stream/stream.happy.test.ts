/**
 * The WebSocket stream as a bot or the web terminal uses it (issue 15, SPEC §3 "Streams"), through the
 * `ws` client on a loopback socket:
 * - subscribe in both spellings (answered in the canonical one), unsubscribe, ping → pong;
 * - a watched price is sent at once, then pushed when it changes (refreshed by the server, with no
 *   client asking), and not sent again while it stays the same;
 * - every kind of account event — order.filled, wallet.operation, bet.settled, position.liquidated —
 *   with `data` exactly what the REST route answers for that resource;
 * - one user never sees another's events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bearer, postOrder, registerUser, useTestApp } from '../../helpers/app.js';
import { originOf, type StreamMessage, TestSocket } from '../../helpers/stream-client.js';
import { postBet, quoteAt } from '../bets/helpers.js';

const t = useTestApp({
  env: { PRICE_CACHE_TTL_MS: '0', RATE_LIMIT_PER_USER_PER_MIN: '0', LIQUIDATION_CHECK_INTERVAL_MS: '200' },
  jobs: true,
});

const isTick = (symbol: string) => (m: StreamMessage) => m.channel === `prices:${symbol}`;
const isEvent = (event: string) => (m: StreamMessage) => m.channel === 'account' && m.event === event;

async function get(url: string, token: string) {
  const res = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('subscriptions', () => {
  it('answers both spellings in the canonical one, sends the price at once, unsubscribes, pongs', async () => {
    t.binance!.setQuote('SUBUSDT', quoteAt('10'));
    const user = await registerUser(t.app);
    const socket = await TestSocket.open(await originOf(t.app), { bearer: user.token });
    expect(await socket.subscribe(['prices:SUB', 'prices:subusdt', 'account'])).toEqual({
      op: 'subscribed',
      channels: ['prices:SUBUSDT', 'account'],
    });
    const subscribedAt = socket.messages.findIndex((m) => m.op === 'subscribed');
    const tick = await socket.next(isTick('SUBUSDT'));
    expect(socket.messages.indexOf(tick)).toBeGreaterThan(subscribedAt);
    expect(tick).toEqual({
      channel: 'prices:SUBUSDT',
      symbol: 'SUBUSDT',
      price: '10',
      bid: '9.5',
      ask: '10.5',
      as_of: expect.any(String),
    });
    // The price read for the subscription is also published on the bus: still sent once.
    await sleep(300);
    expect(socket.messages.filter(isTick('SUBUSDT'))).toHaveLength(1);
    socket.send({ op: 'ping' });
    await socket.next((m) => m.op === 'pong');
    socket.send({ op: 'unsubscribe', channels: ['prices:SUB', 'prices:ETH'] });
    expect(await socket.next((m) => m.op === 'unsubscribed')).toEqual({
      op: 'unsubscribed',
      channels: ['prices:SUBUSDT'],
    });
    socket.close();
  });

  it('pushes a watched price when it changes, within 2 s, and not again while it stays', async () => {
    t.binance!.setQuote('MOVEUSDT', quoteAt('100'));
    const user = await registerUser(t.app);
    const socket = await TestSocket.open(await originOf(t.app), { bearer: user.token });
    await socket.subscribe(['prices:MOVE']);
    await socket.next(isTick('MOVEUSDT'));
    const before = socket.messages.length;
    t.binance!.setQuote('MOVEUSDT', quoteAt('101'));
    const changedAt = Date.now();
    const moved = await socket.next((m) => isTick('MOVEUSDT')(m) && m.price === '101', 3_000, before);
    expect(Date.now() - changedAt).toBeLessThanOrEqual(2_000);
    expect(moved).toMatchObject({ bid: '100.5', ask: '101.5' });
    // Refreshed every second (TTL 0 → 1 s), unchanged: nothing more is sent.
    await sleep(2_500);
    expect(socket.messages.slice(before).filter(isTick('MOVEUSDT'))).toHaveLength(1);
    socket.close();
  });
});

describe('account events', () => {
  it('sends each kind with data exactly as the REST route answers it, to its owner only', async () => {
    t.binance!.setQuote('BTCUSDT', quoteAt('50000'));
    const owner = await registerUser(t.app);
    const other = await registerUser(t.app);
    const origin = await originOf(t.app);
    const socket = await TestSocket.open(origin, { bearer: owner.token });
    const stranger = await TestSocket.open(origin, { bearer: other.token });
    await socket.subscribe(['account']);
    await stranger.subscribe(['account']);

    const order = await postOrder(t.app, owner.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.01' });
    expect(order.statusCode).toBe(201);
    const filled = await socket.next(isEvent('order.filled'));
    expect(filled.data).toEqual(order.json());
    expect(filled.data).toEqual(await get(`/api/v1/orders/${order.json().id}`, owner.token));

    const operation = await t.app.inject({
      method: 'POST',
      url: `/api/v1/wallets/${owner.walletId}/operation`,
      headers: bearer(owner.token),
      payload: { operation_type: 'DEPOSIT', amount: '25' },
    });
    expect(operation.statusCode).toBe(201);
    expect((await socket.next(isEvent('wallet.operation'))).data).toEqual(operation.json());

    const bet = await postBet(t.app, owner.token, {
      symbol: 'BTCUSDT',
      direction: 'up',
      stake: '10',
      leverage: 2,
      duration_seconds: 1,
    });
    expect(bet.statusCode).toBe(201);
    const settled = await socket.next(isEvent('bet.settled'), 10_000);
    expect(settled.data).toEqual(await get(`/api/v1/bets/${bet.json().id}`, owner.token));

    const short = await postOrder(t.app, owner.token, { symbol: 'BTCUSDT', side: 'short', quantity: '0.01' });
    expect(short.statusCode).toBe(201);
    t.binance!.setQuote('BTCUSDT', quoteAt('80000'));
    const liquidated = await socket.next(isEvent('position.liquidated'), 10_000);
    const data = liquidated.data as { id: string; liquidation: boolean };
    expect(data.liquidation).toBe(true);
    expect(data).toEqual(await get(`/api/v1/orders/${data.id}`, owner.token));

    // The other user saw none of it.
    await sleep(300);
    expect(stranger.messages.filter((m) => m.channel === 'account')).toEqual([]);
    socket.close();
    stranger.close();
  }, 30_000);
});
