import type { Logger } from 'pino';
import { createSettlementScheduler, type SettlementScheduler, startBetJobs } from './modules/bets/index.js';
import { Ledger } from './modules/ledger/index.js';
import { createPriceService, type PriceService, type PriceSource } from './modules/market/index.js';
import { startTrackingJobs } from './modules/tracking/index.js';
import { startLiquidationJob } from './modules/trading/index.js';
import type { KeyValueCache } from './platform/cache/cache.js';
import type { Config } from './platform/config/env.js';
import type { Db } from './platform/db/client.js';
import type { EventBus } from './platform/events/bus.js';
import { purgeExpiredIdempotencyKeys } from './platform/http/idempotency.js';
import { runEvery } from './platform/jobs/interval.js';
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

/** The services every job shares: one ledger writer and one price service per process. */
export interface JobContext extends ProcessDeps {
  ledger: Ledger;
  prices: PriceService;
}

/** How often expired idempotency records are deleted (ms). */
const IDEMPOTENCY_PURGE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Starts every background job of the `worker` role (also run by `all`): idempotency-key purging,
 * bet settlement (scheduled jobs and the overdue sweeper), and each module's schedules. Jobs that
 * must run once cluster-wide claim their turn in the shared cache (Redis when set).
 * @returns a function that stops every job and waits for the runs in progress
 */
export async function startJobs(deps: ProcessDeps): Promise<() => Promise<void>> {
  const context: JobContext = {
    ...deps,
    ledger: new Ledger(),
    prices: createPriceService(
      deps.config,
      deps.cache,
      deps.clock,
      deps.priceSource,
      deps.fallbackPriceSource,
      deps.events,
    ),
  };
  const { db, logger } = context;
  const stops: (() => Promise<void>)[] = [];
  // Idempotency records are replayed for 24 h; older ones are deleted in small batches.
  stops.push(
    runEvery(
      'idempotency-purge',
      IDEMPOTENCY_PURGE_INTERVAL_MS,
      async () => {
        const deleted = await purgeExpiredIdempotencyKeys(db);
        if (deleted > 0) logger.info({ deleted }, 'expired idempotency keys purged');
      },
      logger,
    ),
  );
  stops.push(
    await startLiquidationJob(
      {
        ...context,
        takerFeeRate: context.config.takerFeeRate,
        margin: {
          initial: context.config.shortInitialMarginRate,
          maintenance: context.config.shortMaintenanceMarginRate,
        },
      },
      context.cache,
      context.config.liquidationCheckIntervalMs,
    ),
  );
  stops.push(startTrackingJobs(context));
  const betScheduler =
    deps.betScheduler ?? createSettlementScheduler(deps.config.redisUrl, deps.cache, logger);
  if (!deps.betScheduler) stops.push(() => betScheduler.close());
  stops.push(
    await startBetJobs({ ...context, sweepIntervalMs: deps.config.betSweepIntervalMs }, betScheduler),
  );
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
