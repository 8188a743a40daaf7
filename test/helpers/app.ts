import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { reconcile } from '../../src/modules/ledger/index.js';
import type { PriceSource } from '../../src/modules/market/index.js';
import { BinancePriceSource } from '../../src/modules/market/index.js';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { RedisCache } from '../../src/platform/cache/redis.js';
import { type Config, loadConfig } from '../../src/platform/config/env.js';
import type { Db } from '../../src/platform/db/client.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { type Clock, systemClock } from '../../src/shared/clock.js';
import { Decimal } from '../../src/shared/decimal.js';
import { FakeBinance } from './fake-binance.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/** A built app over a test database, with its fake Binance when the source is Binance. */
export interface TestApp {
  app: FastifyInstance;
  config: Config;
  cache: KeyValueCache;
  binance: FakeBinance | undefined;
  close(): Promise<void>;
}

/**
 * Builds the real app for a test: real PostgreSQL (`db`), Redis when REDIS_URL is set (with a key
 * prefix of its own), Binance replaced by a real HTTP server on loopback.
 */
export async function buildTestApp(
  db: Db,
  options: { env?: Record<string, string>; priceSource?: PriceSource; clock?: Clock } = {},
): Promise<TestApp> {
  const binance = options.priceSource ? undefined : await new FakeBinance().start();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    BINANCE_BASE_URL: binance?.baseUrl ?? 'http://127.0.0.1:9',
    UPSTREAM_TIMEOUT_MS: '1500',
    ...options.env,
  });
  const clock = options.clock ?? systemClock;
  const redisUrl = process.env.REDIS_URL;
  const cache = redisUrl
    ? new RedisCache(redisUrl, `pbtest:${randomBytes(6).toString('hex')}:`)
    : new MemoryCache(() => clock.nowMs());
  const app = await buildApp({
    config,
    db,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    cache,
    priceSource:
      options.priceSource ?? new BinancePriceSource(config.binanceBaseUrl, config.upstreamTimeoutMs, clock),
    clock,
    jwtSecret: TEST_JWT_SECRET,
  });
  await app.ready();
  return {
    app,
    config,
    cache,
    binance,
    close: async () => {
      await app.close();
      await cache.close();
      await binance?.close();
    },
  };
}

/** Registers a user through the API and returns its token, id and default wallet id. */
export async function registerUser(
  app: FastifyInstance,
  username = `user_${randomBytes(4).toString('hex')}`,
): Promise<{ token: string; userId: string; walletId: string; username: string; password: string }> {
  const password = 'correct horse battery';
  const registered = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { username, password },
  });
  expect(registered.statusCode).toBe(201);
  const body = registered.json<{ user: { id: string }; access_token: string }>();
  const wallets = await app.inject({
    method: 'GET',
    url: '/api/v1/wallets',
    headers: { authorization: `Bearer ${body.access_token}` },
  });
  const walletId = wallets.json<{ items: { id: string }[] }>().items[0]!.id;
  return { token: body.access_token, userId: body.user.id, walletId, username, password };
}

/** Asserts every rule of the ledger on the whole database (run after each test). */
export async function expectLedgerSound(db: Db): Promise<void> {
  const report = await reconcile(db);
  expect(report.unbalancedJournals).toEqual([]);
  expect(report.balanceMismatches).toEqual([]);
  expect(report.brokenChains).toEqual([]);
  for (const { asset, total } of report.assetTotals)
    expect({ asset, zero: new Decimal(total).isZero() }).toEqual({ asset, zero: true });
}

/** `Authorization` header for a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
