/**
 * Who may open a stream and for how long (issue 15 §1, §4): the WebSocket upgrade and the SSE route
 * answer 401 — never a socket that says nothing — without a token, with a tampered one or a revoked
 * one; a token is accepted as a bearer header, the auth cookie, or `?token=`; a stream whose token
 * expires or whose session is revoked (logout) while it is open is ended (WebSocket close 1008, SSE
 * `event: close`) within one ping interval; `?token=` never reaches the log.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/observability/logger.js';
import { authCookieOf, bearer, registerUser, useAppFactory } from '../../helpers/app.js';
import { originOf, TestSocket } from '../../helpers/stream-client.js';
import { openSse } from './sse-client.js';

const factory = useAppFactory();
const PING_MS = '300';

describe('opening a stream', () => {
  it('refuses the upgrade and the SSE request with 401 without a valid token', async () => {
    const built = await factory.build({ env: { STREAM_PING_INTERVAL_MS: PING_MS } });
    const user = await registerUser(built.app);
    const origin = await originOf(built.app);
    const tampered = `${user.token.slice(0, -3)}${user.token.endsWith('abc') ? 'xyz' : 'abc'}`;
    for (const auth of [
      {},
      { bearer: tampered },
      { query: tampered },
      { query: '' },
      { cookie: 'pb_access_token=junk' },
    ]) {
      const refused = await TestSocket.connect(origin, auth);
      expect(refused, JSON.stringify(auth)).toMatchObject({ refusedStatus: 401 });
      expect(JSON.parse((refused as { body: string }).body).error.code).toBe('UNAUTHORIZED');
    }
    for (const headers of [{}, bearer(tampered)]) {
      const res = await fetch(`${origin}/api/v1/stream/sse?channels=account`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
  });

  it('accepts a bearer header, the auth cookie and ?token=, and keeps ?token= out of the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const built = await factory.build({ logger: createLogger('info', sink) });
    const user = await registerUser(built.app);
    const cookie = await authCookieOf(built.app, user);
    const origin = await originOf(built.app);
    for (const auth of [{ bearer: user.token }, { cookie }, { query: user.token }]) {
      const socket = await TestSocket.open(origin, auth);
      expect(await socket.subscribe(['account'])).toEqual({ op: 'subscribed', channels: ['account'] });
      socket.close();
    }
    const sse = await fetch(`${origin}/api/v1/stream/sse?channels=account&token=${user.token}`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    const log = lines.join('');
    expect(log).toContain('/api/v1/stream?token=');
    expect(log).not.toContain(user.token);
  });
});

describe('a stream whose token ends', () => {
  it('is closed with 1008 within one ping interval after logout, and SSE is told so', async () => {
    const built = await factory.build({ env: { STREAM_PING_INTERVAL_MS: PING_MS } });
    const user = await registerUser(built.app);
    const origin = await originOf(built.app);
    const socket = await TestSocket.open(origin, { bearer: user.token });
    await socket.subscribe(['account']);
    const sse = await openSse(origin, 'account', user.token);
    await sse.next((e) => e.event === 'subscribed');
    const logout = await built.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(user.token),
    });
    expect(logout.statusCode).toBe(204);
    const loggedOutAt = Date.now();
    expect(await socket.whenClosed(2_000)).toMatchObject({ code: 1008 });
    expect(Date.now() - loggedOutAt).toBeLessThan(2 * Number(PING_MS) + 500);
    expect((await sse.next((e) => e.event === 'close')).data).toMatchObject({ code: 1008 });
    await sse.ended;
  });

  it('is closed with 1008 once its access token expires', async () => {
    let offsetMs = 0;
    const clock = { nowMs: () => Date.now() + offsetMs };
    const built = await factory.build({ env: { STREAM_PING_INTERVAL_MS: PING_MS }, clock });
    const user = await registerUser(built.app);
    const socket = await TestSocket.open(await originOf(built.app), { bearer: user.token });
    await socket.subscribe(['account']);
    await sleep(3 * Number(PING_MS));
    expect(socket.closed).toBeUndefined();
    // 15 min (JWT_ACCESS_TTL_SECONDS) later.
    offsetMs = 901_000;
    expect(await socket.whenClosed(2_000)).toMatchObject({ code: 1008 });
  });
});
