/**
 * Sessions and their tokens (issue: accounts and security): refresh tokens rotate and a reused one
 * revokes its whole session; logout ends the access token at once; a password change ends every
 * other session; a deleted account's tokens and password stop working while its ledger history
 * stays; the auth cookie works wherever a bearer token does, and a cookie-authenticated write from
 * another origin is refused.
 */
import { describe, expect, it } from 'vitest';
import { bearer, expectLedgerSound, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

async function login(username: string, password: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
  });
  expect(res.statusCode).toBe(200);
  return res;
}

function refresh(refreshToken: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    payload: { refresh_token: refreshToken },
  });
}

function me(headers: Record<string, string>) {
  return t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers });
}

describe('refresh tokens', () => {
  it('rotate: each works once, and reusing one revokes the whole session', async () => {
    const user = await registerUser(t.app);
    const first = (await login(user.username, user.password)).json();
    expect(first).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    expect(first.refresh_token).toMatch(/^rt_/);

    const second = await refresh(first.refresh_token);
    expect(second.statusCode).toBe(200);
    const rotated = second.json();
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect((await me(bearer(rotated.access_token))).statusCode).toBe(200);

    // The first refresh token again: someone else holds it. The session ends, for both holders.
    const reused = await refresh(first.refresh_token);
    expect(reused.statusCode).toBe(401);
    expect((await refresh(rotated.refresh_token)).statusCode).toBe(401);
    expect((await me(bearer(rotated.access_token))).statusCode).toBe(401);
    expect((await me(bearer(first.access_token))).statusCode).toBe(401);
    // Other sessions of the user are untouched.
    expect((await me(bearer(user.token))).statusCode).toBe(200);
  });

  it('refuses unknown and malformed refresh tokens with 401 or 422', async () => {
    expect((await refresh(`rt_${'A'.repeat(43)}`)).statusCode).toBe(401);
    expect((await refresh('not-a-token')).statusCode).toBe(401);
    const empty = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {} });
    expect(empty.statusCode).toBe(422);
  });
});

describe('logout', () => {
  it('ends the presented access token at once, and the refresh token with it', async () => {
    const user = await registerUser(t.app);
    const tokens = (await login(user.username, user.password)).json();
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(tokens.access_token),
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(out.statusCode).toBe(204);
    expect((await me(bearer(tokens.access_token))).statusCode).toBe(401);
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(401);
    expect((await me(bearer(user.token))).statusCode).toBe(200);
  });

  it('needs credentials', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout' })).statusCode).toBe(401);
  });
});

describe('password change', () => {
  it('ends every other session, keeps the current one, and the new password is the one that works', async () => {
    const user = await registerUser(t.app);
    const other = (await login(user.username, user.password)).json();
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/users/me/password',
      headers: bearer(user.token),
      payload: { current_password: user.password, new_password: 'a brand new passphrase' },
    });
    expect(res.statusCode).toBe(204);
    expect((await me(bearer(user.token))).statusCode).toBe(200);
    expect((await me(bearer(other.access_token))).statusCode).toBe(401);
    expect((await refresh(other.refresh_token)).statusCode).toBe(401);
    const old = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username, password: user.password },
    });
    expect(old.statusCode).toBe(401);
    await login(user.username, 'a brand new passphrase');
  });

  it('refuses a wrong current password (403) and a too short or too long new one (422), changing nothing', async () => {
    const user = await registerUser(t.app);
    const change = (current_password: string, new_password: string) =>
      t.app.inject({
        method: 'PUT',
        url: '/api/v1/users/me/password',
        headers: bearer(user.token),
        payload: { current_password, new_password },
      });
    const wrong = await change('not the password', 'a brand new passphrase');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('INVALID_CURRENT_PASSWORD');
    expect((await change(user.password, 'short')).statusCode).toBe(422);
    expect((await change(user.password, 'é'.repeat(37))).statusCode).toBe(422);
    await login(user.username, user.password);
  });
});

/** `DELETE /api/v1/users/me` with `token`, and `body` as JSON unless it is undefined. */
function deleteAccount(token: string, body?: unknown) {
  return t.app.inject({
    method: 'DELETE',
    url: '/api/v1/users/me',
    headers: bearer(token),
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

describe('account deletion', () => {
  it('ends every session and the password, keeps the ledger history, and keeps the username taken', async () => {
    const user = await registerUser(t.app);
    const other = (await login(user.username, user.password)).json();
    const del = await deleteAccount(user.token, { current_password: user.password });
    expect(del.statusCode, del.body).toBe(204);
    for (const token of [user.token, other.access_token]) {
      expect((await me(bearer(token))).statusCode).toBe(401);
      const wallets = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(token) });
      expect(wallets.statusCode).toBe(401);
    }
    expect((await refresh(other.refresh_token)).statusCode).toBe(401);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username, password: user.password },
    });
    expect(again.statusCode).toBe(401);
    const reuse = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: user.username.toUpperCase(), password: 'another password' },
    });
    expect(reuse.statusCode).toBe(409);
    await expectLedgerSound(t.db);
  });

  it('needs the current password: a bearer token alone (a stolen one) deletes nothing', async () => {
    const user = await registerUser(t.app);
    const refused: [unknown, number, string][] = [
      [undefined, 422, 'VALIDATION_ERROR'],
      [{}, 422, 'VALIDATION_ERROR'],
      [{ current_password: '' }, 422, 'VALIDATION_ERROR'],
      [{ current_password: 'not the password' }, 403, 'INVALID_CURRENT_PASSWORD'],
      [{ current_password: user.password.toUpperCase() }, 403, 'INVALID_CURRENT_PASSWORD'],
    ];
    for (const [body, status, code] of refused) {
      const res = await deleteAccount(user.token, body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(res.body).not.toContain(user.password);
      expect(res.headers['set-cookie']).toBeUndefined();
      // Nothing changed: the session works and the password still logs in.
      expect((await me(bearer(user.token))).statusCode).toBe(200);
    }
    await login(user.username, user.password);
    const del = await deleteAccount(user.token, { current_password: user.password });
    expect(del.statusCode, del.body).toBe(204);
    expect((await me(bearer(user.token))).statusCode).toBe(401);
  });
});

describe('profiles', () => {
  it('shows another user only {id, username, created_at}; the user themself and admins see everything', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: bearer(alice.token),
      payload: { email: `${alice.username}@example.com` },
    });
    const seenByBob = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${alice.userId}`,
      headers: bearer(bob.token),
    });
    expect(seenByBob.statusCode).toBe(200);
    expect(Object.keys(seenByBob.json()).sort()).toEqual(['created_at', 'id', 'username']);
    const seenBySelf = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${alice.userId}`,
      headers: bearer(alice.token),
    });
    expect(seenBySelf.json().email).toBe(`${alice.username}@example.com`);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const missing = await t.app.inject({
        method: 'GET',
        url: `/api/v1/users/${id}`,
        headers: bearer(bob.token),
      });
      expect(missing.statusCode).toBe(404);
    }
  });

  it('changes username and email, unique case-insensitively (409 when taken)', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    const patch = (token: string, payload: object) =>
      t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: bearer(token), payload });
    const renamed = await patch(alice.token, {
      username: `${alice.username}_2`,
      email: 'Shared@Example.com',
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ username: `${alice.username}_2`, email: 'Shared@Example.com' });
    const takenEmail = await patch(bob.token, { email: 'shared@example.com' });
    expect(takenEmail.statusCode).toBe(409);
    expect(takenEmail.json().error.code).toBe('EMAIL_TAKEN');
    const takenName = await patch(bob.token, { username: `${alice.username}_2`.toUpperCase() });
    expect(takenName.statusCode).toBe(409);
    expect(takenName.json().error.code).toBe('USERNAME_TAKEN');
    expect((await patch(bob.token, {})).statusCode).toBe(422);
    expect((await patch(bob.token, { role: 'admin' })).statusCode).toBe(422);
    expect((await patch(alice.token, { email: null })).json().email).toBeNull();
  });
});

describe('the auth cookie', () => {
  it('is set at login with HttpOnly, Secure, SameSite=Strict, Path=/ and works instead of a bearer token', async () => {
    const user = await registerUser(t.app);
    const res = await login(user.username, user.password);
    const cookie = res.cookies.find((c) => c.name === 'pb_access_token');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    const cookies = { pb_access_token: cookie!.value };
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/users/me', cookies })).statusCode).toBe(200);

    // A write authenticated by the cookie alone must come from this origin.
    const operation = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/wallets/${user.walletId}/operation`,
        cookies,
        headers,
        payload: { operation_type: 'DEPOSIT', amount: '1' },
      });
    const crossSite = await operation({ origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().error.code).toBe('CSRF_REJECTED');
    expect((await operation({})).statusCode).toBe(403);
    expect((await operation({ origin: 'http://localhost:80', host: 'localhost:80' })).statusCode).toBe(201);
    expect((await operation({ 'sec-fetch-site': 'same-origin' })).statusCode).toBe(201);

    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      cookies,
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'pb_access_token')?.value).toBe('');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/users/me', cookies })).statusCode).toBe(401);
  });
});

describe('the refresh cookie', () => {
  it('is set at login for /api/v1/auth only, renews the session from this site alone, and goes at logout', async () => {
    const user = await registerUser(t.app);
    const res = await login(user.username, user.password);
    const cookie = res.cookies.find((c) => c.name === 'pb_refresh_token');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/v1/auth' });
    expect(cookie!.value).toBe(res.json().refresh_token);
    const withCookie = (value: string, headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        cookies: { pb_refresh_token: value },
        headers,
      });

    // From another site, or a request that says nothing of where it comes from: refused, nothing rotated.
    for (const headers of [{ origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
      const refused = await withCookie(cookie!.value, headers);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('CSRF_REJECTED');
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    const renewed = await withCookie(cookie!.value, { 'sec-fetch-site': 'same-origin' });
    expect(renewed.statusCode, renewed.body).toBe(200);
    const next = renewed.cookies.find((c) => c.name === 'pb_refresh_token')!.value;
    const access = renewed.cookies.find((c) => c.name === 'pb_access_token')!.value;
    expect(next).not.toBe(cookie!.value);
    expect(access).toBe(renewed.json().access_token);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      cookies: { pb_access_token: access },
    });
    expect(me.statusCode).toBe(200);

    // No body and no cookie: no credential (401); a body without the token is still a 422.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh' })).statusCode).toBe(401);
    const empty = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {} });
    expect(empty.statusCode).toBe(422);

    // Logout with the cookies ends the session and clears both.
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      cookies: { pb_access_token: access, pb_refresh_token: next },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'pb_refresh_token')).toMatchObject({
      value: '',
      path: '/api/v1/auth',
    });
    expect((await withCookie(next, { 'sec-fetch-site': 'same-origin' })).statusCode).toBe(401);
  });
});

describe('the auth cookie on the seed contracts', () => {
  it('is set by seed 000’s POST /login and seed 004’s POST /auth/login as well', async () => {
    const user = await registerUser(t.app);
    for (const url of ['/login', '/auth/login']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        payload: { username: user.username, password: user.password },
      });
      expect(res.statusCode, url).toBe(200);
      const cookie = res.cookies.find((c) => c.name === 'pb_access_token');
      expect(cookie, url).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
      const me = await t.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        cookies: { pb_access_token: cookie!.value },
      });
      expect(me.json().id, url).toBe(user.userId);
    }
  });
});
