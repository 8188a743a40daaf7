/**
 * The SSE variant (issue 15 §2), read with `fetch` as a browser's EventSource reads it:
 * `event: subscribed`, then `event: <channel>` + `data: <JSON>` with the same JSON the WebSocket
 * sends (a price at once and on change, the owner's account events), a comment heartbeat, the auth
 * cookie accepted without `?token=`; and streams of both kinds end cleanly when the server shuts down
 * (WebSocket 1001, SSE `event: close`), with the shutdown not held up by them.
 */
import { describe, expect, it } from 'vitest';
import { authCookieOf, bearer, postOrder, registerUser, useAppFactory } from '../../helpers/app.js';
import { originOf, TestSocket } from '../../helpers/stream-client.js';
import { quoteAt } from '../bets/helpers.js';
import { openSse } from './sse-client.js';

const factory = useAppFactory();

describe('Server-Sent Events', () => {
  it('streams prices and account events as the WebSocket does, with heartbeats', async () => {
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0', STREAM_SSE_HEARTBEAT_MS: '200' } });
    built.binance!.setQuote('SSEUSDT', quoteAt('7'));
    built.binance!.setQuote('BTCUSDT', quoteAt('50000'));
    const user = await registerUser(built.app);
    const origin = await originOf(built.app);
    const sse = await openSse(origin, 'prices:SSE,account', user.token);
    expect(sse.status).toBe(200);
    expect((await sse.next((e) => e.event === 'subscribed')).data).toEqual({
      channels: ['prices:SSEUSDT', 'account'],
    });
    expect((await sse.next((e) => e.event === 'prices:SSEUSDT')).data).toMatchObject({
      channel: 'prices:SSEUSDT',
      price: '7',
      bid: '6.5',
      ask: '7.5',
    });
    built.binance!.setQuote('SSEUSDT', quoteAt('8'));
    await sse.next((e) => e.event === 'prices:SSEUSDT' && (e.data as { price: string }).price === '8', 3_000);
    const order = await postOrder(built.app, user.token, {
      symbol: 'BTCUSDT',
      side: 'buy',
      quantity: '0.001',
    });
    const filled = await sse.next((e) => e.event === 'account');
    expect(filled.data).toEqual({ channel: 'account', event: 'order.filled', data: order.json() });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sse.comments.length).toBeGreaterThanOrEqual(1);
    expect(sse.comments[0]).toBe(': heartbeat');
    sse.close();
  });

  it('takes the auth cookie alone', async () => {
    const built = await factory.build();
    const user = await registerUser(built.app);
    const cookie = await authCookieOf(built.app, user);
    const sse = await openSse(await originOf(built.app), 'account', undefined, { cookie });
    expect(sse.status).toBe(200);
    await sse.next((e) => e.event === 'subscribed');
    sse.close();
  });
});

describe('the SSE route in the OpenAPI document', () => {
  // The document listed only its 401, 422 and 503: found by test/fuzz/openapi.fuzz.test.ts.
  it('lists the 200 it answers, as text/event-stream', async () => {
    const built = await factory.build();
    const user = await registerUser(built.app);
    const doc = (await built.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const ok = doc.paths['/api/v1/stream/sse'].get.responses['200'];
    expect(Object.keys(ok.content)).toEqual(['text/event-stream']);
    const abort = new AbortController();
    const res = await fetch(`${await originOf(built.app)}/api/v1/stream/sse?channels=account`, {
      headers: bearer(user.token),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    abort.abort();
  });
});

describe('Server-Sent Events, limits and isolation', () => {
  it('sends a user only their own events, and ends a stream whose token expired', async () => {
    let offsetMs = 0;
    const built = await factory.build({
      env: { STREAM_PING_INTERVAL_MS: '300' },
      clock: { nowMs: () => Date.now() + offsetMs },
    });
    const owner = await registerUser(built.app);
    const other = await registerUser(built.app);
    const origin = await originOf(built.app);
    const mine = await openSse(origin, 'account', owner.token);
    const theirs = await openSse(origin, 'account', other.token);
    await mine.next((e) => e.event === 'subscribed');
    await theirs.next((e) => e.event === 'subscribed');
    const deposit = await built.app.inject({
      method: 'POST',
      url: `/api/v1/wallets/${owner.walletId}/operation`,
      headers: bearer(owner.token),
      payload: { operation_type: 'DEPOSIT', amount: '5' },
    });
    const event = await mine.next((e) => e.event === 'account');
    expect(event.data).toEqual({ channel: 'account', event: 'wallet.operation', data: deposit.json() });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(theirs.events.filter((e) => e.event === 'account')).toEqual([]);
    offsetMs = 901_000;
    expect((await mine.next((e) => e.event === 'close', 3_000)).data).toMatchObject({ code: 1008 });
    theirs.close();
  });

  it('closes the oldest of 11 SSE streams of a user, and a reader that stops reading', async () => {
    const built = await factory.build();
    const user = await registerUser(built.app);
    const origin = await originOf(built.app);
    const streams = [];
    for (let i = 0; i < 11; i++) {
      const sse = await openSse(origin, 'account', user.token);
      await sse.next((e) => e.event === 'subscribed');
      streams.push(sse);
    }
    expect((await streams[0]!.next((e) => e.event === 'close')).data).toMatchObject({ code: 1008 });
    for (const sse of streams) sse.close();

    // A reader that never reads: what the server writes piles up, and past 1 MiB it gives up.
    const res = await fetch(`${origin}/api/v1/stream/sse?channels=account`, { headers: bearer(user.token) });
    expect(res.status).toBe(200);
    const padding = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 1_000; i++)
      await built.events.publish(`account:${user.userId}`, {
        channel: 'account',
        event: 'wallet.operation',
        data: { i, padding },
      });
    const reader = res.body!.getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('event: close');
    expect(text).toContain('"code":1013');
    expect(text.split('event: account').length - 1).toBeLessThan(1_000);
  }, 30_000);
});

describe('shutdown', () => {
  it('ends every stream (1001, event: close) and closes promptly', async () => {
    const built = await factory.build();
    const user = await registerUser(built.app);
    const origin = await originOf(built.app);
    const socket = await TestSocket.open(origin, { bearer: user.token });
    await socket.subscribe(['account']);
    const sse = await openSse(origin, 'account', user.token);
    await sse.next((e) => e.event === 'subscribed');
    // An event in flight when the shutdown starts is still delivered, before the close frame.
    await built.events.publish(`account:${user.userId}`, {
      channel: 'account',
      event: 'wallet.operation',
      data: { n: 1 },
    });
    await socket.next((m) => m.channel === 'account');
    const startedAt = Date.now();
    await built.app.close();
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(await socket.whenClosed()).toMatchObject({ code: 1001 });
    expect((await sse.next((e) => e.event === 'close')).data).toMatchObject({ code: 1001 });
    // Nothing answers any more.
    await expect(fetch(`${origin}/health/live`, { headers: bearer(user.token) })).rejects.toThrow();
  });
});
