/**
 * Abuse limits (SPEC §3 "Abuse limits"; issue 22 point 4): only wrong-credential logins count, three
 * ways — per account from one client address (the default 10, so that ten wrong passwords from
 * anywhere do not lock the owner out everywhere), per client address across accounts, and per
 * account across all addresses (lowered here from 1 000 so a distributed guess is reached quickly).
 * Over a limit every login it covers answers 429 with Retry-After in the one error shape, even with
 * the right password; and money-moving routes are limited per user while reads are not.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/env.js';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp({
  env: {
    LOGIN_FAILURES_PER_ADDRESS_MAX: '15',
    LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX: '25',
    RATE_LIMIT_PER_USER_PER_MIN: '5',
  },
});

function login(username: string, password: string, remoteAddress = '10.0.0.1', url = '/api/v1/auth/login') {
  return t.app.inject({ method: 'POST', url, payload: { username, password }, remoteAddress });
}

/** A 429 with Retry-After whose message names `what`: v1's RATE_LIMITED, or a seed's own shape. */
function expectBlocked(res: Awaited<ReturnType<typeof login>>, what: string): void {
  expect(res.statusCode, res.body).toBe(429);
  const body = res.json();
  if (typeof body.error === 'object') expect(body.error.code).toBe('RATE_LIMITED');
  expect(body.error?.message ?? body.detail ?? body.error).toContain(what);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
}

describe('failed logins', () => {
  it('lock an account for the address they came from only, and for every address at the total cap', async () => {
    const user = await registerUser(t.app);
    const [a, b] = ['10.0.1.1', '10.0.1.2'];
    for (let i = 0; i < 3; i++) expect((await login(user.username, user.password, a)).statusCode).toBe(200);
    for (let i = 0; i < 10; i++)
      expect((await login(user.username, 'wrong password', a)).statusCode).toBe(401);
    // The owner, elsewhere, still gets in; the guesser's address stays locked, the right password included.
    expect((await login(user.username.toUpperCase(), user.password, b)).statusCode).toBe(200);
    expectBlocked(await login(user.username, user.password, a), 'this account from this address');
    expectBlocked(await login(user.username, user.password, a, '/login'), 'from this address');

    // Spread over more addresses, each below its own limit, the guesses reach the account's total (25).
    for (let i = 0; i < 10; i++)
      expect((await login(user.username, 'wrong password', '10.0.1.3')).statusCode).toBe(401);
    for (let i = 0; i < 5; i++)
      expect((await login(user.username, 'wrong password', '10.0.1.4')).statusCode).toBe(401);
    for (const address of [b, '10.0.1.5']) {
      expectBlocked(await login(user.username, user.password, address), 'for this account');
      // Seed 000's and seed 004's logins share the same counters.
      expectBlocked(await login(user.username, user.password, address, '/login'), 'for this account');
      expectBlocked(await login(user.username, user.password, address, '/auth/login'), 'for this account');
    }
    // Another account is not affected.
    const other = await registerUser(t.app);
    expect((await login(other.username, other.password, a)).statusCode).toBe(200);
  });

  it('blocks a client address after its limit of wrong credentials across accounts', async () => {
    const other = await registerUser(t.app);
    for (let i = 0; i < 15; i++)
      expect((await login(`nobody_${i}`, 'wrong password', '10.0.2.1')).statusCode).toBe(401);
    expectBlocked(await login(other.username, other.password, '10.0.2.1'), 'this address');
    expect((await login(other.username, other.password, '10.0.2.2')).statusCode).toBe(200);
  });

  it('defaults to 10 per account and address, 100 per address and 1 000 per account in 15 minutes', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      loginFailuresPerAccountMax: 10,
      loginFailuresPerAddressMax: 100,
      loginFailuresPerAccountTotalMax: 1000,
      loginFailureWindowMs: 900_000,
      rateLimitPerUserPerMin: 6000,
    });
    expect(() => loadConfig({ LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX: '5' })).toThrow(
      /LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX: must be at least LOGIN_FAILURES_PER_ACCOUNT_MAX/,
    );
  });
});

describe('money-moving requests', () => {
  it('are limited per user; reads and other users are not', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    const deposit = (user: { token: string; walletId: string }) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/wallets/${user.walletId}/operation`,
        headers: bearer(user.token),
        payload: { operation_type: 'DEPOSIT', amount: '1' },
      });
    for (let i = 0; i < 5; i++) expect((await deposit(alice)).statusCode).toBe(201);
    const limited = await deposit(alice);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    const order = await t.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: bearer(alice.token),
      payload: { symbol: 'BTCUSDT', side: 'buy', quantity: '0.0001' },
    });
    expect(order.statusCode).toBe(429);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(alice.token) }))
        .statusCode,
    ).toBe(200);
    expect((await deposit(bob)).statusCode).toBe(201);
    const wallet = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${alice.walletId}`,
      headers: bearer(alice.token),
    });
    expect(wallet.json().balance).toBe('10005');
  });
});
