import { z } from 'zod';
import type { KeyValueCache } from '../../../platform/cache/cache.js';
import { defined } from '../../../shared/assert.js';
import type { Clock } from '../../../shared/clock.js';
import { Decimal } from '../../../shared/decimal.js';
import { UnknownSymbolError, UpstreamUnavailableError } from '../errors.js';
import type { PriceSource, Quote } from '../quote.js';
import {
  baseAssetOf,
  getUpstreamJson,
  priceToDecimalString,
  UpstreamBackoff,
  upstreamDecimal,
} from './upstream.js';

export interface CoinMarketCapOptions {
  /** e.g. `https://pro-api.coinmarketcap.com` (no trailing slash) */
  baseUrl: string;
  /** `COINMARKETCAP_API_KEY`: a secret, sent only in the `X-CMC_PRO_API_KEY` header */
  apiKey: string;
  /** budget of one upstream call, retries included (ms) */
  timeoutMs: number;
  clock: Clock;
  /** holds the 429 back-off, shared by every instance with Redis */
  cache: KeyValueCache;
  /** the quote asset of market symbols (`USDT` → `BTCUSDT`); priced as USD */
  quoteAsset?: string;
}

/** Tickers per call: CoinMarketCap bills one credit per 100 coins returned, and the URL stays short. */
const SYMBOLS_PER_CALL_MAX = 100;
/** CoinMarketCap converts to a fiat currency; the quote asset is taken at par with it. */
const CONVERT = 'USD';

const coinSchema = z.object({
  // Numbers arrive as their literal text (see getUpstreamJson).
  id: z.coerce.number(),
  name: z.string(),
  symbol: z.string(),
  cmc_rank: z.coerce.number().nullish(),
  quote: z.record(z.string(), z.object({ price: z.unknown(), market_cap: z.string().nullish() }).loose()),
});
const responseSchema = z.object({
  status: z.object({ error_code: z.coerce.number(), error_message: z.string().nullish() }).loose(),
  data: z.record(z.string(), z.unknown()).optional(),
});
const errorSchema = z.object({ status: z.object({ error_message: z.string().nullish() }).loose() });

/**
 * CoinMarketCap's Pro API over plain HTTP, used when `COINMARKETCAP_API_KEY` is set and
 * `PRICE_SOURCE=coinmarketcap`. One `GET /v2/cryptocurrency/quotes/latest?symbol=BTC,ETH&convert=USD`
 * prices many tickers. The key travels only in the `X-CMC_PRO_API_KEY` header; it is never logged
 * and never part of an error message.
 *
 * v2 answers each ticker with every coin listed under it; the one with the largest USD market cap
 * is taken, then the better `cmc_rank`, then the smaller CoinMarketCap id (the CoinGecko rule).
 * `BTCUSDT` and `BTC` are both the ticker `BTC`, priced in **USD** and taken as the USDT price;
 * bid = ask = last; `asOfMs` is when we received it.
 *
 * @see https://coinmarketcap.com/api/documentation/v1/#operation/getV2CryptocurrencyQuotesLatest
 */
export class CoinMarketCapPriceSource implements PriceSource {
  readonly name = 'coinmarketcap';
  private readonly baseUrl: string;
  private readonly quoteAsset: string;
  private readonly backoff: UpstreamBackoff;

  constructor(private readonly options: CoinMarketCapOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.quoteAsset = options.quoteAsset ?? 'USDT';
    this.backoff = new UpstreamBackoff(options.cache, 'coinmarketcap:backoff', options.clock);
  }

  /**
   * The USD price of one symbol (`BTCUSDT` or `BTC`); bid = ask = last.
   * @throws {UnknownSymbolError} when CoinMarketCap lists no priced coin under the ticker
   * @throws {UpstreamUnavailableError} on 429 (with `retryAfterSeconds`), a refused key (401/402/403),
   *   5xx, timeout or a malformed body
   * @see https://coinmarketcap.com/api/documentation/v1/#operation/getV2CryptocurrencyQuotesLatest
   */
  async fetchQuote(symbol: string): Promise<Quote> {
    const base = baseAssetOf(symbol, this.quoteAsset);
    const quote = (await this.fetchByBase([base])).get(base);
    if (!quote) throw new UnknownSymbolError(symbol);
    return quote;
  }

  /**
   * USD prices of several symbols in one call (per 100 tickers), keyed by the symbol as given;
   * tickers CoinMarketCap does not list or price are left out.
   * @throws {UpstreamUnavailableError} on 429 (with `retryAfterSeconds`), a refused key, 5xx, timeout
   *   or a malformed body
   * @see https://coinmarketcap.com/api/documentation/v1/#operation/getV2CryptocurrencyQuotesLatest
   */
  async fetchQuotes(symbols: string[]): Promise<Map<string, Quote>> {
    const baseOf = new Map<string, string>();
    for (const symbol of symbols) {
      try {
        baseOf.set(symbol, baseAssetOf(symbol, this.quoteAsset));
      } catch (error) {
        if (!(error instanceof UnknownSymbolError)) throw error;
      }
    }
    const byBase = await this.fetchByBase([...new Set(baseOf.values())]);
    const quotes = new Map<string, Quote>();
    for (const [symbol, base] of baseOf) {
      const quote = byBase.get(base);
      if (quote) quotes.set(symbol, quote);
    }
    return quotes;
  }

  private async fetchByBase(bases: string[]): Promise<Map<string, Quote>> {
    const quotes = new Map<string, Quote>();
    for (let start = 0; start < bases.length; start += SYMBOLS_PER_CALL_MAX) {
      const chunk = bases.slice(start, start + SYMBOLS_PER_CALL_MAX);
      const data = await this.quotesLatest(chunk);
      if (!data) continue;
      const keys = new Map(Object.keys(data).map((key) => [key.toUpperCase(), key]));
      for (const base of chunk) {
        const key = keys.get(base);
        const entries = key === undefined ? undefined : data[key];
        const picked = pickCoin(Array.isArray(entries) ? entries : entries ? [entries] : []);
        if (picked) {
          quotes.set(base, {
            symbol: `${base}${this.quoteAsset}`,
            last: picked,
            bid: picked,
            ask: picked,
            source: this.name,
            asOfMs: this.options.clock.nowMs(),
          });
        }
      }
    }
    return quotes;
  }

  /**
   * `data` of one quotes/latest call, or undefined when CoinMarketCap says none of the tickers is
   * valid (400 `Invalid value for "symbol"`).
   */
  private async quotesLatest(bases: string[]): Promise<Record<string, unknown> | undefined> {
    const route = '/v2/cryptocurrency/quotes/latest';
    const { status, body } = await getUpstreamJson({
      sourceName: 'coinmarketcap',
      url: `${this.baseUrl}${route}?symbol=${bases.join(',')}&convert=${CONVERT}&skip_invalid=true`,
      route,
      headers: { 'X-CMC_PRO_API_KEY': this.options.apiKey },
      timeoutMs: this.options.timeoutMs,
      clock: this.options.clock,
      backoff: this.backoff,
    });
    if (status === 401 || status === 402 || status === 403) {
      throw new UpstreamUnavailableError(
        `coinmarketcap refused the request (${status}): check COINMARKETCAP_API_KEY and its plan`,
      );
    }
    if (status === 400) {
      const message = errorSchema.safeParse(body).data?.status.error_message ?? '';
      if (/symbol/i.test(message)) return undefined;
      throw new UpstreamUnavailableError('coinmarketcap answered 400');
    }
    if (status < 200 || status >= 300) throw new UpstreamUnavailableError(`coinmarketcap answered ${status}`);
    const parsed = responseSchema.safeParse(body);
    if (!parsed.success || parsed.data.status.error_code !== 0 || !parsed.data.data) {
      throw new UpstreamUnavailableError('coinmarketcap answered a malformed quotes body');
    }
    return parsed.data.data;
  }
}

/** The USD price of the listed coin with the largest market cap, then best rank, then smallest id. */
function pickCoin(entries: unknown[]): string | undefined {
  const priced: { id: number; rank: number; marketCap: Decimal; price: string }[] = [];
  for (const entry of entries) {
    const coin = coinSchema.safeParse(entry);
    if (!coin.success) continue;
    const usd = coin.data.quote[CONVERT];
    const price = priceToDecimalString(usd?.price);
    if (!usd || price === undefined) continue;
    const cap = usd.market_cap;
    priced.push({
      id: coin.data.id,
      rank: coin.data.cmc_rank && coin.data.cmc_rank > 0 ? coin.data.cmc_rank : Number.POSITIVE_INFINITY,
      marketCap: upstreamDecimal(cap)?.gt(0) ? defined(upstreamDecimal(cap)) : new Decimal(-1),
      price,
    });
  }
  priced.sort((a, b) =>
    !a.marketCap.eq(b.marketCap)
      ? b.marketCap.cmp(a.marketCap)
      : a.rank !== b.rank
        ? a.rank < b.rank
          ? -1
          : 1
        : a.id - b.id,
  );
  return priced[0]?.price;
}
