import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { startJobs } from '../../src/jobs.js';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { createSettlementScheduler } from '../../src/modules/bets/index.js';
import type { PriceSource } from '../../src/modules/market/index.js';
import { BinancePriceSource } from '../../src/modules/market/index.js';
import { setUserRole } from '../../src/modules/users/index.js';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { RedisCache } from '../../src/platform/cache/redis.js';
import { type Config, loadConfig } from '../../src/platform/config/env.js';
import type { Db } from '../../src/platform/db/client.js';
import { type EventBus, MemoryEventBus, RedisEventBus } from '../../src/platform/events/bus.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import type { ProcessDeps } from '../../src/process-deps.js';
import { type Clock, systemClock } from '../../src/shared/clock.js';
import { Decimal } from '../../src/shared/decimal.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { FakeBinance } from './fake-binance.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/** A built app over a test database, with its fake Binance when the source is Binance. */
export interface TestApp {
  app: FastifyInstance;
  config: Config;
  cache: KeyValueCache;
  events: EventBus;
  binance: FakeBinance | undefined;
  /** what the app and its jobs were built from (e.g. to start a second worker on the same services) */
  deps: ProcessDeps;
  close(): Promise<void>;
}

/** How a test app is built: configuration overrides, another price source, a controlled clock. */
export interface TestAppOptions {
  env?: Record<string, string>;
  priceSource?: PriceSource;
  /** asked when the price source does not list a symbol */
  fallbackPriceSource?: PriceSource;
  clock?: Clock;
  /** also start the worker's background jobs (settlement, polling, liquidation) on the same cache and bus */
  jobs?: boolean;
  /**
   * a cache and an event bus shared with other apps of the test (several instances, as separate
   * processes on one Redis would be); the test closes them, not the app
   */
  shared?: { cache: KeyValueCache; events: EventBus };
  /** the process's logger (default: silent, or TEST_LOG_LEVEL) */
  logger?: Logger;
  /** the built web terminal's folder (default `dist/web`, built by the global setup) */
  webRoot?: string;
}

/**
 * Builds the real app for a test: real PostgreSQL (`db`), Redis when REDIS_URL is set (with a key
 * prefix of its own), Binance replaced by a real HTTP server on loopback.
 */
export async function buildTestApp(db: Db, options: TestAppOptions = {}): Promise<TestApp> {
  const binance = options.priceSource ? undefined : await new FakeBinance().start();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    BINANCE_BASE_URL: binance?.baseUrl ?? 'http://127.0.0.1:9',
    UPSTREAM_TIMEOUT_MS: '1500',
    // Every request of a test comes from one address: the public limits have tests of their own.
    PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN: '0',
    PUBLIC_SYMBOLS_PER_ADDRESS_PER_MIN: '0',
    ...options.env,
  });
  const clock = options.clock ?? systemClock;
  const redisUrl = process.env.REDIS_URL;
  const cache =
    options.shared?.cache ??
    (redisUrl
      ? new RedisCache(redisUrl, `pbtest:${randomBytes(6).toString('hex')}:`)
      : new MemoryCache(() => clock.nowMs()));
  const events =
    options.shared?.events ??
    (redisUrl
      ? new RedisEventBus(redisUrl, `pbtest:${randomBytes(6).toString('hex')}:`)
      : new MemoryEventBus());
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const deps: ProcessDeps = {
    config,
    db,
    logger,
    cache,
    events,
    priceSource:
      options.priceSource ??
      new BinancePriceSource({
        baseUrl: config.binanceBaseUrl,
        timeoutMs: config.upstreamTimeoutMs,
        clock,
        cache,
      }),
    clock,
    // One per app, shared with its jobs (as main.ts does): in-process timers fire in those jobs.
    betScheduler: createSettlementScheduler(redisUrl, cache, logger),
    ...(options.fallbackPriceSource ? { fallbackPriceSource: options.fallbackPriceSource } : {}),
  };
  const app = await buildApp({ ...deps, jwtSecret: TEST_JWT_SECRET, webRoot: options.webRoot });
  await app.ready();
  const stopJobs = options.jobs ? await startJobs(deps) : undefined;
  return {
    app,
    config,
    cache,
    events,
    binance,
    deps,
    close: async () => {
      await stopJobs?.();
      await app.close();
      await deps.betScheduler?.close();
      if (!options.shared) {
        await events.close();
        await cache.close();
      }
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

/**
 * Registers a user, makes it an admin (there is no route for that: an operator runs
 * `npm run admin -- grant`, whose use case this calls in process) and logs in again so the token
 * carries the role; returns its access token.
 */
export async function registerAdmin(app: FastifyInstance, db: Db): Promise<string> {
  const admin = await registerUser(app);
  await setUserRole(db, admin.username, 'admin');
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: admin.username, password: admin.password },
  });
  expect(login.statusCode).toBe(200);
  return login.json<{ access_token: string }>().access_token;
}

/**
 * Asserts every rule of the ledger on the whole database (run after each test), every locked
 * purpose against its rows included.
 */
export async function expectLedgerSound(db: Db): Promise<void> {
  const report = await reconcileAll(db);
  expect(report.unbalancedJournals).toEqual([]);
  expect(report.balanceMismatches).toEqual([]);
  expect(report.brokenChains).toEqual([]);
  expect(report.purposeMismatches).toEqual([]);
  for (const { asset, total } of report.assetTotals)
    expect({ asset, zero: new Decimal(total).isZero() }).toEqual({ asset, zero: true });
}

/**
 * Listens on a free port of 127.0.0.1 and returns `http://127.0.0.1:<port>`: for what `inject`
 * skips (Node's HTTP parser, real sockets). The app's `close()` stops it.
 */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** Logs the user in again and returns its auth cookie as a `Cookie` header value (`pb_access_token=…`). */
export async function authCookieOf(
  app: FastifyInstance,
  user: { username: string; password: string },
): Promise<string> {
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: user.username, password: user.password },
  });
  expect(login.statusCode).toBe(200);
  const cookie = String(login.headers['set-cookie']).split(';')[0];
  expect(cookie).toMatch(/^pb_access_token=/);
  return cookie!;
}

/** `Authorization` header for a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** One test file's app and database, available inside its tests (set up by `useTestApp`). */
export interface TestContext {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly binance: FakeBinance | undefined;
  /** the app's event bus (account events, price ticks) */
  readonly events: EventBus;
}

/**
 * Registers the hooks every app test file needs: a fresh database and app before the file's tests,
 * the ledger checked after each test, everything closed and dropped after the file.
 */
export function useTestApp(options: TestAppOptions = {}): TestContext {
  let database: TestDatabase | undefined;
  let built: TestApp | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    built = await buildTestApp(database.db, options);
  });
  afterEach(async () => expectLedgerSound(ready(database).db));
  afterAll(async () => {
    await built?.close();
    await database?.drop();
  });
  return {
    get app() {
      return ready(built).app;
    },
    get db() {
      return ready(database).db;
    },
    get binance() {
      return ready(built).binance;
    },
    get events() {
      return ready(built).events;
    },
  };
}

/**
 * For files whose tests each need their own app (another clock, source or configuration): one
 * database for the file, and `build(options)` makes an app over it that is closed after the test.
 */
export function useAppFactory(): { build(options?: TestAppOptions): Promise<TestApp> } {
  let database: TestDatabase | undefined;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => database?.drop());
  return {
    build: async (options = {}) => {
      const app = await buildTestApp(ready(database).db, options);
      apps.push(app);
      return app;
    },
  };
}

function ready<T>(value: T | undefined): T {
  if (value === undefined)
    throw new Error('useTestApp: the app exists only inside the file’s tests and hooks');
  return value;
}

/** `POST /api/v1/orders` as `token`'s user. */
export function postOrder(app: FastifyInstance, token: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/api/v1/orders', headers: bearer(token), payload });
}

/** `GET /api/v1/wallets/{walletId}` as `token`'s user, the body parsed. */
export async function getWallet(
  app: FastifyInstance,
  token: string,
  walletId: string,
): Promise<{ balance: string; balances: { asset: string; available: string; locked: string }[] }> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/wallets/${walletId}`, headers: bearer(token) });
  expect(res.statusCode).toBe(200);
  return res.json();
}
