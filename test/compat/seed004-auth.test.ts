/**
 * Seed 004's auth contract, replayed as its document gives it: `POST /auth/register` → 201 `{token}`,
 * 400/409 `{"error": "text"}`; `POST /auth/login` → 200 `{token}`, 400/401 `{"error": "text"}`. The
 * token works as a bearer token on the v1 routes, and login sets the auth cookie.
 */
import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../helpers/app.js';

const t = useTestApp();

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('seed 004 /auth', () => {
  it('registers (201 {token}) and logs in (200 {token}); the token works on v1 routes', async () => {
    const registered = await post('/auth/register', { username: 'grace', password: 'password123' });
    expect(registered.statusCode).toBe(201);
    expect(Object.keys(registered.json())).toEqual(['token']);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(registered.json().token),
    });
    expect(me.json().username).toBe('grace');

    const login = await post('/auth/login', { username: 'grace', password: 'password123' });
    expect(login.statusCode).toBe(200);
    expect(Object.keys(login.json())).toEqual(['token']);
    expect(login.cookies.find((c) => c.name === 'pb_access_token')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    const wallets = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallets',
      headers: bearer(login.json().token),
    });
    expect(wallets.json().items[0].balance).toBe('10000');
  });

  it('answers a taken username (any case) with 409 {"error": "text"}', async () => {
    await post('/auth/register', { username: 'heidi', password: 'password123' });
    const taken = await post('/auth/register', { username: 'HEIDI', password: 'password456' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ error: expect.any(String) });
  });

  it.each([
    ['missing password', { username: 'ivan' }],
    ['missing username', { password: 'password123' }],
    ['empty username', { username: '', password: 'password123' }],
    ['short password', { username: 'ivan', password: 'short' }],
    ['number as username', { username: 42, password: 'password123' }],
    ['array body', [{ username: 'ivan', password: 'password123' }]],
    ['malformed JSON', '{"username": "ivan",'],
    ['10 kB username', { username: 'x'.repeat(10_000), password: 'password123' }],
  ])('answers register with %s: 400 {"error": "text"}', async (_name, payload) => {
    const res = await post('/auth/register', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String) });
  });

  it('answers login with a bad body 400 and wrong credentials 401, both {"error": "text"}', async () => {
    await post('/auth/register', { username: 'judy', password: 'password123' });
    const bad = await post('/auth/login', { username: 'judy' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: expect.any(String) });
    const wrong = await post('/auth/login', { username: 'judy', password: 'wrong password' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: expect.any(String) });
    const unknown = await post('/auth/login', { username: 'nobody_here', password: 'password123' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
  });
});
