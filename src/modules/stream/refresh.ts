import type { Logger } from 'pino';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import { runEvery } from '../../platform/jobs/interval.js';
import type { PriceService } from '../market/index.js';
import type { StreamHub } from './hub.js';

/** The shortest refresh interval of a watched price (ms), whatever the cache TTL. */
const REFRESH_INTERVAL_MS_MIN = 1_000;

/** How often a watched price is refreshed: max(`PRICE_CACHE_TTL_MS`, 1 s) (SPEC §3 "Streams"). */
export function refreshIntervalMs(priceCacheTtlMs: number): number {
  return Math.max(priceCacheTtlMs, REFRESH_INTERVAL_MS_MIN);
}

/**
 * Keeps the prices that stream clients of this instance watch fresh: every `intervalMs`, the watched
 * symbols whose refresh of the current interval no instance has claimed yet are claimed (one
 * `SET NX` per symbol and interval slot in the shared cache, Redis when set) and fetched together in
 * one batch request. So, across the cluster, each watched symbol costs at most one upstream request
 * per interval, and the symbols an instance claims cost it one batch. The price service publishes
 * what it fetched on `prices:<SYMBOL>`, which every instance's hub fans out to its clients.
 * @returns a function that stops the schedule and waits for a refresh in progress
 */
export function startPriceRefresh(
  hub: StreamHub,
  prices: PriceService,
  cache: KeyValueCache,
  intervalMs: number,
  logger: Logger,
  nowMs: () => number = Date.now,
): () => Promise<void> {
  return runEvery(
    'stream-price-refresh',
    intervalMs,
    async () => {
      const watched = hub.watchedSymbols();
      if (watched.length === 0) return;
      const slot = Math.floor(nowMs() / intervalMs);
      const claims = await Promise.all(
        watched.map((symbol) => cache.setIfAbsent(`stream-refresh:${symbol}:${slot}`, '1', intervalMs * 2)),
      );
      const claimed = watched.filter((_, i) => claims[i]);
      if (claimed.length === 0) return;
      // A symbol without a price now (upstream down, unlisted) must not stop the others: a refusal of
      // the batch is logged at debug level and the next interval tries again.
      await prices
        .getQuotes(claimed, 'read', { refresh: true })
        .catch((err: unknown) =>
          logger.debug({ err, symbols: claimed.length }, 'watched prices not refreshed'),
        );
    },
    logger,
  );
}
