/**
 * A price of one symbol at one instant, as every module uses it. Prices are decimal strings in the
 * quote asset; `bid` is the best price a seller gets, `ask` the best price a buyer pays; `last` is
 * the last trade. Where no book is known, bid = ask = last.
 */
export interface Quote {
  symbol: string;
  last: string;
  bid: string;
  ask: string;
  /** `binance`, `coingecko`, `replay` */
  source: string;
  /** when the upstream's figure was true (ms since epoch) */
  asOfMs: number;
}

/** 24 h statistics of a symbol (Binance's 24hr ticker); prices and volumes are decimal strings. */
export interface Ticker24h {
  symbol: string;
  open: string;
  high: string;
  low: string;
  last: string;
  /** base asset traded in the window */
  volume: string;
  /** quote asset traded in the window */
  quoteVolume: string;
  /** last − open, quote asset */
  priceChange: string;
  /** (last − open) / open × 100 */
  priceChangePercent: string;
  openTimeMs: number;
  closeTimeMs: number;
  /** trades in the window */
  tradeCount: number;
}

/** One OHLCV bucket (Binance kline); prices and volumes are decimal strings. */
export interface Candle {
  openTimeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  /** base asset */
  volume: string;
  closeTimeMs: number;
}

/** A tradable symbol with Binance's filters (from exchangeInfo). */
export interface SymbolInfo {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** PRICE_FILTER tickSize/minPrice/maxPrice, LOT_SIZE minQty/maxQty/stepSize, (MIN_)NOTIONAL minNotional; decimal strings */
  tickSize?: string;
  minPrice?: string;
  maxPrice?: string;
  minQty?: string;
  maxQty?: string;
  stepSize?: string;
  minNotional?: string;
}

/** Binance's kline intervals. */
export const CANDLE_INTERVALS = [
  '1s',
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

/** Where quotes come from: Binance, CoinGecko, a replayed recording. */
export interface PriceSource {
  readonly name: string;
  /**
   * The current quote of `symbol` (e.g. `BTCUSDT`).
   * @throws {UnknownSymbolError} when the source does not list it
   * @throws {UpstreamUnavailableError} when the source cannot answer now
   */
  fetchQuote(symbol: string): Promise<Quote>;
  /**
   * Quotes of several symbols in as few upstream calls as the source allows, whatever their number
   * (one batch where it has a batch endpoint; Binance's cheapest batch above 20 symbols is a pair of
   * requests). Symbols the source does not list are left out of the map.
   * @throws {UpstreamUnavailableError} when the source cannot answer now
   */
  fetchQuotes?(symbols: string[]): Promise<Map<string, Quote>>;
  /** 24 h statistics; sources without them leave it out. */
  fetchTicker24h?(symbol: string): Promise<Ticker24h>;
  /** Candles, oldest first, at most `limit` (≤ 1000), ending now. */
  fetchCandles?(symbol: string, interval: CandleInterval, limit: number): Promise<Candle[]>;
  /** Every symbol the source lists. */
  fetchSymbols?(): Promise<SymbolInfo[]>;
  /**
   * The market's price of `symbol` at each of several past instants: the last price at or before
   * each instant, as the source recorded it (a settlement made late is made at the price of its due
   * time). An instant the source cannot price is left out of the map; sources without history leave
   * the method out.
   * @param instantsMs past instants (ms since epoch), in any order, duplicates allowed
   * @returns instant → the price then (quote asset) and the instant that price was true (ms, ≤ the instant)
   * @throws {UpstreamUnavailableError} when the source cannot answer now
   */
  fetchPricesAt?(symbol: string, instantsMs: readonly number[]): Promise<Map<number, PriceAt>>;
}

/** A past price: `price` (decimal string, quote asset) was the last price at `atMs` (ms since epoch). */
export interface PriceAt {
  price: string;
  atMs: number;
}
