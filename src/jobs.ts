import { createSettlementScheduler, startBetJobs } from './modules/bets/index.js';
import { Ledger } from './modules/ledger/index.js';
import { createPriceService, type PriceService } from './modules/market/index.js';
import { startTrackingJobs } from './modules/tracking/index.js';
import { startLiquidationJob, startOrderMatcher } from './modules/trading/index.js';
import { purgeExpiredIdempotencyKeys } from './platform/commands/idempotency.js';
import { CommandRunner } from './platform/commands/runner.js';
import { runEvery } from './platform/jobs/interval.js';
import type { ProcessDeps } from './process-deps.js';

/** The services every job shares: one ledger writer, one command runner, one price service. */
export interface JobContext extends ProcessDeps {
  ledger: Ledger;
  /** where every money movement of the jobs runs (settlements, liquidations) */
  runner: CommandRunner;
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
    runner: new CommandRunner(deps.db, {
      failpoint: deps.config.failpoint,
      onFailpoint: (at, batchSize) =>
        deps.logger.warn({ failpoint: at, batchSize }, 'failpoint reached: hanging until killed'),
    }),
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
  // Stopped last (the stops run in reverse): what the jobs queued is written before the database closes.
  const stops: (() => Promise<void>)[] = [() => context.runner.close()];
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
  stops.push(
    await startOrderMatcher(
      {
        ...context,
        makerFeeRate: context.config.makerFeeRate,
        takerFeeRate: context.config.takerFeeRate,
        margin: {
          initial: context.config.shortInitialMarginRate,
          maintenance: context.config.shortMaintenanceMarginRate,
        },
      },
      context.cache,
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
