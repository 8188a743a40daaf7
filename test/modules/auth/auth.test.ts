/**
 * Registration, login (JSON and OAuth2 form) and the token guard: happy paths, bad input on every
 * field, and every kind of bad token answering 401 — never 403 or 500. Nothing leaks the hash.
 */
import { decodeJwt, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, TEST_JWT_SECRET, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

const register = (payload: unknown) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: payload as object });

describe('registration and login', () => {
  it('registers, answers 409 for a taken username in any case, and logs in with JSON and form bodies', async () => {
    const first = await register({ username: 'Carol', password: 'password123' });
    expect(first.statusCode).toBe(201);
    expect(first.body).not.toContain('password_hash');
    expect(first.body).not.toMatch(/\$2[aby]\$/);
    const taken = await register({ username: 'cAROL', password: 'password123' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('USERNAME_TAKEN');

    const form = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=password&username=carol&password=password123',
    });
    expect(form.statusCode).toBe(200);
    expect(form.json()).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(form.json().access_token),
    });
    expect(me.json()).toMatchObject({ username: 'Carol', role: 'user', email: null });
  });

  it('answers 401 INVALID_CREDENTIALS alike for a wrong password and an unknown user', async () => {
    await register({ username: 'dave', password: 'password123' });
    for (const payload of [
      { username: 'dave', password: 'wrong-password' },
      { username: 'nobody', password: 'password123' },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: 'wrong username or password',
      });
    }
  });

  const badRegistrations: [string, unknown][] = [
    ['missing fields', {}],
    ['username as number', { username: 42, password: 'password123' }],
    ['empty username', { username: '', password: 'password123' }],
    ['10 kB username', { username: 'u'.repeat(10_000), password: 'password123' }],
    ['unicode username', { username: 'zoë✓', password: 'password123' }],
    ['NUL in username', { username: 'eve\u0000x', password: 'password123' }],
    ['short password', { username: 'erin', password: 'short' }],
    ['password over 72 bytes', { username: 'erin', password: 'é'.repeat(40) }],
    ['bad email', { username: 'erin', password: 'password123', email: 'not-an-email' }],
    ['array body', [{ username: 'erin', password: 'password123' }]],
  ];
  it.each(badRegistrations)('refuses %s with 422 and creates nothing', async (_name, payload) => {
    const res = await register(payload);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
    expect(res.json().error.details.fields.length).toBeGreaterThan(0);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'erin', password: 'password123' },
    });
    expect(login.statusCode).toBe(401);
  });
});

describe('the token guard', () => {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const now = Math.floor(Date.now() / 1000);
  // A real user and session: a well-signed token is accepted only while its session is active.
  let sub = '00000000-0000-4000-8000-000000000001';
  let sid = '00000000-0000-4000-8000-000000000002';
  beforeAll(async () => {
    const user = await registerUser(t.app);
    const claims = decodeJwt(user.token);
    sub = String(claims.sub);
    sid = String(claims.sid);
  });

  /** A bearer header with an HS* token signed as the test says; the defaults make a valid one. */
  const signed = async (change: {
    alg?: string;
    secret?: string;
    subject?: string;
    issuedAt?: number;
    expiresAt?: number;
  }) => {
    const jwt = new SignJWT({ role: 'user', sid })
      .setProtectedHeader({ alg: change.alg ?? 'HS256' })
      .setSubject(change.subject ?? sub)
      .setExpirationTime(change.expiresAt ?? now + 600);
    if (change.issuedAt !== undefined) jwt.setIssuedAt(change.issuedAt);
    return bearer(await jwt.sign(change.secret ? new TextEncoder().encode(change.secret) : key));
  };

  const tokens: [string, () => Promise<Record<string, string>>][] = [
    ['no header', async () => ({})],
    ['not a bearer scheme', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
    ['garbage token', async () => bearer('not.a.jwt')],
    ['expired token', () => signed({ issuedAt: now - 7200, expiresAt: now - 3600 })],
    ['another key', () => signed({ secret: 'another-secret-of-sufficient-length-000000' })],
    [
      'alg none',
      async () => {
        const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return bearer(
          `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub, role: 'user', exp: now + 600 })}.`,
        );
      },
    ],
    ['HS512 with the right key', () => signed({ alg: 'HS512' })],
    ['subject not a user id', () => signed({ subject: 'admin' })],
  ];
  it('accepts the token `signed` makes by default (the control for the cases below)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: await signed({}) });
    expect(res.statusCode).toBe(200);
  });

  it.each(tokens)('answers 401 for %s', async (_name, headers) => {
    for (const url of ['/api/v1/users/me', '/api/v1/wallets', '/api/v1/orders']) {
      const res = await t.app.inject({ method: 'GET', url, headers: await headers() });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
  });
});

describe('seed 000 contract', () => {
  it('creates a user with POST /new_user and logs in with POST /login', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/new_user',
      payload: { username: 'frank', email: 'frank@example.com', password: 'password123' },
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ username: 'frank', email: 'frank@example.com' });
    const login = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: 'frank', password: 'password123' },
    });
    expect(login.statusCode).toBe(200);
    expect(Object.keys(login.json()).sort()).toEqual(['access_token', 'token_type']);
    expect(login.json().token_type).toBe('bearer');
    const wallet = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallets',
      headers: bearer(login.json().access_token),
    });
    expect(wallet.json().items[0].balance).toBe('10000');
  });

  it('answers seed 000’s own error shapes', async () => {
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: 'frank', password: 'nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ detail: 'wrong username or password' });
    const invalid = await t.app.inject({ method: 'POST', url: '/new_user', payload: { username: 'g' } });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().detail[0]).toMatchObject({
      loc: expect.arrayContaining(['body']),
      type: 'value_error',
    });
    const taken = await t.app.inject({
      method: 'POST',
      url: '/new_user',
      payload: { username: 'FRANK', email: 'f2@example.com', password: 'password123' },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ detail: 'username FRANK is already taken' });
  });
});
