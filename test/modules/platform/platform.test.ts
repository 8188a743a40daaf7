/**
 * Operations and configuration: health probes, the OpenAPI document and docs, JSON 404s, request
 * ids, and the process refusing a bad configuration with one clear line and exit code 1.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/platform/config/env.js';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';

const run = promisify(execFile);
const t = useTestApp();

describe('operations', () => {
  it('answers the health probes', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok' } });
  });

  it('publishes an OpenAPI 3 document and the docs page', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/auth/register',
      '/api/v1/orders',
      '/api/v1/wallets/{wallet_id}',
      '/api/v1/market/prices/{symbol}',
      '/login',
      '/new_user',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    // Every $ref names a schema the document carries (the web terminal's client is generated from it).
    const refs = new Set(
      [...JSON.stringify(doc).matchAll(/#\/components\/schemas\/([\w.-]+)/g)].map((m) => m[1]),
    );
    expect(refs.size).toBeGreaterThan(5);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty([ref as string]);
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('answers an unknown route with the JSON 404 shape and a request id', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/no/such/route' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'ROUTE_NOT_FOUND', message: 'no route GET /no/such/route', details: {} },
    });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names the request in x-request-id on every error, and on every answer of the account routes', async () => {
    const requestId = /^[0-9a-f-]{36}$/;
    const badSymbol = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC-USDT' });
    expect(badSymbol.statusCode).toBe(422);
    expect(badSymbol.headers['x-request-id']).toMatch(requestId);
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/users/me' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['x-request-id']).toMatch(requestId);
    const user = await registerUser(t.app);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(user.token) });
    expect(me.statusCode).toBe(200);
    expect(me.headers['x-request-id']).toMatch(requestId);
    expect(me.headers['x-request-id']).not.toBe(anonymous.headers['x-request-id']);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'x', password: 'p'.repeat(100_000) }),
    });
    expect(res.statusCode).toBe(413);
  });
});

describe('configuration', () => {
  it('names each bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT: must be a whole number/);
    expect(() => loadConfig({ TAKER_FEE_RATE: '2' })).toThrow(/TAKER_FEE_RATE: must be a fraction/);
    expect(() => loadConfig({ MAKER_FEE_RATE: '1.5' })).toThrow(/MAKER_FEE_RATE: must be a fraction/);
    expect(() => loadConfig({ FAILPOINT: 'somewhere' })).toThrow(/FAILPOINT/);
    expect(() => loadConfig({ NODE_ENV: 'production', FAILPOINT: 'before-commit:order_fill' })).toThrow(
      /FAILPOINT: is for crash tests/,
    );
    expect(loadConfig({ FAILPOINT: 'after-commit:order_fill:8' }).failpoint).toBe(
      'after-commit:order_fill:8',
    );
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL: is required/);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_MS: '10000' })).toThrow(
      /SHUTDOWN_DRAIN_MS: must be below SHUTDOWN_TIMEOUT_MS/,
    );
    expect(loadConfig({})).toMatchObject({ shutdownTimeoutMs: 10_000, shutdownDrainMs: 500 });
    expect(loadConfig({})).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      initialBalance: '10000',
      takerFeeRate: '0.001',
      makerFeeRate: '0.001',
      failpoint: undefined,
    });
  });

  it('stops the process with one clear line and exit code 1, no stack trace', async () => {
    const failure = await run('npx', ['tsx', 'src/main.ts', 'all'], {
      env: { ...process.env, PORT: 'eighty', DATABASE_URL: '' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failure && failure.code).toBe(1);
    const stderr = (failure as { stderr: string }).stderr.trim();
    expect(stderr).toBe('paperbroker: invalid configuration: PORT: must be a whole number');
  });
});
