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

/** Where quotes come from: Binance, CoinGecko, a replayed recording. */
export interface PriceSource {
  readonly name: string;
  /**
   * The current quote of `symbol` (e.g. `BTCUSDT`).
   * @throws {UnknownSymbolError} when the source does not list it
   * @throws {UpstreamUnavailableError} when the source cannot answer now
   */
  fetchQuote(symbol: string): Promise<Quote>;
}
