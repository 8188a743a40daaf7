export { CoinNames, type CoinNamesDeps, createCoinNames, ShippedCoinList } from './coin-names.js';
export { PriceUnavailableError, UnknownSymbolError, UpstreamUnavailableError } from './errors.js';
export type { PriceAt, PriceSource, Quote, SymbolInfo } from './quote.js';
export { marketRoutes } from './routes.js';
export {
  ALL_PRICES_CHANNEL,
  createPriceService,
  PriceService,
  type PriceTick,
  type ServedQuote,
  toPriceTick,
} from './service.js';
export { BinancePriceSource } from './sources/binance.js';
export {
  type CoinGeckoOptions,
  CoinGeckoPriceSource,
  type ResolvedCoin,
} from './sources/coingecko.js';
export { type CoinMarketCapOptions, CoinMarketCapPriceSource } from './sources/coinmarketcap.js';
export { createCoinGeckoSource, createFallbackPriceSource, createPriceSource } from './sources/index.js';
export {
  ReplayFileError,
  type ReplayOptions,
  ReplayPriceSource,
  resolveReplayFiles,
} from './sources/replay.js';
