import { z } from 'zod';
import type { KeyValueCache } from '../../../platform/cache/cache.js';
import { defined } from '../../../shared/assert.js';
import type { Clock } from '../../../shared/clock.js';
import { isDecimalString } from '../../../shared/decimal.js';
import { UnknownSymbolError, UpstreamUnavailableError } from '../errors.js';
import type { Candle, CandleInterval, PriceAt, PriceSource, Quote, SymbolInfo, Ticker24h } from '../quote.js';
import { getUpstreamJson, UpstreamBackoff } from './upstream.js';

const decimalString = z.string().refine(isDecimalString, 'a decimal string');
const signedDecimalString = z.string().regex(/^-?\d{1,40}(\.\d{1,40})?$/, 'a signed decimal string');

/** `GET /api/v3/ticker/24hr` (FULL); Binance sends decimals as strings. */
const ticker24hrSchema = z.object({
  symbol: z.string(),
  priceChange: signedDecimalString,
  priceChangePercent: signedDecimalString,
  lastPrice: decimalString,
  bidPrice: decimalString,
  askPrice: decimalString,
  openPrice: decimalString,
  highPrice: decimalString,
  lowPrice: decimalString,
  volume: decimalString,
  quoteVolume: decimalString,
  openTime: z.number().int(),
  closeTime: z.number().int(),
  count: z.number().int(),
});
type RawTicker = z.infer<typeof ticker24hrSchema>;

/** `GET /api/v3/ticker/price`: the last trade price of a symbol. */
const lastPriceSchema = z.object({ symbol: z.string(), price: decimalString });
/** A symbol's last trade price as Binance sends it: `{"symbol":"BTCUSDT","price":"60740.00000000"}`. */
export type BinanceLastPrice = z.infer<typeof lastPriceSchema>;

/** `GET /api/v3/ticker/bookTicker`: best bid and ask with their quantities (base asset). */
const bookTickerSchema = z.object({
  symbol: z.string(),
  bidPrice: decimalString,
  bidQty: decimalString,
  askPrice: decimalString,
  askQty: decimalString,
});
/** A symbol's best bid and ask as Binance sends them; an empty side is `"0.00000000"`. */
export type BinanceBookTicker = z.infer<typeof bookTickerSchema>;

/** `GET /api/v3/klines`: `[openTime, open, high, low, close, volume, closeTime, …]`. */
const klineSchema = z
  .tuple([
    z.number().int(),
    decimalString,
    decimalString,
    decimalString,
    decimalString,
    decimalString,
    z.number().int(),
  ])
  .rest(z.unknown());

const filterSchema = z.looseObject({ filterType: z.string() });
/** `GET /api/v3/exchangeInfo`, the parts used here. */
const exchangeInfoSchema = z.object({
  symbols: z.array(
    z.object({
      symbol: z.string(),
      status: z.string(),
      baseAsset: z.string(),
      quoteAsset: z.string(),
      filters: z.array(filterSchema),
    }),
  ),
});

const binanceErrorSchema = z.object({ code: z.number().int(), msg: z.string() });

/** Binance error code for a symbol it does not list. */
const INVALID_SYMBOL_CODE = -1121;
/**
 * Answers that stop every call to the host until their `Retry-After`: 429 (request weight over the
 * limit) and 418 (the IP ban Binance gives a client that went on after a 429).
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
 */
const RATE_LIMIT_STATUSES: readonly number[] = [429, 418];
/** Binance's IP bans (418) last from 2 minutes to 3 days: a `Retry-After` up to that is honoured (s). */
const BAN_SECONDS_MAX = 3 * 24 * 60 * 60;
/** Where the back-off lives in the cache: one key for the host, read by every instance. */
const BACKOFF_CACHE_KEY = 'binance:backoff';
/** exchangeInfo is refreshed this often (ms): symbols and filters change rarely. */
const EXCHANGE_INFO_TTL_MS = 60 * 60 * 1000;
/** Symbols per batch request, so that the URL stays short (100 × ~16 characters once encoded). */
const BATCH_SYMBOLS_MAX = 100;
/**
 * A batch of up to this many symbols asks `ticker/24hr` (weight 2 for 1–20 symbols), which alone
 * carries last, bid and ask. A larger one asks `ticker/price` + `ticker/bookTicker` instead: 4 + 4
 * = 8, where `ticker/24hr` costs 40 (21–100 symbols) or 80 (above).
 */
const TICKER_24HR_CHEAP_SYMBOLS_MAX = 20;

/** Klines one `GET /api/v3/klines` returns at most (weight 2 whatever the limit up to it). */
const KLINES_LIMIT_MAX = 1000;
/** How far back a past price is looked for: seconds without trades have no 1 s kline (ms). */
const PRICE_AT_LOOKBACK_MS = 60_000;
const ROUTE_TICKER_24HR = '/api/v3/ticker/24hr';
const ROUTE_TICKER_PRICE = '/api/v3/ticker/price';
const ROUTE_BOOK_TICKER = '/api/v3/ticker/bookTicker';

/** Where and how `BinancePriceSource` calls Binance. */
export interface BinanceOptions {
  /** e.g. `https://api.binance.com` (no trailing slash) */
  baseUrl: string;
  /** budget of one upstream call, retries included (ms) */
  timeoutMs: number;
  clock: Clock;
  /** holds the 429/418 back-off: Redis when `REDIS_URL` is set, so that every instance obeys it */
  cache: KeyValueCache;
}

/**
 * Binance spot market data over plain HTTP (fetch), no exchange client library. Every call goes
 * through {@link getUpstreamJson}: a total time budget (retries included), network errors and 5xx
 * tried once more, `upstream_requests_total` counted by host, route and status. A 429 or 418 stops
 * every call to the host, from every instance sharing the cache, until its `Retry-After` has passed
 * (one record, `binance:backoff`). The request weight Binance reports (`X-MBX-USED-WEIGHT-1M`) is
 * kept in `usedWeight1m`.
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
 */
export class BinancePriceSource implements PriceSource {
  readonly name = 'binance';
  /** Request weight Binance reported for the current minute (`X-MBX-USED-WEIGHT-1M`). */
  usedWeight1m = 0;
  private exchangeInfo: { symbols: SymbolInfo[]; fetchedAtMs: number } | undefined;
  private exchangeInfoFlight: Promise<SymbolInfo[]> | undefined;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly backoff: UpstreamBackoff;

  constructor(options: BinanceOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock;
    this.backoff = new UpstreamBackoff(options.cache, BACKOFF_CACHE_KEY, options.clock);
  }

  /**
   * Last price and best bid/ask of one symbol in one call: `GET /api/v3/ticker/24hr?symbol=BTCUSDT`
   * (weight 2). `ticker/price` + `ticker/bookTicker` would cost 2 + 2 and two requests for the same.
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics
   * @throws {UnknownSymbolError} on Binance error -1121 (Invalid symbol)
   * @throws {UpstreamUnavailableError} on timeout, network error, 429/418, 5xx or a malformed body
   */
  async fetchQuote(symbol: string): Promise<Quote> {
    const ticker = await this.fetchRawTicker(symbol);
    return this.toQuote(ticker.symbol, ticker.lastPrice, ticker.bidPrice, ticker.askPrice);
  }

  /**
   * Quotes of several symbols, per 100: up to 20 in one `GET /api/v3/ticker/24hr?symbols=[…]`
   * (weight 2); more in one `ticker/price` and one `ticker/bookTicker` call (weight 4 + 4, where
   * 24hr would cost 40), last price and book merged per symbol. Binance refuses a whole list for one
   * unknown symbol, so symbols are first checked against exchangeInfo; unknown ones are left out.
   * @throws {UpstreamUnavailableError} when Binance cannot answer now
   */
  async fetchQuotes(symbols: string[]): Promise<Map<string, Quote>> {
    const listed = new Set((await this.fetchSymbols()).map((s) => s.symbol));
    const wanted = [...new Set(symbols)].filter((s) => listed.has(s));
    const quotes = new Map<string, Quote>();
    for (let i = 0; i < wanted.length; i += BATCH_SYMBOLS_MAX) {
      const chunk = wanted.slice(i, i + BATCH_SYMBOLS_MAX);
      const asked = new Set(chunk);
      const found =
        chunk.length <= TICKER_24HR_CHEAP_SYMBOLS_MAX
          ? await this.quotesFromTickers(chunk)
          : await this.quotesFromPriceAndBook(chunk);
      for (const quote of found) if (asked.has(quote.symbol)) quotes.set(quote.symbol, quote);
    }
    return quotes;
  }

  /**
   * The last trade price of one symbol: `GET /api/v3/ticker/price?symbol=BTCUSDT` (weight 2).
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#symbol-price-ticker
   * @throws {UnknownSymbolError} on Binance error -1121 (Invalid symbol)
   * @throws {UpstreamUnavailableError} on timeout, network error, 429/418, 5xx or a malformed body
   */
  async fetchLastPrice(symbol: string): Promise<BinanceLastPrice> {
    return await this.getOne(ROUTE_TICKER_PRICE, lastPriceSchema, symbol);
  }

  /**
   * Last trade prices of several symbols in one call:
   * `GET /api/v3/ticker/price?symbols=["BTCUSDT","ETHUSDT"]` (weight 4, however many symbols).
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#symbol-price-ticker
   * @throws {UpstreamUnavailableError} as {@link fetchLastPrice}, and when Binance does not list one
   *   of the symbols (it refuses the whole list with -1121)
   */
  async fetchLastPrices(symbols: string[]): Promise<BinanceLastPrice[]> {
    return await this.getList(ROUTE_TICKER_PRICE, lastPriceSchema, symbols);
  }

  /**
   * The best bid and ask of one symbol: `GET /api/v3/ticker/bookTicker?symbol=BTCUSDT` (weight 2).
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#symbol-order-book-ticker
   * @throws {UnknownSymbolError} on Binance error -1121 (Invalid symbol)
   * @throws {UpstreamUnavailableError} on timeout, network error, 429/418, 5xx or a malformed body
   */
  async fetchBookTicker(symbol: string): Promise<BinanceBookTicker> {
    return await this.getOne(ROUTE_BOOK_TICKER, bookTickerSchema, symbol);
  }

  /**
   * Best bids and asks of several symbols in one call:
   * `GET /api/v3/ticker/bookTicker?symbols=["BTCUSDT","ETHUSDT"]` (weight 4, however many symbols).
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#symbol-order-book-ticker
   * @throws {UpstreamUnavailableError} as {@link fetchBookTicker}, and when Binance does not list one
   *   of the symbols (it refuses the whole list with -1121)
   */
  async fetchBookTickers(symbols: string[]): Promise<BinanceBookTicker[]> {
    return await this.getList(ROUTE_BOOK_TICKER, bookTickerSchema, symbols);
  }

  /**
   * 24 h rolling-window statistics: `GET /api/v3/ticker/24hr?symbol=BTCUSDT` (weight 2).
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics
   * @throws {UnknownSymbolError}, {UpstreamUnavailableError}
   */
  async fetchTicker24h(symbol: string): Promise<Ticker24h> {
    const t = await this.fetchRawTicker(symbol);
    return {
      symbol: t.symbol,
      open: t.openPrice,
      high: t.highPrice,
      low: t.lowPrice,
      last: t.lastPrice,
      volume: t.volume,
      quoteVolume: t.quoteVolume,
      priceChange: t.priceChange,
      priceChangePercent: t.priceChangePercent,
      openTimeMs: t.openTime,
      closeTimeMs: t.closeTime,
      tradeCount: t.count,
    };
  }

  /**
   * The latest `limit` candles (≤ 1000), oldest first: `GET /api/v3/klines` (weight 2).
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
   * @throws {UnknownSymbolError}, {UpstreamUnavailableError}
   */
  async fetchCandles(symbol: string, interval: CandleInterval, limit: number): Promise<Candle[]> {
    return await this.fetchKlines({ symbol, interval, limit: String(limit) });
  }

  /**
   * The last price at or before each past instant: the close of the latest 1-second kline that had
   * closed by then, from `GET /api/v3/klines?interval=1s&startTime=&endTime=&limit=1000` (weight 2),
   * one call per 1,000 s of instants. A second without trades has no kline, so each instant looks
   * back up to `PRICE_AT_LOOKBACK_MS`; an instant with none in that time is left out.
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
   * @throws {UnknownSymbolError}, {UpstreamUnavailableError}
   */
  async fetchPricesAt(symbol: string, instantsMs: readonly number[]): Promise<Map<number, PriceAt>> {
    const wanted = [...new Set(instantsMs)].sort((a, b) => a - b);
    const found = new Map<number, PriceAt>();
    for (let i = 0; i < wanted.length; ) {
      const startTimeMs = defined(wanted[i]) - PRICE_AT_LOOKBACK_MS;
      const group: number[] = [];
      while (i < wanted.length && defined(wanted[i]) <= startTimeMs + KLINES_LIMIT_MAX * 1000)
        group.push(defined(wanted[i++]));
      const candles = await this.fetchKlines({
        symbol,
        interval: '1s',
        startTime: String(startTimeMs),
        endTime: String(defined(group.at(-1)) - 1),
        limit: String(KLINES_LIMIT_MAX),
      });
      for (const instantMs of group) {
        const before = candles.findLast((candle) => candle.closeTimeMs < instantMs);
        if (before && before.closeTimeMs >= instantMs - PRICE_AT_LOOKBACK_MS)
          found.set(instantMs, { price: before.close, atMs: before.closeTimeMs + 1 });
      }
    }
    return found;
  }

  /** `GET /api/v3/klines` with `query` (symbol, interval, and limit or a time range), oldest first. */
  private async fetchKlines(query: Record<string, string> & { symbol: string }): Promise<Candle[]> {
    const body = await this.get('/api/v3/klines', query, query.symbol);
    const parsed = z.array(klineSchema).safeParse(body);
    if (!parsed.success) throw new UpstreamUnavailableError('binance answered malformed klines');
    return parsed.data.map(([openTimeMs, open, high, low, close, volume, closeTimeMs]) => ({
      openTimeMs,
      open,
      high,
      low,
      close,
      volume,
      closeTimeMs,
    }));
  }

  /**
   * Every symbol in TRADING status with its filters: `GET /api/v3/exchangeInfo` (weight 20), kept
   * for an hour; concurrent callers share one request.
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information
   * @throws {UpstreamUnavailableError} when it cannot be had and none is kept
   */
  async fetchSymbols(): Promise<SymbolInfo[]> {
    const kept = this.exchangeInfo;
    if (kept && this.clock.nowMs() - kept.fetchedAtMs < EXCHANGE_INFO_TTL_MS) return kept.symbols;
    this.exchangeInfoFlight ??= (async () => {
      try {
        const symbols = tradingSymbolsOf(await this.get('/api/v3/exchangeInfo', {}));
        if (!symbols) throw new UpstreamUnavailableError('binance answered a malformed exchangeInfo');
        this.exchangeInfo = { symbols, fetchedAtMs: this.clock.nowMs() };
        return symbols;
      } catch (error) {
        // An hour-old list is better than none while Binance is failing.
        if (kept && error instanceof UpstreamUnavailableError) return kept.symbols;
        throw error;
      } finally {
        this.exchangeInfoFlight = undefined;
      }
    })();
    return await this.exchangeInfoFlight;
  }

  private async fetchRawTicker(symbol: string): Promise<RawTicker> {
    return await this.getOne(ROUTE_TICKER_24HR, ticker24hrSchema, symbol);
  }

  /** Quotes from one `ticker/24hr?symbols=` call (weight 2 for up to 20 symbols). */
  private async quotesFromTickers(symbols: string[]): Promise<Quote[]> {
    const tickers = await this.getList(ROUTE_TICKER_24HR, ticker24hrSchema, symbols);
    return tickers.map((t) => this.toQuote(t.symbol, t.lastPrice, t.bidPrice, t.askPrice));
  }

  /**
   * Quotes from one `ticker/price` and one `ticker/bookTicker` call, sent together so that both fit
   * in one time budget. A symbol missing from the book answer is quoted at its last price.
   */
  private async quotesFromPriceAndBook(symbols: string[]): Promise<Quote[]> {
    const [prices, books] = await Promise.all([
      this.fetchLastPrices(symbols),
      this.fetchBookTickers(symbols),
    ]);
    const bookOf = new Map(books.map((book) => [book.symbol, book]));
    return prices.map(({ symbol, price }) => {
      const book = bookOf.get(symbol);
      return this.toQuote(symbol, price, book?.bidPrice ?? price, book?.askPrice ?? price);
    });
  }

  private toQuote(symbol: string, last: string, bid: string, ask: string): Quote {
    // An empty book side is sent as "0.00000000": fall back to the last price.
    const nonZero = (price: string) => (/[1-9]/.test(price) ? price : last);
    return {
      symbol,
      last,
      bid: nonZero(bid),
      ask: nonZero(ask),
      source: this.name,
      asOfMs: this.clock.nowMs(),
    };
  }

  /** The one-symbol form of a ticker endpoint (`symbol=`): one object, for the symbol asked. */
  private async getOne<T extends { symbol: string }>(
    route: string,
    schema: z.ZodType<T>,
    symbol: string,
  ): Promise<T> {
    const parsed = schema.safeParse(await this.get(route, { symbol }, symbol));
    if (!parsed.success || parsed.data.symbol !== symbol) {
      throw new UpstreamUnavailableError(`binance answered a malformed ${route} body`);
    }
    return parsed.data;
  }

  /** The list form of a ticker endpoint (`symbols=["A","B"]`): an array of the same objects. */
  private async getList<T>(route: string, schema: z.ZodType<T>, symbols: string[]): Promise<T[]> {
    const parsed = z.array(schema).safeParse(await this.get(route, { symbols: JSON.stringify(symbols) }));
    if (!parsed.success) throw new UpstreamUnavailableError(`binance answered a malformed ${route} list`);
    return parsed.data;
  }

  /**
   * One GET on Binance through {@link getUpstreamJson}, with Binance's own rules: 418 is a rate
   * limit too, every answer's `X-MBX-USED-WEIGHT-1M` is kept, and JSON numbers are read as numbers
   * (Binance sends every price as a string; its numbers are times and counts).
   * @param symbol named in an UnknownSymbolError when Binance answers -1121
   * @throws {UnknownSymbolError} on -1121 when `symbol` is given
   * @throws {UpstreamUnavailableError} on any other answer than 2xx JSON
   */
  private async get(route: string, query: Record<string, string>, symbol?: string): Promise<unknown> {
    const search = new URLSearchParams(query).toString();
    const { status, body } = await getUpstreamJson({
      sourceName: this.name,
      url: `${this.baseUrl}${route}${search ? `?${search}` : ''}`,
      route,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      backoff: this.backoff,
      rateLimitStatuses: RATE_LIMIT_STATUSES,
      // A 429 keeps the usual cap: only a ban (418) may last for days.
      retryAfterSecondsMax: (status) => (status === 418 ? BAN_SECONDS_MAX : undefined),
      onHeaders: (headers) => {
        const weight = Number.parseInt(headers.get('x-mbx-used-weight-1m') ?? '', 10);
        if (Number.isInteger(weight)) this.usedWeight1m = weight;
      },
      parseJson: JSON.parse,
    });
    if (status >= 200 && status < 300) return body;
    const error = binanceErrorSchema.safeParse(body);
    if (error.success && error.data.code === INVALID_SYMBOL_CODE) {
      if (symbol) throw new UnknownSymbolError(symbol);
      throw new UpstreamUnavailableError('binance does not list a symbol of the list (-1121)');
    }
    throw new UpstreamUnavailableError(`binance answered ${status}`);
  }
}

/**
 * The symbols in TRADING status of a `GET /api/v3/exchangeInfo` body, with their filters (as Binance
 * answers it, or as recorded).
 * @returns undefined when the body is not an exchangeInfo
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information
 */
export function tradingSymbolsOf(body: unknown): SymbolInfo[] | undefined {
  const parsed = exchangeInfoSchema.safeParse(body);
  return parsed.success
    ? parsed.data.symbols.filter((s) => s.status === 'TRADING').map(toSymbolInfo)
    : undefined;
}

function toSymbolInfo(raw: z.infer<typeof exchangeInfoSchema>['symbols'][number]): SymbolInfo {
  const filter = (type: string) =>
    raw.filters.find((f) => f.filterType === type) as Record<string, unknown> | undefined;
  const text = (value: unknown) => (typeof value === 'string' && isDecimalString(value) ? value : undefined);
  const price = filter('PRICE_FILTER');
  const lot = filter('LOT_SIZE');
  // Binance replaced MIN_NOTIONAL with NOTIONAL in 2023; either may be there.
  const notional = filter('NOTIONAL') ?? filter('MIN_NOTIONAL');
  const info: SymbolInfo = { symbol: raw.symbol, baseAsset: raw.baseAsset, quoteAsset: raw.quoteAsset };
  const fields = {
    tickSize: text(price?.tickSize),
    minPrice: text(price?.minPrice),
    maxPrice: text(price?.maxPrice),
    minQty: text(lot?.minQty),
    maxQty: text(lot?.maxQty),
    stepSize: text(lot?.stepSize),
    minNotional: text(notional?.minNotional),
  };
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined) info[key as keyof typeof fields] = value;
  return info;
}
