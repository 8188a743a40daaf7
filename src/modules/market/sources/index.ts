import type { KeyValueCache } from '../../../platform/cache/cache.js';
import { type Config, ConfigError } from '../../../platform/config/env.js';
import type { Clock } from '../../../shared/clock.js';
import type { PriceSource } from '../quote.js';
import { SAMPLE_KLINES_DIR, sampleSymbolInfo } from '../sample.js';
import { BinancePriceSource } from './binance.js';
import { CoinGeckoPriceSource } from './coingecko.js';
import { CoinMarketCapPriceSource } from './coinmarketcap.js';
import { ReplayFileError, ReplayPriceSource, resolveReplayFiles } from './replay.js';

/**
 * The price source `PRICE_SOURCE` names: `binance`, `coingecko`, `coinmarketcap` (needs
 * `COINMARKETCAP_API_KEY`), `replay` (the shipped sample, with its recorded filters) or
 * `replay:<files>`. `cache` holds what the sources share across instances (CoinGecko's symbol → id
 * map, each host's 429/418 back-off).
 * @throws {ReplayFileError} for unreadable replay files, or a source this build does not have
 * @throws {ConfigError} for `coinmarketcap` without `COINMARKETCAP_API_KEY`
 */
export function createPriceSource(config: Config, clock: Clock, cache: KeyValueCache): PriceSource {
  if (config.priceSource === 'binance')
    return new BinancePriceSource({
      baseUrl: config.binanceBaseUrl,
      timeoutMs: config.upstreamTimeoutMs,
      clock,
      cache,
    });
  if (config.priceSource === 'coingecko') return createCoinGeckoSource(config, clock, cache);
  if (config.priceSource === 'coinmarketcap') {
    if (!config.coinmarketcapApiKey) {
      throw new ConfigError('PRICE_SOURCE: coinmarketcap needs COINMARKETCAP_API_KEY');
    }
    return new CoinMarketCapPriceSource({
      baseUrl: config.coinmarketcapBaseUrl,
      apiKey: config.coinmarketcapApiKey,
      timeoutMs: config.upstreamTimeoutMs,
      clock,
      cache,
      quoteAsset: config.quoteAsset,
    });
  }
  if (config.priceSource === 'replay') {
    return new ReplayPriceSource(resolveReplayFiles(SAMPLE_KLINES_DIR), clock, config.replaySpeed, {
      symbolInfo: sampleSymbolInfo(),
    });
  }
  if (config.priceSource.startsWith('replay:')) {
    return new ReplayPriceSource(
      resolveReplayFiles(config.priceSource.slice('replay:'.length)),
      clock,
      config.replaySpeed,
    );
  }
  throw new ReplayFileError(
    `PRICE_SOURCE: ${config.priceSource} is not available; use binance, coingecko, coinmarketcap, replay or replay:<file>`,
  );
}

/**
 * The second source asked when the first does not list a symbol: CoinGecko behind Binance (SPEC C6
 * "CoinGecko as second source"). Other sources have none.
 */
export function createFallbackPriceSource(
  config: Config,
  clock: Clock,
  cache: KeyValueCache,
): PriceSource | undefined {
  return config.priceSource === 'binance' ? createCoinGeckoSource(config, clock, cache) : undefined;
}

/** The CoinGecko source `COINGECKO_BASE_URL` names, its symbol → id map kept in `cache`. */
export function createCoinGeckoSource(
  config: Config,
  clock: Clock,
  cache: KeyValueCache,
): CoinGeckoPriceSource {
  return new CoinGeckoPriceSource({
    baseUrl: config.coingeckoBaseUrl,
    timeoutMs: config.upstreamTimeoutMs,
    clock,
    cache,
    quoteAsset: config.quoteAsset,
  });
}
