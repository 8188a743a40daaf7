import { buildApp } from '../src/app.js';
import { createSettlementScheduler } from '../src/modules/bets/index.js';
import { createPriceSource } from '../src/modules/market/index.js';
import { MemoryCache } from '../src/platform/cache/memory.js';
import { loadConfig } from '../src/platform/config/env.js';
import { createDb } from '../src/platform/db/client.js';
import { MemoryEventBus } from '../src/platform/events/bus.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { systemClock } from '../src/shared/clock.js';

/** A signing secret for a document that is never served: no token is ever issued with it. */
const UNUSED_SECRET = 'openapi-document-only-0123456789abcdef';

/**
 * The server's own OpenAPI document (what `GET /openapi.json` answers), built without a database
 * or a listening socket: the app is assembled and made ready, its document read, and it is closed.
 * The pool points nowhere and is never asked for a connection (no route runs).
 *
 * @returns the document as an object
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  // Binance as the source: nothing is fetched (no route runs) and no recording is read.
  const config = loadConfig({ PRICE_SOURCE: 'binance', LOG_LEVEL: 'silent', DATA_DIR: 'data' });
  const logger = createLogger('silent');
  const db = createDb('postgres://127.0.0.1:1/unused', 1);
  const cache = new MemoryCache();
  const betScheduler = createSettlementScheduler(undefined, cache, logger);
  const app = await buildApp({
    config,
    db,
    logger,
    cache,
    events: new MemoryEventBus(),
    priceSource: createPriceSource(config, systemClock, cache),
    clock: systemClock,
    betScheduler,
    jwtSecret: UNUSED_SECRET,
  });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    await betScheduler.close();
    await cache.close();
    await db.$client.end();
  }
}
