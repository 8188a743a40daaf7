import type { Logger } from 'pino';
import type { SettlementScheduler } from './modules/bets/index.js';
import type { PriceSource } from './modules/market/index.js';
import type { KeyValueCache } from './platform/cache/cache.js';
import type { Config } from './platform/config/env.js';
import type { Db } from './platform/db/client.js';
import type { EventBus } from './platform/events/bus.js';
import type { Clock } from './shared/clock.js';

/**
 * What the API and the background jobs of a process are built from; the process (main.ts) or a test
 * owns their lifecycles.
 */
export interface ProcessDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** shared by every instance when it is Redis */
  cache: KeyValueCache;
  /** pub/sub shared by every instance (price ticks, account events) */
  events: EventBus;
  priceSource: PriceSource;
  /** asked when `priceSource` does not list a symbol (CoinGecko behind Binance) */
  fallbackPriceSource?: PriceSource;
  clock: Clock;
  /**
   * When bets are settled: one per process, shared by the API (which schedules) and the jobs (which
   * settle), so that in the `all` role without Redis the in-process timers fire where they were set.
   * Absent → the API and the jobs each make (and close) their own.
   */
  betScheduler?: SettlementScheduler;
}
