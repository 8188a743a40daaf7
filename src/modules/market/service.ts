import type { KeyValueCache } from '../../platform/cache/cache.js';
import { SingleFlight } from '../../platform/cache/single-flight.js';
import type { Clock } from '../../shared/clock.js';
import { PriceUnavailableError, UnknownSymbolError, UpstreamUnavailableError } from './errors.js';
import type { PriceSource, Quote } from './quote.js';

/** A quote as served: `stale` is true when it is older than the cache TTL because the upstream failed. */
export interface ServedQuote extends Quote {
  stale: boolean;
}

/** What a price is for: trading refuses anything older than `priceAgeMsMax`; reads may serve stale. */
export type PricePurpose = 'trade' | 'read';

export interface PriceServiceOptions {
  /** how long a fetched price is served from cache (ms) */
  cacheTtlMs: number;
  /** oldest price trading may use (ms since its as_of) */
  priceAgeMsMax: number;
  /** oldest price read routes may serve, marked stale (ms since its as_of) */
  priceStaleMsMax: number;
  quoteAsset: string;
}

const SYMBOL_PATTERN = /^[A-Z0-9]{2,20}$/;

/**
 * The price service every module uses: cache-aside over one `PriceSource`, with in-process
 * single-flight so that concurrent misses for one symbol share one upstream request.
 */
export class PriceService {
  private readonly flights = new SingleFlight<Quote>();

  constructor(
    private readonly source: PriceSource,
    private readonly cache: KeyValueCache,
    private readonly clock: Clock,
    private readonly options: PriceServiceOptions,
  ) {}

  /**
   * Turns a client's symbol into a market symbol: upper-cased; a bare base asset (`BTC`) gets the
   * quote asset appended (`BTCUSDT`).
   * @returns undefined when the text cannot be a symbol
   */
  normalizeSymbol(input: string): string | undefined {
    const upper = input.trim().toUpperCase();
    if (!SYMBOL_PATTERN.test(upper)) return undefined;
    const { quoteAsset } = this.options;
    return upper.endsWith(quoteAsset) && upper.length > quoteAsset.length ? upper : `${upper}${quoteAsset}`;
  }

  /**
   * True when `asset` (upper case, e.g. `BTC`) can be held in a wallet: the quote asset, or the base
   * asset of a symbol the price source quotes against the quote asset (`BTCUSDT`).
   * @throws {PriceUnavailableError} (503) when the source cannot say now
   */
  async knowsAsset(asset: string): Promise<boolean> {
    if (asset === this.options.quoteAsset) return true;
    if (!SYMBOL_PATTERN.test(asset)) return false;
    try {
      await this.getQuote(`${asset}${this.options.quoteAsset}`, 'read');
      return true;
    } catch (error) {
      if (error instanceof UnknownSymbolError) return false;
      throw error;
    }
  }

  /**
   * The current quote of a market symbol (`BTCUSDT`). Served from cache while younger than the TTL;
   * otherwise fetched once however many callers ask. When the upstream fails, the last price is
   * served marked stale if it is young enough for `purpose`.
   * @throws {UnknownSymbolError} (404) for a symbol the source does not list
   * @throws {PriceUnavailableError} (503) when no price young enough can be had
   */
  async getQuote(symbol: string, purpose: PricePurpose): Promise<ServedQuote> {
    const ageMsMax = purpose === 'trade' ? this.options.priceAgeMsMax : this.options.priceStaleMsMax;
    const cached = await this.readCache(symbol);
    if (cached && this.clock.nowMs() - cached.asOfMs < this.options.cacheTtlMs) {
      return { ...cached, stale: false };
    }
    try {
      const quote = await this.flights.run(symbol, async () => {
        const fresh = await this.source.fetchQuote(symbol);
        await this.writeCache(fresh);
        return fresh;
      });
      if (this.clock.nowMs() - quote.asOfMs > this.options.priceAgeMsMax && purpose === 'trade') {
        throw new PriceUnavailableError(symbol, 'the upstream price is too old to trade on');
      }
      return { ...quote, stale: false };
    } catch (error) {
      if (!(error instanceof UpstreamUnavailableError)) throw error;
      if (cached && this.clock.nowMs() - cached.asOfMs <= ageMsMax) return { ...cached, stale: true };
      throw new PriceUnavailableError(symbol, 'the price source is unavailable');
    }
  }

  private async readCache(symbol: string): Promise<Quote | undefined> {
    try {
      const text = await this.cache.get(`price:${symbol}`);
      return text ? (JSON.parse(text) as Quote) : undefined;
    } catch {
      // A cache outage must not stop trading: fall through to the upstream.
      return undefined;
    }
  }

  private async writeCache(quote: Quote): Promise<void> {
    // Kept for the stale window, not just the TTL, so a failing upstream can still be answered.
    const keepMs = Math.max(this.options.cacheTtlMs, this.options.priceStaleMsMax);
    await this.cache.set(`price:${quote.symbol}`, JSON.stringify(quote), keepMs).catch(() => undefined);
  }
}
