import type { Config } from '../../../platform/config/env.js';
import type { Clock } from '../../../shared/clock.js';
import type { PriceSource } from '../quote.js';
import { BinancePriceSource } from './binance.js';
import { ReplayFileError, ReplayPriceSource, resolveReplayFiles } from './replay.js';

/**
 * The price source `PRICE_SOURCE` names: `binance`, or `replay:<files>`.
 * @throws {ReplayFileError} for unreadable replay files, or a source this build does not have yet
 */
export function createPriceSource(config: Config, clock: Clock): PriceSource {
  if (config.priceSource === 'binance')
    return new BinancePriceSource(config.binanceBaseUrl, config.upstreamTimeoutMs, clock);
  if (config.priceSource.startsWith('replay:')) {
    return new ReplayPriceSource(
      resolveReplayFiles(config.priceSource.slice('replay:'.length)),
      clock,
      config.replaySpeed,
    );
  }
  throw new ReplayFileError(
    `PRICE_SOURCE: ${config.priceSource} is not available yet; use binance or replay:<file>`,
  );
}
