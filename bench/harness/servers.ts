/**
 * The servers under test, each on its own port of 127.0.0.1 only: the real app (`buildApp`) and the
 * bare Fastify apps of the baselines. Each `close` waits until every request still running (those
 * whose client went away at the end of a timed load included) has finished, so that the checks
 * after it read a final state.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import type { PriceSource } from '../../src/modules/market/quote.js';
import { ReplayPriceSource } from '../../src/modules/market/sources/replay.js';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { type Config, loadConfig } from '../../src/platform/config/env.js';
import type { Db } from '../../src/platform/db/client.js';
import { type EventBus, MemoryEventBus } from '../../src/platform/events/bus.js';
import { systemClock } from '../../src/shared/clock.js';
import { type Cleanup, once } from './cleanup.js';

/** The recorded klines the real app's prices are replayed from (`../shared/fixtures`). */
export const KLINE_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/fixtures/market/klines/BTCUSDT-1m-2021-05-16.json',
);
/** Connections of each bare baseline app's own `pg` pool. */
export const BASELINE_POOL_SIZE = 20;
/** Longest wait for the app's requests still in flight to finish after the load stops. */
const POOL_DRAIN_MS_MAX = 60_000;

/**
 * The app's configuration from the environment, for the bench: no log, no rate limit (one token
 * sends thousands of requests a second), and `overrides` (e.g. the price source) on top.
 */
export function benchConfig(overrides: Record<string, string>): Config {
  return loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN: '0',
    PUBLIC_SYMBOLS_PER_ADDRESS_PER_MIN: '0',
    ...overrides,
  });
}

/** `http://127.0.0.1:<port>` of a listening app. */
export function listenUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Resolves once `pool` has no client checked out and nobody waiting for one.
 * @throws {Error} after `timeoutMs`
 */
async function waitForIdlePool(pool: pg.Pool, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pool.waitingCount > 0 || pool.idleCount < pool.totalCount) {
    if (Date.now() > deadline) {
      throw new Error(
        `the pool is still busy ${timeoutMs / 1000} s after the load stopped ` +
          `(${pool.totalCount - pool.idleCount} checked out, ${pool.waitingCount} waiting)`,
      );
    }
    await sleep(50);
  }
}

/** A server under test: where it listens and how to stop it once its load is over. */
export interface ServerUnderTest {
  url: string;
  /** closes it and waits for its requests still running */
  close: () => Promise<void>;
}

/**
 * A bare Fastify app (no logger, no plugins) with one POST route and its own `pg` pool of
 * {@link BASELINE_POOL_SIZE} on `env.benchUrl`. `handler` runs with a client checked out and answers
 * the status code; a throw rolls back.
 * @returns the route's whole URL
 */
export async function startBareServer(
  env: { benchUrl: string; cleanups: Cleanup[] },
  routePath: string,
  handler: (client: pg.PoolClient, body: unknown) => Promise<number>,
): Promise<ServerUnderTest & { pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: env.benchUrl, max: BASELINE_POOL_SIZE });
  pool.on('error', () => undefined);
  const app = Fastify({ logger: false });
  app.post(routePath, async (request, reply) => {
    const client = await pool.connect();
    let status: number;
    try {
      status = await handler(client, request.body);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return reply.status(status).send({ ok: status < 300 });
  });
  const endPool = once(() => pool.end());
  const closeApp = once(() => app.close());
  env.cleanups.push({ name: `close ${routePath} pool`, run: endPool });
  env.cleanups.push({ name: `close ${routePath} app`, run: closeApp });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `${listenUrl(app)}${routePath}`,
    pool,
    close: async () => {
      await closeApp();
      await waitForIdlePool(pool, POOL_DRAIN_MS_MAX);
      await endPool();
    },
  };
}

/** What the real app of every scenario shares: the run's configuration, database and secret. */
export interface AppEnv {
  config: Config;
  db: Db;
  logger: Logger;
  jwtSecret: string;
  cleanups: Cleanup[];
}

/** What a scenario may change in the real app; by default the replayed klines and an in-process cache. */
export interface AppOptions {
  config?: Config;
  cache?: KeyValueCache;
  priceSource?: PriceSource;
  /** the listen backlog, for bursts of connections opened at once (Node's default is 511) */
  backlog?: number;
  /** the event bus, shared by the instances of a scenario (default: one in-process bus per app) */
  events?: EventBus;
}

/**
 * The real app on its own port, for one scenario. `close` stops it and waits until every request
 * still running (those whose client went away at the end of the load included) has finished.
 */
export async function startApp(
  env: AppEnv,
  options: AppOptions = {},
): Promise<ServerUnderTest & { app: FastifyInstance }> {
  const app = await buildApp({
    config: options.config ?? env.config,
    db: env.db,
    logger: env.logger,
    cache: options.cache ?? new MemoryCache(),
    events: options.events ?? new MemoryEventBus(),
    priceSource: options.priceSource ?? new ReplayPriceSource([KLINE_FILE], systemClock),
    clock: systemClock,
    jwtSecret: env.jwtSecret,
  });
  const closeApp = once(() => app.close());
  env.cleanups.push({ name: 'close app', run: closeApp });
  await app.listen({
    host: '127.0.0.1',
    port: 0,
    ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
  });
  return {
    app,
    url: listenUrl(app),
    close: async () => {
      await closeApp();
      await waitForIdlePool(env.db.$client, POOL_DRAIN_MS_MAX);
    },
  };
}
