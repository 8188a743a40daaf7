import { z } from 'zod';
import { upstreamBackoffRefusals, upstreamRequests } from '../../../platform/observability/metrics.js';
import type { Clock } from '../../../shared/clock.js';
import { isDecimalString } from '../../../shared/decimal.js';
import { UnknownSymbolError, UpstreamUnavailableError } from '../errors.js';
import type { Candle, CandleInterval, PriceSource, Quote, SymbolInfo, Ticker24h } from '../quote.js';

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
/** Attempts per call, the first included; only network errors and 5xx are tried again. */
const ATTEMPT_COUNT_MAX = 2;
/** Back-off when a 429/418 carries no Retry-After (s): Binance's bans start at 2 minutes. */
const BACKOFF_DEFAULT_SECONDS = 60;
/** exchangeInfo is refreshed this often (ms): symbols and filters change rarely. */
const EXCHANGE_INFO_TTL_MS = 60 * 60 * 1000;
/** Symbols per batch ticker request (the URL stays short; weight 40 for 21–100 symbols). */
const BATCH_SYMBOLS_MAX = 100;

/**
 * Binance spot market data over plain HTTP (fetch), no exchange client library. Every call has a
 * total time budget (retries included); network errors and 5xx are tried once more, other answers
 * are not. A 429 or 418 stops every call to the host until its `Retry-After` has passed (the price
 * service shares that back-off with the other instances through the cache). The request weight
 * Binance reports (`X-MBX-USED-WEIGHT-1M`) is kept in `usedWeight1m`.
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
 */
export class BinancePriceSource implements PriceSource {
  readonly name = 'binance';
  /** Request weight Binance reported for the current minute (`X-MBX-USED-WEIGHT-1M`). */
  usedWeight1m = 0;
  /** No request goes to the host before this instant (ms since epoch): a 429/418 back-off. */
  private backoffUntilMs = 0;
  private exchangeInfo: { symbols: SymbolInfo[]; fetchedAtMs: number } | undefined;
  private exchangeInfoFlight: Promise<SymbolInfo[]> | undefined;
  private readonly host: string;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.host = new URL(baseUrl).host;
  }

  /**
   * Last price and best bid/ask of one symbol in one call: `GET /api/v3/ticker/24hr?symbol=BTCUSDT`
   * (weight 2 for one symbol). `bookTicker` has no last price and `ticker/price` no book, so the
   * 24 h ticker is the single request that carries all three.
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics
   * @throws {UnknownSymbolError} on Binance error -1121 (Invalid symbol)
   * @throws {UpstreamUnavailableError} on timeout, network error, 429/418, 5xx or a malformed body
   */
  async fetchQuote(symbol: string): Promise<Quote> {
    const ticker = await this.fetchRawTicker(symbol);
    return this.toQuote(ticker);
  }

  /**
   * Quotes of several symbols in one call per 100: `GET /api/v3/ticker/24hr?symbols=["BTCUSDT",…]`
   * (weight 2 for 1–20 symbols, 40 for 21–100). Binance refuses the whole batch for one unknown
   * symbol, so symbols are first checked against exchangeInfo; unknown ones are left out.
   * @throws {UpstreamUnavailableError} when Binance cannot answer now
   */
  async fetchQuotes(symbols: string[]): Promise<Map<string, Quote>> {
    const listed = new Set((await this.fetchSymbols()).map((s) => s.symbol));
    const wanted = [...new Set(symbols)].filter((s) => listed.has(s));
    const quotes = new Map<string, Quote>();
    for (let i = 0; i < wanted.length; i += BATCH_SYMBOLS_MAX) {
      const chunk = wanted.slice(i, i + BATCH_SYMBOLS_MAX);
      const body = await this.getJson('/api/v3/ticker/24hr', { symbols: JSON.stringify(chunk) });
      const parsed = z.array(ticker24hrSchema).safeParse(body);
      if (!parsed.success)
        throw new UpstreamUnavailableError('binance answered a malformed 24hr ticker list');
      for (const ticker of parsed.data) quotes.set(ticker.symbol, this.toQuote(ticker));
    }
    return quotes;
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
    const body = await this.getJson('/api/v3/klines', { symbol, interval, limit: String(limit) }, symbol);
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
        const body = await this.getJson('/api/v3/exchangeInfo', {});
        const parsed = exchangeInfoSchema.safeParse(body);
        if (!parsed.success) throw new UpstreamUnavailableError('binance answered a malformed exchangeInfo');
        const symbols = parsed.data.symbols.filter((s) => s.status === 'TRADING').map(toSymbolInfo);
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
    const body = await this.getJson('/api/v3/ticker/24hr', { symbol }, symbol);
    const parsed = ticker24hrSchema.safeParse(body);
    if (!parsed.success || parsed.data.symbol !== symbol) {
      throw new UpstreamUnavailableError('binance answered a malformed 24hr ticker');
    }
    return parsed.data;
  }

  private toQuote(ticker: RawTicker): Quote {
    // An empty book side is sent as "0.00000000": fall back to the last price.
    const nonZero = (price: string) => (/[1-9]/.test(price) ? price : ticker.lastPrice);
    return {
      symbol: ticker.symbol,
      last: ticker.lastPrice,
      bid: nonZero(ticker.bidPrice),
      ask: nonZero(ticker.askPrice),
      source: this.name,
      asOfMs: this.clock.nowMs(),
    };
  }

  /**
   * One GET with the retry and back-off rules of this class.
   * @param symbol named in an UnknownSymbolError when Binance answers -1121
   */
  private async getJson(path: string, query: Record<string, string>, symbol?: string): Promise<unknown> {
    const waitMs = this.backoffUntilMs - this.clock.nowMs();
    if (waitMs > 0) {
      upstreamBackoffRefusals.inc({ host: this.host });
      throw new UpstreamUnavailableError('binance asked us to back off', Math.ceil(waitMs / 1000));
    }
    const url = `${this.baseUrl}${path}?${new URLSearchParams(query).toString()}`;
    const deadlineMs = this.clock.nowMs() + this.timeoutMs;
    const count = (status: string) => upstreamRequests.inc({ host: this.host, route: path, status });
    let lastError: UpstreamUnavailableError | undefined;
    for (let attempt = 1; attempt <= ATTEMPT_COUNT_MAX; attempt++) {
      const remainingMs = deadlineMs - this.clock.nowMs();
      if (remainingMs <= 0) break;
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          signal: AbortSignal.timeout(remainingMs),
          headers: { accept: 'application/json' },
        });
        text = await response.text();
      } catch {
        count('error');
        lastError = new UpstreamUnavailableError('binance did not answer in time');
        continue;
      }
      count(String(response.status));
      const weight = Number.parseInt(response.headers.get('x-mbx-used-weight-1m') ?? '', 10);
      if (Number.isInteger(weight)) this.usedWeight1m = weight;
      if (response.status === 429 || response.status === 418) {
        const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
        const seconds = Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : BACKOFF_DEFAULT_SECONDS;
        this.backoffUntilMs = this.clock.nowMs() + seconds * 1000;
        throw new UpstreamUnavailableError(`binance rate limit (${response.status})`, seconds);
      }
      if (response.status >= 500) {
        lastError = new UpstreamUnavailableError(`binance answered ${response.status}`);
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new UpstreamUnavailableError(
          `binance answered ${response.status} with a body that is not JSON`,
        );
      }
      if (response.status >= 400) {
        const error = binanceErrorSchema.safeParse(body);
        if (error.success && error.data.code === INVALID_SYMBOL_CODE && symbol)
          throw new UnknownSymbolError(symbol);
        throw new UpstreamUnavailableError(`binance answered ${response.status}`);
      }
      return body;
    }
    throw lastError ?? new UpstreamUnavailableError('binance did not answer in time');
  }
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
    minQty: text(lot?.minQty),
    maxQty: text(lot?.maxQty),
    stepSize: text(lot?.stepSize),
    minNotional: text(notional?.minNotional),
  };
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined) info[key as keyof typeof fields] = value;
  return info;
}
