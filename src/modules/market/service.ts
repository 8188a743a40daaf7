import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import { SingleFlight } from '../../platform/cache/single-flight.js';
import type { Config } from '../../platform/config/env.js';
import type { EventBus } from '../../platform/events/bus.js';
import {
  countPriceCacheHits,
  priceCacheLookups,
  singleFlightJoins,
} from '../../platform/observability/metrics.js';
import type { Clock } from '../../shared/clock.js';
import { Decimal, roundAmount } from '../../shared/decimal.js';
import { DomainError } from '../../shared/errors.js';
import { PriceUnavailableError, UnknownSymbolError, UpstreamUnavailableError } from './errors.js';
import type { Candle, CandleInterval, PriceAt, PriceSource, Quote, SymbolInfo, Ticker24h } from './quote.js';

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
  /** budget of one upstream call, retries included (ms): also how long a caller waits for another instance's */
  upstreamTimeoutMs?: number;
  /** asked for prices of symbols the source does not list (CoinGecko behind Binance) */
  fallback?: PriceSource;
  /** where each freshly fetched quote is published (`prices:<SYMBOL>` and the `prices` firehose) */
  events?: EventBus;
}

/** A price tick as published on `prices:<SYMBOL>` (SPEC §3 "Streams"); prices are decimal strings. */
export interface PriceTick {
  channel: string;
  symbol: string;
  price: string;
  bid: string;
  ask: string;
  /** ISO 8601 */
  as_of: string;
}

/** A quote as the tick published on `prices:<SYMBOL>` and sent to stream clients. */
export function toPriceTick(quote: Quote): PriceTick {
  return {
    channel: `prices:${quote.symbol}`,
    symbol: quote.symbol,
    price: quote.last,
    bid: quote.bid,
    ask: quote.ask,
    as_of: new Date(quote.asOfMs).toISOString(),
  };
}

/** The channel every price tick is also published on, for consumers of all symbols (liquidation). */
export const ALL_PRICES_CHANNEL = 'prices';

/**
 * The price service of a process, configured from `config` (TTL, age limits, quote asset, upstream
 * timeout). Several services (the API's, the worker's) sharing one cache share its prices and its
 * single-flight locks; sources built on that cache share their hosts' back-offs too.
 */
export function createPriceService(
  config: Pick<
    Config,
    'priceCacheTtlMs' | 'priceAgeMsMax' | 'priceStaleMsMax' | 'quoteAsset' | 'upstreamTimeoutMs'
  >,
  cache: KeyValueCache,
  clock: Clock,
  source: PriceSource,
  fallback?: PriceSource,
  events?: EventBus,
): PriceService {
  return new PriceService(source, cache, clock, {
    cacheTtlMs: config.priceCacheTtlMs,
    priceAgeMsMax: config.priceAgeMsMax,
    priceStaleMsMax: config.priceStaleMsMax,
    quoteAsset: config.quoteAsset,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    ...(fallback ? { fallback } : {}),
    ...(events ? { events } : {}),
  });
}

/** The price source has no such data (CoinGecko has no candles): 501. */
export class NotSupportedBySourceError extends DomainError {
  readonly code = 'NOT_SUPPORTED_BY_SOURCE';
  constructor(source: string, what: string) {
    super(`the ${source} price source has no ${what}`, { source });
  }
}

const SYMBOL_PATTERN = /^[A-Z0-9]{2,20}$/;

/**
 * Trading, bets and valuations need a price the ledger can hold: one below 0.00000001 (it rounds to
 * 0 at 8 decimals) cannot be traded on.
 * @throws {PriceUnavailableError} (503)
 */
function assertTradablePrice(quote: Quote): void {
  if ([quote.last, quote.bid, quote.ask].some((price) => !new Decimal(price).gt(0))) {
    throw new PriceUnavailableError(
      quote.symbol,
      'its price is below 0.00000001, the ledger’s smallest unit',
    );
  }
}
/** How often a caller waiting for another instance's upstream request looks at the cache (ms). */
const CLUSTER_POLL_MS = 20;
/** Symbols whose last quote is kept in process at most. */
const RECENT_QUOTES_MAX = 10_000;
/** How long the symbol list is kept (ms). */
const SYMBOLS_TTL_MS = 60 * 60 * 1000;

/**
 * The market-data service every module uses. Prices are cache-aside (Redis when set, in process
 * otherwise) with single-flight: concurrent misses for one symbol share one upstream request in a
 * process, and across instances a short lock in the cache elects one instance to fetch while the
 * others wait for the cache key. A 429/418 back-off is the source's own (one record per host in the
 * same cache, see `UpstreamBackoff`), so no instance calls a host that asked to be left alone.
 */
export class PriceService {
  private readonly flights = new SingleFlight<Quote>();
  private readonly dataFlights = new SingleFlight<unknown>();
  private readonly instanceId = randomUUID();
  private readonly recent = new Map<string, Quote>();
  private readonly upstreamTimeoutMs: number;
  private symbolInfo: { bySymbol: Map<string, SymbolInfo>; expiresAtMs: number } | undefined;

  constructor(
    private readonly source: PriceSource,
    private readonly cache: KeyValueCache,
    /** the process's clock: what "now" is for every price read (and for whoever values at these prices) */
    readonly clock: Clock,
    private readonly options: PriceServiceOptions,
  ) {
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? 10_000;
  }

  /** The name of the source, e.g. `binance`. */
  get sourceName(): string {
    return this.source.name;
  }

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
   * otherwise fetched once however many callers ask, in this process and across instances. When the
   * upstream fails, the last price is served marked stale if it is young enough for `purpose`.
   * @throws {UnknownSymbolError} (404) for a symbol the source does not list
   * @throws {PriceUnavailableError} (503) when no price young enough can be had
   */
  async getQuote(symbol: string, purpose: PricePurpose): Promise<ServedQuote> {
    const quote = await this.findQuote(symbol, purpose);
    if (purpose === 'trade') assertTradablePrice(quote);
    return quote;
  }

  /**
   * The quote of `symbol` this process holds while it is fresh (younger than the cache TTL): no
   * cache round trip and no await, for the read routes' hot path. Counted as a cache hit. Never for
   * trading, whose age limit may be shorter than the TTL.
   * @returns the quote as kept (the same object until a newer one comes), or undefined: then call
   *   {@link getQuote}
   */
  freshQuote(symbol: string): Quote | undefined {
    const recent = this.freshRecent(symbol);
    if (recent) countPriceCacheHits();
    return recent;
  }

  private async findQuote(symbol: string, purpose: PricePurpose): Promise<ServedQuote> {
    const cached = await this.lastQuote(symbol);
    // A cache TTL set above the trading age limit must not let a trade use an older price.
    if (cached && this.isFresh(cached) && (purpose === 'read' || this.isYoungEnoughToTrade(cached))) {
      countPriceCacheHits();
      this.remember(cached);
      return { ...cached, stale: false };
    }
    priceCacheLookups.inc({ result: 'miss' });
    try {
      const quote = await this.flights.run(symbol, () => this.fetchOnceInCluster(symbol, cached));
      if (this.flights.joinCount > 0) this.reportProcessJoins();
      if (purpose === 'trade' && this.clock.nowMs() - quote.asOfMs > this.options.priceAgeMsMax) {
        throw new PriceUnavailableError(symbol, 'the upstream price is too old to trade on');
      }
      return { ...quote, stale: false };
    } catch (error) {
      if (!(error instanceof UpstreamUnavailableError)) throw error;
      return this.staleOrRefuse(symbol, cached, purpose, error.retryAfterSeconds);
    }
  }

  /**
   * Quotes of several symbols; the ones not fresh in the cache are fetched in one upstream call
   * where the source has a batch endpoint. With `refresh`, every symbol is asked of the upstream
   * (the tracker's poll and refresh: a price taken now, never one from the cache), and a symbol whose
   * price cannot be had now is refused rather than served stale (a source without a batch endpoint
   * is asked symbol by symbol through the cache, as without `refresh`).
   * @returns the quotes found, and the symbols the source does not list
   * @throws {PriceUnavailableError} (503) when a price young enough cannot be had for a listed symbol
   */
  async getQuotes(
    symbols: string[],
    purpose: PricePurpose,
    options: { refresh?: boolean } = {},
  ): Promise<{ quotes: ServedQuote[]; unknown: string[] }> {
    const wanted = [...new Set(symbols)];
    const cached = new Map(
      options.refresh
        ? []
        : await Promise.all(wanted.map(async (symbol) => [symbol, await this.lastQuote(symbol)] as const)),
    );
    const misses = wanted.filter((s) => {
      const quote = cached.get(s);
      return !quote || !this.isFresh(quote);
    });
    countPriceCacheHits(wanted.length - misses.length);
    if (misses.length > 0) priceCacheLookups.inc({ result: 'miss' }, misses.length);
    const fetched = new Map<string, Quote>();
    let batchAnswered = false;
    /** the upstream's Retry-After when the batch was refused for a rate limit (s) */
    let batchRetryAfterSeconds: number | undefined;
    if (misses.length > 0 && this.source.fetchQuotes) {
      try {
        const batch = await this.source.fetchQuotes(misses);
        batchAnswered = true;
        for (const quote of batch.values()) {
          fetched.set(quote.symbol, await this.writeCache(quote));
        }
      } catch (error) {
        if (!(error instanceof UpstreamUnavailableError)) throw error;
        batchRetryAfterSeconds = error.retryAfterSeconds;
        // Each symbol then falls back to its cached price below, or is refused.
      }
    }
    if (batchAnswered && this.options.fallback) {
      const unlisted = misses.filter((s) => !fetched.has(s));
      const more = await this.askFallback(unlisted);
      for (const quote of more.values()) {
        fetched.set(quote.symbol, await this.writeCache(quote));
      }
    }
    const quotes: ServedQuote[] = [];
    const unknown: string[] = [];
    for (const symbol of wanted) {
      const fresh = fetched.get(symbol);
      if (fresh) {
        quotes.push({ ...fresh, stale: false });
        continue;
      }
      const quote = cached.get(symbol);
      if (quote && this.isFresh(quote)) {
        quotes.push({ ...quote, stale: false });
        continue;
      }
      if (this.source.fetchQuotes) {
        // The batch answered without this symbol (unlisted), or failed (stale or refused).
        if (batchAnswered) unknown.push(symbol);
        else quotes.push(this.staleOrRefuse(symbol, quote, purpose, batchRetryAfterSeconds));
        continue;
      }
      try {
        quotes.push(await this.getQuote(symbol, purpose));
      } catch (error) {
        if (error instanceof UnknownSymbolError) unknown.push(symbol);
        else throw error;
      }
    }
    if (purpose === 'trade') for (const quote of quotes) assertTradablePrice(quote);
    return { quotes, unknown };
  }

  /**
   * 24 h statistics of a symbol, kept for the price TTL.
   * @throws {UnknownSymbolError} (404), {PriceUnavailableError} (503), {NotSupportedBySourceError} (501)
   */
  async getTicker24h(symbol: string): Promise<Ticker24h> {
    const fetch = this.source.fetchTicker24h?.bind(this.source);
    if (!fetch) throw new NotSupportedBySourceError(this.source.name, '24 h tickers');
    return await this.cachedData(`ticker:${symbol}`, this.options.cacheTtlMs, symbol, () => fetch(symbol));
  }

  /**
   * The latest `limit` candles of `interval`, oldest first, kept for the price TTL.
   * @throws {UnknownSymbolError} (404), {PriceUnavailableError} (503), {NotSupportedBySourceError} (501)
   */
  async getCandles(symbol: string, interval: CandleInterval, limit: number): Promise<Candle[]> {
    const fetch = this.source.fetchCandles?.bind(this.source);
    if (!fetch) throw new NotSupportedBySourceError(this.source.name, 'candles');
    return await this.cachedData(
      `candles:${symbol}:${interval}:${limit}`,
      this.options.cacheTtlMs,
      symbol,
      () => fetch(symbol, interval, limit),
    );
  }

  /**
   * The market's last price of `symbol` at or before each past instant, where the source keeps
   * history (Binance's 1 s klines, the replay): what a late settlement is priced at. Not cached: each
   * instant is asked once, by the settlement that needs it.
   * @returns instant → price; an instant the source cannot price now is left out (the caller falls
   *   back to the current price), so this never throws for an upstream failure
   */
  async getPricesAt(symbol: string, instantsMs: readonly number[]): Promise<Map<number, PriceAt>> {
    if (!this.source.fetchPricesAt || instantsMs.length === 0) return new Map();
    const found = await this.source.fetchPricesAt(symbol, instantsMs).catch(() => new Map<number, PriceAt>());
    // A price the ledger cannot hold (below 10⁻⁸) is no price for a settlement.
    for (const [instant, at] of found) if (!new Decimal(at.price).gt(0)) found.delete(instant);
    return found;
  }

  /**
   * The symbols quoted in the quote asset, with their filters, kept for an hour.
   * @throws {PriceUnavailableError} (503), {NotSupportedBySourceError} (501)
   */
  async getSymbols(): Promise<SymbolInfo[]> {
    const fetch = this.source.fetchSymbols?.bind(this.source);
    if (!fetch) throw new NotSupportedBySourceError(this.source.name, 'symbol list');
    const all = await this.cachedData('symbols', SYMBOLS_TTL_MS, 'symbols', () => fetch());
    return all.filter((s) => s.quoteAsset === this.options.quoteAsset);
  }

  /**
   * The filters of one symbol (LOT_SIZE, NOTIONAL…) from the source's symbol list, kept in process
   * for an hour so an order costs no cache round trip and no parse of the whole list.
   * @returns undefined when the source has no symbol list (CoinGecko) or does not list it; the
   *   replay lists its symbols with the filters of its recorded exchangeInfo, where it has one
   * @throws {PriceUnavailableError} (503) when the list cannot be had now
   */
  async getSymbolInfo(symbol: string): Promise<SymbolInfo | undefined> {
    if (!this.source.fetchSymbols) return undefined;
    if (!this.symbolInfo || this.clock.nowMs() >= this.symbolInfo.expiresAtMs) {
      const all = await this.getSymbols();
      this.symbolInfo = {
        bySymbol: new Map(all.map((s) => [s.symbol, s])),
        expiresAtMs: this.clock.nowMs() + SYMBOLS_TTL_MS,
      };
    }
    return this.symbolInfo.bySymbol.get(symbol);
  }

  /** Quotes of `symbols` from the fallback in one call where it can; none when it cannot answer. */
  private async askFallback(symbols: string[]): Promise<Map<string, Quote>> {
    const fallback = this.options.fallback;
    if (!fallback || symbols.length === 0) return new Map();
    try {
      if (fallback.fetchQuotes) return await fallback.fetchQuotes(symbols);
      const found = new Map<string, Quote>();
      for (const symbol of symbols) {
        const quote = await fallback.fetchQuote(symbol).catch(() => undefined);
        if (quote) found.set(symbol, quote);
      }
      return found;
    } catch (error) {
      if (error instanceof UpstreamUnavailableError) return new Map();
      throw error;
    }
  }

  private isFresh(quote: Quote): boolean {
    return this.clock.nowMs() - quote.asOfMs < this.options.cacheTtlMs;
  }

  private isYoungEnoughToTrade(quote: Quote): boolean {
    return this.clock.nowMs() - quote.asOfMs <= this.options.priceAgeMsMax;
  }

  /**
   * Keeps the last quote of a symbol in process too, so a hot symbol's reads within its TTL cost no
   * cache round trip and no parse. It is only used while fresh, by the same rule as the shared cache.
   */
  private remember(quote: Quote): void {
    if (this.recent.size >= RECENT_QUOTES_MAX && !this.recent.has(quote.symbol)) this.recent.clear();
    this.recent.set(quote.symbol, quote);
  }

  /**
   * The cached quote marked stale while it is young enough for `purpose`.
   * @param retryAfterSeconds the upstream's 429/418 `Retry-After`, passed on to the client's 503
   * @throws {PriceUnavailableError} (503) when it is not
   */
  private staleOrRefuse(
    symbol: string,
    cached: Quote | undefined,
    purpose: PricePurpose,
    retryAfterSeconds?: number,
  ): ServedQuote {
    const ageMsMax = purpose === 'trade' ? this.options.priceAgeMsMax : this.options.priceStaleMsMax;
    if (cached && this.clock.nowMs() - cached.asOfMs <= ageMsMax) {
      priceCacheLookups.inc({ result: 'stale' });
      return { ...cached, stale: true };
    }
    throw new PriceUnavailableError(symbol, 'the price source is unavailable', retryAfterSeconds);
  }

  private reportProcessJoins(): void {
    singleFlightJoins.inc({ scope: 'process' }, this.flights.joinCount);
    this.flights.joinCount = 0;
  }

  /**
   * One upstream request per symbol across every instance sharing the cache: the instance that
   * takes the short lock fetches and fills the cache; the others wait for the cache key (or for the
   * lock to go, and then try themselves). With the in-process cache there is one instance, and the
   * lock is always free.
   */
  private async fetchOnceInCluster(symbol: string, seen: Quote | undefined): Promise<Quote> {
    const lockKey = `price-lock:${symbol}`;
    const deadlineMs = this.clock.nowMs() + this.upstreamTimeoutMs;
    let joined = false;
    for (;;) {
      const locked = await this.cache
        .setIfAbsent(lockKey, this.instanceId, this.upstreamTimeoutMs)
        .catch(() => true); // no cache, no cluster: fetch
      if (locked) {
        try {
          // The instance that held the lock before may have filled the cache since this caller looked:
          // a fresh quote newer than the one the caller turned down is that instance's answer.
          const filled = await this.readCache(symbol);
          if (filled && this.isFresh(filled) && filled.asOfMs > (seen?.asOfMs ?? -1)) return filled;
          const fresh = await this.source
            .fetchQuote(symbol)
            .catch((error: unknown) => this.fromFallback(symbol, error));
          return await this.writeCache(fresh);
        } finally {
          await this.cache.delete(lockKey).catch(() => undefined);
        }
      }
      if (!joined) {
        singleFlightJoins.inc({ scope: 'cluster' });
        joined = true;
      }
      // Another instance is fetching: wait for its answer in the cache, or for its lock to go.
      while (this.clock.nowMs() < deadlineMs) {
        await sleep(CLUSTER_POLL_MS);
        const cached = await this.readCache(symbol);
        if (cached && this.isFresh(cached)) return cached;
        if ((await this.cache.get(lockKey).catch(() => null)) === null) break;
      }
      if (this.clock.nowMs() >= deadlineMs) {
        throw new UpstreamUnavailableError('another instance did not fetch the price in time');
      }
    }
  }

  /**
   * The fallback's quote of a symbol the source does not list. When the fallback does not list it
   * either, or cannot answer now, the source's own verdict (unknown symbol) stands.
   */
  private async fromFallback(symbol: string, error: unknown): Promise<Quote> {
    const fallback = this.options.fallback;
    if (!(error instanceof UnknownSymbolError) || !fallback) throw error;
    try {
      return await fallback.fetchQuote(symbol);
    } catch (fallbackError) {
      if (fallbackError instanceof UnknownSymbolError || fallbackError instanceof UpstreamUnavailableError)
        throw error;
      throw fallbackError;
    }
  }

  /** Data kept in the cache for `ttlMs`, fetched once per process however many callers ask. */
  private async cachedData<T>(
    key: string,
    ttlMs: number,
    symbol: string,
    fetch: () => Promise<T>,
  ): Promise<T> {
    const text = await this.cache.get(`market:${key}`).catch(() => null);
    if (text) return JSON.parse(text) as T;
    try {
      return (await this.dataFlights.run(key, async () => {
        const value = await fetch();
        await this.cache.set(`market:${key}`, JSON.stringify(value), ttlMs).catch(() => undefined);
        return value;
      })) as T;
    } catch (error) {
      if (error instanceof UpstreamUnavailableError) {
        throw new PriceUnavailableError(
          symbol,
          'the market-data source is unavailable',
          error.retryAfterSeconds,
        );
      }
      throw error;
    }
  }

  /** Publishes a freshly fetched quote; a bus outage never fails the read that fetched it. */
  private publish(quote: Quote): void {
    const events = this.options.events;
    if (!events) return;
    const tick = toPriceTick(quote);
    void events.publish(tick.channel, tick).catch(() => undefined);
    void events.publish(ALL_PRICES_CHANNEL, tick).catch(() => undefined);
  }

  /** The last quote of a symbol: the in-process one while fresh, else the shared cache's. */
  private async lastQuote(symbol: string): Promise<Quote | undefined> {
    return this.freshRecent(symbol) ?? (await this.readCache(symbol));
  }

  /** The quote of `symbol` kept in this process, while it is fresh. */
  private freshRecent(symbol: string): Quote | undefined {
    const recent = this.recent.get(symbol);
    return recent && this.isFresh(recent) ? recent : undefined;
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

  /**
   * Takes a fetched quote in: its prices rounded half-up to the ledger's 8 decimals (an aggregator's
   * price may carry more), so what is stored, compared and filled on is one and the same value.
   * @returns the quote as kept
   */
  private async writeCache(fetched: Quote): Promise<Quote> {
    const scaled = (price: string) => roundAmount(new Decimal(price)).toFixed();
    const quote = {
      ...fetched,
      last: scaled(fetched.last),
      bid: scaled(fetched.bid),
      ask: scaled(fetched.ask),
    };
    this.remember(quote);
    this.publish(quote);
    // Kept for the stale window, not just the TTL, so a failing upstream can still be answered.
    const keepMs = Math.max(this.options.cacheTtlMs, this.options.priceStaleMsMax);
    await this.cache.set(`price:${quote.symbol}`, JSON.stringify(quote), keepMs).catch(() => undefined);
    return quote;
  }
}
