/**
 * A stream under bad input and abuse (issue 15 §1, §4): a malformed message is answered
 * `{"op":"error"}` and the socket stays open, 10 in a row close it (1008); an unknown channel, a junk
 * or unknown symbol is refused for that channel only; 100 channels per connection; the 11th stream of
 * a user closes its oldest (1008); a client that stops reading is disconnected (1013) once 1 MiB
 * waits for it, instead of growing the server's memory; a plain GET of the WebSocket route is 426;
 * the SSE route answers 422 for channels it cannot stream.
 */
import { describe, expect, it } from 'vitest';
import { registerUser, useTestApp } from '../../helpers/app.js';
import { originOf, TestSocket } from '../../helpers/stream-client.js';
import { quoteAt } from '../bets/helpers.js';
import { openSse } from './sse-client.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });

describe('bad messages', () => {
  it('answers each malformed message with an error and stays open; 10 in a row close it (1008)', async () => {
    const user = await registerUser(t.app);
    const socket = await TestSocket.open(await originOf(t.app), { bearer: user.token });
    const bad = [
      'not json',
      '{"op":"dance"}',
      '{"op":"subscribe"}',
      '{"op":"subscribe","channels":"account"}',
      '{"op":"subscribe","channels":[]}',
      JSON.stringify({ op: 'subscribe', channels: Array.from({ length: 101 }, (_, i) => `prices:C${i}`) }),
      'null',
      '[]',
      '"ping"',
    ];
    for (const message of bad) {
      const from = socket.messages.length;
      socket.send(message);
      const answer = await socket.next((m) => m.op === 'error', 2_000, from);
      expect(answer, message).toMatchObject({
        op: 'error',
        error: { code: 'BAD_MESSAGE', message: expect.any(String) },
      });
    }
    // A good message resets the count: still open after 9 + 1 + 9 bad ones.
    socket.send({ op: 'ping' });
    await socket.next((m) => m.op === 'pong');
    for (let i = 0; i < 9; i++) socket.send('{');
    socket.send(Buffer.from([1, 2, 3]));
    expect(await socket.whenClosed()).toMatchObject({ code: 1008 });
  });

  it('refuses a bad channel alone and streams the good ones', async () => {
    t.binance!.setQuote('GOODUSDT', quoteAt('3'));
    const user = await registerUser(t.app);
    const socket = await TestSocket.open(await originOf(t.app), { bearer: user.token });
    socket.send({
      op: 'subscribe',
      channels: ['prices:GOOD', 'prices:NOPE', 'prices:b/a/d', 'orders', 42, 'account'],
    });
    const subscribed = await socket.next((m) => m.op === 'subscribed');
    expect(subscribed).toEqual({ op: 'subscribed', channels: ['prices:GOODUSDT', 'account'] });
    const errors = socket.messages.filter((m) => m.op === 'error');
    expect(errors.map((e) => [e.channel, (e.error as { code: string }).code])).toEqual([
      ['prices:NOPE', 'UNKNOWN_SYMBOL'],
      ['prices:b/a/d', 'UNKNOWN_SYMBOL'],
      ['orders', 'UNKNOWN_CHANNEL'],
      [42, 'UNKNOWN_CHANNEL'],
    ]);
    await socket.next((m) => m.channel === 'prices:GOODUSDT');
    socket.close();
  });

  it('holds at most 100 channels per connection', async () => {
    for (let i = 0; i < 101; i++) t.binance!.setQuote(`LIM${i}USDT`, quoteAt('1'));
    const user = await registerUser(t.app);
    const socket = await TestSocket.open(await originOf(t.app), { bearer: user.token });
    const hundred = Array.from({ length: 100 }, (_, i) => `prices:LIM${i}`);
    expect((await socket.subscribe(hundred)).channels).toHaveLength(100);
    const from = socket.messages.length;
    socket.send({ op: 'subscribe', channels: ['prices:LIM100', 'prices:LIM0'] });
    const refused = await socket.next((m) => m.op === 'error', 2_000, from);
    expect(refused).toMatchObject({ channel: 'prices:LIM100', error: { code: 'CHANNEL_LIMIT' } });
    expect(await socket.next((m) => m.op === 'subscribed', 2_000, from)).toEqual({
      op: 'subscribed',
      channels: ['prices:LIM0USDT'],
    });
    socket.close();
  });
});

describe('limits', () => {
  it('closes the oldest of a user’s streams (1008) when an 11th opens', async () => {
    const user = await registerUser(t.app);
    const origin = await originOf(t.app);
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 10; i++) sockets.push(await TestSocket.open(origin, { bearer: user.token }));
    const eleventh = await TestSocket.open(origin, { bearer: user.token });
    expect(await sockets[0]!.whenClosed()).toMatchObject({ code: 1008 });
    for (const socket of [...sockets.slice(1), eleventh]) {
      socket.send({ op: 'ping' });
      await socket.next((m) => m.op === 'pong');
      socket.close();
    }
  });

  it('disconnects a client that stops reading with 1013, once 1 MiB waits for it', async () => {
    const user = await registerUser(t.app);
    const origin = await originOf(t.app);
    const slow = await TestSocket.open(origin, { bearer: user.token });
    const reader = await TestSocket.open(origin, { bearer: user.token });
    await slow.subscribe(['account']);
    await reader.subscribe(['account']);
    // The slow client's socket stops reading: what the server sends piles up in its buffers.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const padding = 'x'.repeat(16 * 1024);
    const gotEvent = (i: number) => (m: { data?: unknown }) =>
      (m.data as { i?: number } | undefined)?.i === i;
    // 2,000 events of 16 KiB, 32 at a time: the reader keeps up (it is read between batches), the
    // slow client's queue grows past the kernel's buffers and then past 1 MiB.
    for (let i = 0; i < 2_000; i++) {
      await t.events.publish(`account:${user.userId}`, {
        channel: 'account',
        event: 'wallet.operation',
        data: { i, padding },
      });
      if (i % 32 === 31) await reader.next(gotEvent(i));
    }
    await reader.next(gotEvent(1_999));
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.whenClosed(10_000)).toMatchObject({ code: 1013 });
    expect(slow.messages.length).toBeLessThan(2_000);
    reader.close();
  }, 40_000);
});

describe('the routes refuse what they cannot stream', () => {
  it('answers a plain GET of the WebSocket route with 426', async () => {
    const user = await registerUser(t.app);
    const res = await fetch(`${await originOf(t.app)}/api/v1/stream`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UPGRADE_REQUIRED');
  });

  it('answers 422 for SSE channels it cannot stream, and an error event for an unknown symbol', async () => {
    const user = await registerUser(t.app);
    const origin = await originOf(t.app);
    for (const channels of ['', 'orders', ',,', Array.from({ length: 101 }, () => 'account').join(',')]) {
      const res = await fetch(`${origin}/api/v1/stream/sse?channels=${encodeURIComponent(channels)}`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(res.status, channels).toBe(422);
    }
    const sse = await openSse(origin, 'prices:NOPE,account', user.token);
    expect(sse.status).toBe(200);
    expect(await sse.next((e) => e.event === 'error')).toMatchObject({
      data: { channel: 'prices:NOPE', error: { code: 'UNKNOWN_SYMBOL' } },
    });
    expect((await sse.next((e) => e.event === 'subscribed')).data).toEqual({ channels: ['account'] });
    sse.close();
  });
});
