import { z } from 'zod';
import type { Clock } from '../../../shared/clock.js';
import { isDecimalString } from '../../../shared/decimal.js';
import { UnknownSymbolError, UpstreamUnavailableError } from '../errors.js';
import type { PriceSource, Quote } from '../quote.js';

const decimalString = z.string().refine(isDecimalString, 'a decimal string');

/** The fields of `GET /api/v3/ticker/24hr` that a quote needs; Binance sends decimals as strings. */
const ticker24hrSchema = z.object({
  symbol: z.string(),
  lastPrice: decimalString,
  bidPrice: decimalString,
  askPrice: decimalString,
  closeTime: z.number().int(),
});

const binanceErrorSchema = z.object({ code: z.number().int(), msg: z.string() });

/** Binance error code for a symbol it does not list. */
const INVALID_SYMBOL_CODE = -1121;
/** Attempts per call, the first included; only network errors and 5xx are tried again. */
const ATTEMPT_COUNT_MAX = 2;

/**
 * Binance spot market data over plain HTTP (fetch), no exchange client library.
 * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
 */
export class BinancePriceSource implements PriceSource {
  readonly name = 'binance';
  /** Request weight Binance reported for the current minute (`X-MBX-USED-WEIGHT-1M`). */
  usedWeight1m = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Last price and best bid/ask of one symbol in one call: `GET /api/v3/ticker/24hr?symbol=BTCUSDT`
   * (weight 2 for one symbol: 1–20 symbols cost 2). `bookTicker` has no last price and
   * `ticker/price` no book, so the 24 h ticker is the single request that carries all three.
   * @see https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics
   * @throws {UnknownSymbolError} on Binance error -1121 (Invalid symbol)
   * @throws {UpstreamUnavailableError} on timeout, network error, 429/418, 5xx or a malformed body
   */
  async fetchQuote(symbol: string): Promise<Quote> {
    const url = `${this.baseUrl}/api/v3/ticker/24hr?symbol=${encodeURIComponent(symbol)}`;
    const body = await this.getJson(url, symbol);
    const parsed = ticker24hrSchema.safeParse(body);
    if (!parsed.success || parsed.data.symbol !== symbol) {
      throw new UpstreamUnavailableError('binance answered a malformed 24hr ticker');
    }
    const ticker = parsed.data;
    // An empty book side is sent as "0.00000000": fall back to the last price.
    const nonZero = (price: string) => (/[1-9]/.test(price) ? price : ticker.lastPrice);
    return {
      symbol,
      last: ticker.lastPrice,
      bid: nonZero(ticker.bidPrice),
      ask: nonZero(ticker.askPrice),
      source: this.name,
      asOfMs: this.clock.nowMs(),
    };
  }

  private async getJson(url: string, symbol: string): Promise<unknown> {
    const deadlineMs = this.clock.nowMs() + this.timeoutMs;
    let lastError: UpstreamUnavailableError | undefined;
    for (let attempt = 1; attempt <= ATTEMPT_COUNT_MAX; attempt++) {
      const remainingMs = deadlineMs - this.clock.nowMs();
      if (remainingMs <= 0) break;
      let response: Response;
      try {
        response = await fetch(url, {
          signal: AbortSignal.timeout(remainingMs),
          headers: { accept: 'application/json' },
        });
      } catch {
        lastError = new UpstreamUnavailableError('binance did not answer in time');
        continue;
      }
      const weight = Number.parseInt(response.headers.get('x-mbx-used-weight-1m') ?? '', 10);
      if (Number.isInteger(weight)) this.usedWeight1m = weight;
      let text: string;
      try {
        text = await response.text();
      } catch {
        lastError = new UpstreamUnavailableError('binance connection broke mid-answer');
        continue;
      }
      if (response.status === 429 || response.status === 418) {
        const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
        throw new UpstreamUnavailableError(
          `binance rate limit (${response.status})`,
          Number.isInteger(retryAfter) ? retryAfter : undefined,
        );
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
        if (error.success && error.data.code === INVALID_SYMBOL_CODE) throw new UnknownSymbolError(symbol);
        throw new UpstreamUnavailableError(`binance answered ${response.status}`);
      }
      return body;
    }
    throw lastError ?? new UpstreamUnavailableError('binance did not answer in time');
  }
}
