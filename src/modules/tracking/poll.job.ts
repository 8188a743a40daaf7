import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import type { Config } from '../../platform/config/env.js';
import type { Db } from '../../platform/db/client.js';
import { runOncePerInterval } from '../../platform/jobs/cluster.js';
import { metricsRegistry } from '../../platform/observability/metrics.js';
import type { Clock } from '../../shared/clock.js';
import { createCoinNames, type PriceService, type PriceSource } from '../market/index.js';
import { TrackingService } from './service.js';

/** What the tracker takes from its process (a subset of the process's shared services). */
export interface TrackingProcessDeps {
  config: Config;
  db: Db;
  cache: KeyValueCache;
  clock: Clock;
  priceSource: PriceSource;
  fallbackPriceSource?: PriceSource;
}

/** Polls of the tracked prices by result: `ok` or `failed` (retried at the next tick). */
export const trackingPolls = new Counter({
  name: 'tracking_polls_total',
  help: 'Polls of every tracked crypto price (one upstream call each), by result: ok, failed',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/**
 * The tracking service of a process. Coin names come from the market module's coin names (seed
 * 004's names: CoinGecko, with the list of coins the product ships behind it when CoinGecko cannot
 * be reached, and before it on the replay source, which runs offline). Prices come from `prices`,
 * the configured source.
 */
export function createTrackingService(deps: TrackingProcessDeps, prices: PriceService): TrackingService {
  return new TrackingService({
    db: deps.db,
    prices,
    coins: createCoinNames(deps),
    quoteAsset: deps.config.quoteAsset,
    historyLimit: deps.config.priceHistoryLimit,
  });
}

/**
 * Starts the tracked-price poll: every `PRICE_POLL_INTERVAL_MS`, once across every process sharing
 * the cache (a Redis `SET NX` per interval slot; a plain timer in process without Redis). A failed
 * poll is logged and counted, writes nothing, and the next slot polls as usual.
 * @returns a function that stops the schedule and waits for a poll in progress
 */
export function startTrackingJobs(
  context: TrackingProcessDeps & { prices: PriceService; logger: Logger },
): () => Promise<void> {
  const service = createTrackingService(context, context.prices);
  const { logger } = context;
  return runOncePerInterval(
    context.cache,
    'tracking-poll',
    context.config.pricePollIntervalMs,
    async () => {
      try {
        const outcome = await service.pollOnce();
        trackingPolls.inc({ result: 'ok' });
        if (outcome.unlisted.length > 0) {
          logger.warn({ symbols: outcome.unlisted }, 'tracked symbols the price source no longer lists');
        }
      } catch (err) {
        trackingPolls.inc({ result: 'failed' });
        logger.warn({ err }, 'tracked price poll failed; the next interval polls again');
      }
    },
    logger,
  );
}
