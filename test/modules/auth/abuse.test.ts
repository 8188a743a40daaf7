/**
 * Abuse limits (SPEC §3 "Abuse limits"), with small limits so the test stays short: only
 * wrong-credential logins count, per account and per client address; over the limit every login
 * for it answers 429 with Retry-After in the one error shape, even with the right password; and
 * money-moving routes are limited per user while reads are not.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/env.js';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp({
  env: {
    LOGIN_FAILURES_PER_ACCOUNT_MAX: '3',
    LOGIN_FAILURES_PER_ADDRESS_MAX: '6',
    RATE_LIMIT_PER_USER_PER_MIN: '5',
  },
});

function login(username: string, password: string, remoteAddress = '10.0.0.1') {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    remoteAddress,
  });
}

describe('failed logins', () => {
  it('blocks an account after its limit of wrong passwords, even for the right one, with Retry-After', async () => {
    const user = await registerUser(t.app);
    for (let i = 0; i < 5; i++)
      expect((await login(user.username, user.password, '10.0.1.1')).statusCode).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await login(user.username, 'wrong password', '10.0.1.1')).statusCode).toBe(401);
    for (const address of ['10.0.1.1', '10.0.1.2']) {
      const blocked = await login(user.username.toUpperCase(), user.password, address);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error.code).toBe('RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Seed 000's login shares the same counters.
    const seed = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: user.username, password: user.password },
      remoteAddress: '10.0.1.3',
    });
    expect(seed.statusCode).toBe(429);
  });

  it('blocks a client address after its limit of wrong credentials across accounts', async () => {
    const other = await registerUser(t.app);
    for (let i = 0; i < 6; i++)
      expect((await login(`nobody_${i}`, 'wrong password', '10.0.2.1')).statusCode).toBe(401);
    expect((await login(other.username, other.password, '10.0.2.1')).statusCode).toBe(429);
    expect((await login(other.username, other.password, '10.0.2.2')).statusCode).toBe(200);
  });

  it('defaults to 10 per account and 100 per address in 15 minutes', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      loginFailuresPerAccountMax: 10,
      loginFailuresPerAddressMax: 100,
      loginFailureWindowMs: 900_000,
      rateLimitPerUserPerMin: 6000,
    });
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
