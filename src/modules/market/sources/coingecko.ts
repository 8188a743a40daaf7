import { setTimeout as sleep } from 'node:timers/promises';
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

/** A CoinGecko coin: its API id (`bitcoin`), ticker as CoinGecko lists it (`btc`) and display name. */
export interface CoinRef {
  id: string;
  symbol: string;
  name: string;
}

/** What {@link CoinGeckoPriceSource.resolveSymbol} answers: the coin a ticker means here. */
export interface ResolvedCoin {
  /** CoinGecko API id, e.g. `bitcoin` */
  id: string;
  /** the base asset, upper case, e.g. `BTC` */
  symbol: string;
  /** display name, e.g. `Bitcoin` */
  name: string;
}

export interface CoinGeckoOptions {
  /** e.g. `https://api.coingecko.com/api/v3` (no trailing slash) */
  baseUrl: string;
  /** budget of one upstream call, retries included (ms) */
  timeoutMs: number;
  clock: Clock;
  /** where the symbol → id map lives for 24 h: Redis (shared by every instance) or in process */
  cache: KeyValueCache;
  /** the quote asset of market symbols (`USDT` → `BTCUSDT`); priced as USD, see the class TSDoc */
  quoteAsset?: string;
}

/** The symbol → id map (and each ticker's resolution) is kept 24 h: CoinGecko lists new coins daily at most. */
export const COIN_MAP_TTL_MS = 24 * 60 * 60 * 1000;
/** `/coins/markets` pages hold at most 250 coins (`per_page` ≤ 250). */
const MARKETS_IDS_PER_CALL_MAX = 250;
/** Ids per `/simple/price` call; the URL stays well under 8 kB (250 ids × ~30 characters). */
const PRICE_IDS_PER_CALL_MAX = 250;
/** Entries accepted from `/coins/list` (12,868 in 2024-02): anything longer is not CoinGecko. */
const COIN_COUNT_MAX = 200_000;
/** How often a waiting instance looks for the map another instance is fetching. */
const LOCK_POLL_INTERVAL_MS = 50;
/** CoinGecko prices in a fiat currency; the quote asset is taken at par with it. */
const VS_CURRENCY = 'usd';

const CACHE_KEY_COIN_LIST = 'coingecko:coins-list:v1';
const cacheKeyResolved = (base: string) => `coingecko:symbol:v1:${base}`;

const coinEntrySchema = z.object({
  id: z.string().min(1).max(200),
  symbol: z.string().min(1).max(100),
  name: z.string().max(500),
});
const marketEntrySchema = z.object({
  id: z.string(),
  // Numbers arrive as their literal text (see getUpstreamJson).
  market_cap: z.string().nullish(),
  market_cap_rank: z.coerce.number().nullish(),
});
/** Our own form of the map in the cache: when it was fetched, and `[id, symbol, name]` triples. */
const storedListSchema = z.object({
  fetchedAtMs: z.number(),
  coins: z.array(z.tuple([z.string(), z.string(), z.string()])),
});

interface CoinMap {
  /** lower-case ticker → every coin listed under it, in `/coins/list` order */
  bySymbol: Map<string, CoinRef[]>;
  /** lower-case ticker → the coin it resolved to; lives as long as the map */
  resolved: Map<string, CoinRef>;
  expiresAtMs: number;
}

/**
 * CoinGecko's public API v3 over plain HTTP (fetch), as a price source and as the source of coin
 * names.
 *
 * **Symbols.** `/coins/list` maps tickers to CoinGecko ids, and many coins share a ticker (`btc`
 * is both `bitcoin` and `blackrocktradingcurrency`; `eth` has five entries in our recording). A
 * ticker resolves to the coin with the **largest USD market cap** reported by `/coins/markets`
 * (one call for all candidates); ties go to the better (lower) `market_cap_rank`, then to the
 * smaller id in code-unit order, so the answer never depends on the order CoinGecko returns them
 * in. A coin with no market cap ranks below every coin with one. A ticker with a single coin needs
 * no `/coins/markets` call.
 *
 * **Caching.** The list is fetched once per 24 h and kept in the {@link KeyValueCache} (Redis when
 * `REDIS_URL` is set, so every instance shares it), as is each ticker's resolution. Concurrent first
 * callers share one `/coins/list` request: in process through a single flight, across instances
 * through a short lock in the cache (the others read the map when it lands, or fetch it themselves
 * if the holder takes longer than their whole timeout).
 *
 * **Prices.** `BTCUSDT` and `BTC` both mean the coin `btc` resolves to, priced in **USD**:
 * CoinGecko has no USDT market, and USDT trades within a fraction of a percent of one dollar, so the
 * USD price stands for the USDT price. There is no order book: bid = ask = last. `asOfMs` is when
 * we received the price (CoinGecko refreshes its public prices about once a minute).
 *
 * **Failures.** 429 → {@link UpstreamUnavailableError} with `retryAfterSeconds`, and no request to
 * CoinGecko from any instance until then; 5xx, timeouts, HTML pages and malformed bodies →
 * {@link UpstreamUnavailableError}; a ticker CoinGecko does not list → {@link UnknownSymbolError}.
 *
 * @see https://docs.coingecko.com/reference/coins-list
 * @see https://docs.coingecko.com/reference/coins-markets
 * @see https://docs.coingecko.com/reference/simple-price
 */
export class CoinGeckoPriceSource implements PriceSource {
  readonly name = 'coingecko';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly cache: KeyValueCache;
  private readonly quoteAsset: string;
  private readonly backoff: UpstreamBackoff;
  private coinMap: CoinMap | undefined;
  private coinMapLoading: Promise<CoinMap> | undefined;
  /** lower-case ticker → the `/coins/markets` call deciding it, shared by concurrent callers */
  private readonly resolving = new Map<string, Promise<CoinRef>>();

  constructor(options: CoinGeckoOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock;
    this.cache = options.cache;
    this.quoteAsset = options.quoteAsset ?? 'USDT';
    this.backoff = new UpstreamBackoff(options.cache, 'coingecko:backoff', options.clock);
  }

  /**
   * The coin a ticker means: `BTCUSDT`, `BTC` and `btc` all give `{id: 'bitcoin', symbol: 'BTC',
   * name: 'Bitcoin'}`. Shared tickers resolve to the largest market cap (see the class TSDoc).
   * @throws {UnknownSymbolError} when CoinGecko lists no coin under the ticker
   * @throws {UpstreamUnavailableError} when the list or the market caps cannot be had now
   * @see https://docs.coingecko.com/reference/coins-list
   */
  async resolveSymbol(symbol: string): Promise<ResolvedCoin> {
    const base = baseAssetOf(symbol, this.quoteAsset);
    const coin = (await this.resolveBases([base])).get(base);
    if (!coin) throw new UnknownSymbolError(symbol);
    return { id: coin.id, symbol: base, name: coin.name };
  }

  /**
   * The USD price of one symbol (`BTCUSDT` or `BTC`) as a quote in the quote asset; bid = ask = last.
   * One `/simple/price` call once the symbol is resolved.
   * @throws {UnknownSymbolError} when CoinGecko lists no such coin, or has no USD price for it
   * @throws {UpstreamUnavailableError} on 429 (with `retryAfterSeconds`), 5xx, timeout or a malformed body
   * @see https://docs.coingecko.com/reference/simple-price
   */
  async fetchQuote(symbol: string): Promise<Quote> {
    const base = baseAssetOf(symbol, this.quoteAsset);
    const coin = (await this.resolveBases([base])).get(base);
    if (!coin) throw new UnknownSymbolError(symbol);
    const price = (await this.fetchUsdPrices([coin.id])).get(coin.id);
    if (price === undefined) throw new UnknownSymbolError(symbol);
    return this.toQuote(base, price);
  }

  /**
   * USD prices of several symbols in **one** `/simple/price` call (one per 250 coins), keyed by the
   * symbol as given; symbols CoinGecko does not list or price are left out.
   * @throws {UpstreamUnavailableError} on 429 (with `retryAfterSeconds`), 5xx, timeout or a malformed body
   * @see https://docs.coingecko.com/reference/simple-price
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
    const coins = await this.resolveBases([...new Set(baseOf.values())]);
    const prices = await this.fetchUsdPrices([...new Set([...coins.values()].map((coin) => coin.id))]);
    const quotes = new Map<string, Quote>();
    for (const [symbol, base] of baseOf) {
      const coin = coins.get(base);
      const price = coin && prices.get(coin.id);
      if (price !== undefined) quotes.set(symbol, this.toQuote(base, price));
    }
    return quotes;
  }

  private toQuote(base: string, price: string): Quote {
    return {
      symbol: `${base}${this.quoteAsset}`,
      last: price,
      bid: price,
      ask: price,
      source: this.name,
      asOfMs: this.clock.nowMs(),
    };
  }

  /**
   * `GET /simple/price?ids=a,b,c&vs_currencies=usd` → id → USD price (decimal string). Ids that
   * CoinGecko does not know are absent from its answer (`{}` for none), and so from the map.
   * @throws {UpstreamUnavailableError} on 429, 5xx, timeout, or a body that is not `{id: {usd: n}}`
   */
  private async fetchUsdPrices(ids: string[]): Promise<Map<string, string>> {
    const prices = new Map<string, string>();
    for (let start = 0; start < ids.length; start += PRICE_IDS_PER_CALL_MAX) {
      const chunk = ids.slice(start, start + PRICE_IDS_PER_CALL_MAX);
      const body = await this.get(
        '/simple/price',
        `ids=${chunk.map(encodeURIComponent).join(',')}&vs_currencies=${VS_CURRENCY}`,
      );
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new UpstreamUnavailableError('coingecko answered a malformed /simple/price body');
      }
      const byId = body as Record<string, unknown>;
      for (const id of chunk) {
        const entry = Object.hasOwn(byId, id) ? byId[id] : undefined;
        if (typeof entry !== 'object' || entry === null) continue;
        const value = (entry as Record<string, unknown>)[VS_CURRENCY];
        if (value === undefined || value === null) continue;
        const price = priceToDecimalString(value);
        if (price === undefined) {
          throw new UpstreamUnavailableError(`coingecko answered an unusable price for ${id}`);
        }
        prices.set(id, price);
      }
    }
    return prices;
  }

  /**
   * Upper-case base assets → the coin each resolves to; bases CoinGecko does not list are absent.
   * Resolutions come from memory, then the shared cache, then one `/coins/markets` call for every
   * base still undecided; a base already being decided by a concurrent call joins that call.
   */
  private async resolveBases(bases: string[]): Promise<Map<string, CoinRef>> {
    const map = await this.loadCoinMap();
    const result = new Map<string, CoinRef>();
    const joined: Promise<void>[] = [];
    const undecided: string[] = [];
    for (const base of bases) {
      const ticker = base.toLowerCase();
      const candidates = map.bySymbol.get(ticker);
      if (!candidates) continue;
      const known = map.resolved.get(ticker) ?? (candidates.length === 1 ? candidates[0] : undefined);
      if (known) {
        result.set(base, known);
        continue;
      }
      const running = this.resolving.get(ticker);
      if (running) joined.push(running.then((coin) => void result.set(base, coin)));
      else undecided.push(base);
    }
    if (undecided.length > 0) {
      const decision = this.decideByMarketCap(
        undecided.map((base) => base.toLowerCase()),
        map,
      );
      for (const base of undecided) {
        const ticker = base.toLowerCase();
        const one = decision.then((decided) => defined(decided.get(ticker)));
        // Joiners see the same outcome; the entry goes once the decision is made either way.
        void one.catch(() => undefined);
        this.resolving.set(ticker, one);
        void decision.finally(() => this.resolving.delete(ticker)).catch(() => undefined);
        joined.push(one.then((coin) => void result.set(base, coin)));
      }
    }
    await Promise.all(joined);
    return result;
  }

  /**
   * Decides shared tickers: a resolution another instance stored is reused; the rest are decided
   * by one `GET /coins/markets?vs_currency=usd&ids=…` (per 250 candidates) and stored for 24 h.
   * @see https://docs.coingecko.com/reference/coins-markets
   */
  private async decideByMarketCap(tickers: string[], map: CoinMap): Promise<Map<string, CoinRef>> {
    const decided = new Map<string, CoinRef>();
    const misses: string[] = [];
    for (const ticker of tickers) {
      const stored = await this.cache.get(cacheKeyResolved(ticker)).catch(() => null);
      const coin = stored ? map.bySymbol.get(ticker)?.find((c) => c.id === stored) : undefined;
      if (coin) decided.set(ticker, coin);
      else misses.push(ticker);
    }
    if (misses.length > 0) {
      const ids = [
        ...new Set(misses.flatMap((ticker) => defined(map.bySymbol.get(ticker)).map((c) => c.id))),
      ].sort();
      const caps = new Map<string, MarketCap>();
      for (let start = 0; start < ids.length; start += MARKETS_IDS_PER_CALL_MAX) {
        const chunk = ids.slice(start, start + MARKETS_IDS_PER_CALL_MAX);
        const body = await this.get(
          '/coins/markets',
          `vs_currency=${VS_CURRENCY}&ids=${chunk.map(encodeURIComponent).join(',')}` +
            `&per_page=${MARKETS_IDS_PER_CALL_MAX}&page=1`,
        );
        if (!Array.isArray(body)) {
          throw new UpstreamUnavailableError('coingecko answered a malformed /coins/markets body');
        }
        for (const item of body) {
          const entry = marketEntrySchema.safeParse(item);
          if (!entry.success) continue;
          const cap = entry.data.market_cap;
          const rank = entry.data.market_cap_rank;
          caps.set(entry.data.id, {
            marketCap: upstreamDecimal(cap)?.gt(0) ? upstreamDecimal(cap) : undefined,
            rank: typeof rank === 'number' && Number.isFinite(rank) && rank > 0 ? rank : undefined,
          });
        }
      }
      const ttlMs = Math.max(1, map.expiresAtMs - this.clock.nowMs());
      for (const ticker of misses) {
        const coin = pickLargestMarketCap(defined(map.bySymbol.get(ticker)), caps);
        decided.set(ticker, coin);
        await this.cache.set(cacheKeyResolved(ticker), coin.id, ttlMs).catch(() => undefined);
      }
    }
    for (const [ticker, coin] of decided) map.resolved.set(ticker, coin);
    return decided;
  }

  /** The symbol → coins map: from memory, else the shared cache, else `/coins/list` (once). */
  private async loadCoinMap(): Promise<CoinMap> {
    if (this.coinMap && this.coinMap.expiresAtMs > this.clock.nowMs()) return this.coinMap;
    if (!this.coinMapLoading) {
      this.coinMapLoading = this.readOrFetchCoinList()
        .then((stored) => {
          const map = buildCoinMap(stored.coins, stored.fetchedAtMs + COIN_MAP_TTL_MS);
          this.coinMap = map;
          return map;
        })
        .catch((error: unknown) => {
          // A map past its 24 h still names the right coins: keep it while a refresh cannot be had.
          if (this.coinMap) return this.coinMap;
          throw error;
        })
        .finally(() => {
          this.coinMapLoading = undefined;
        });
    }
    return await this.coinMapLoading;
  }

  /**
   * The stored list if an instance fetched it in the last 24 h; otherwise this instance takes the
   * cache lock and fetches it, or waits for the instance holding the lock. Waiting is bounded by
   * this source's timeout, after which it fetches the list itself rather than fail.
   */
  private async readOrFetchCoinList(): Promise<z.infer<typeof storedListSchema>> {
    const lockKey = `${CACHE_KEY_COIN_LIST}:lock`;
    const pollCountMax = Math.ceil(this.timeoutMs / LOCK_POLL_INTERVAL_MS);
    for (let poll = 0; poll < pollCountMax; poll++) {
      const stored = await this.readStoredList();
      if (stored) return stored;
      // A cache outage must not stop prices: without a cache, every instance fetches for itself.
      const locked = await this.cache.setIfAbsent(lockKey, 'fetching', this.timeoutMs).catch(() => true);
      if (locked) {
        try {
          // The holder before us may have stored the list and let go between our two looks.
          return (await this.readStoredList()) ?? (await this.fetchCoinList());
        } finally {
          await this.cache.delete(lockKey).catch(() => undefined);
        }
      }
      await sleep(LOCK_POLL_INTERVAL_MS);
    }
    return await this.fetchCoinList();
  }

  private async readStoredList(): Promise<z.infer<typeof storedListSchema> | undefined> {
    const text = await this.cache.get(CACHE_KEY_COIN_LIST).catch(() => null);
    if (!text) return undefined;
    try {
      const parsed = storedListSchema.safeParse(JSON.parse(text));
      return parsed.success && parsed.data.coins.length > 0 ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * `GET /coins/list` → every coin's id, ticker and name, stored in the cache for 24 h. Entries that
   * are not `{id, symbol, name}` strings are skipped; an answer with no usable entry is refused, so
   * a broken upstream can never make every symbol unknown for a day.
   * @throws {UpstreamUnavailableError} on 429, 5xx, timeout or a malformed body
   * @see https://docs.coingecko.com/reference/coins-list
   */
  private async fetchCoinList(): Promise<z.infer<typeof storedListSchema>> {
    const body = await this.get('/coins/list', '');
    if (!Array.isArray(body) || body.length > COIN_COUNT_MAX) {
      throw new UpstreamUnavailableError('coingecko answered a malformed /coins/list body');
    }
    const coins: [string, string, string][] = [];
    for (const item of body) {
      const entry = coinEntrySchema.safeParse(item);
      if (entry.success) coins.push([entry.data.id, entry.data.symbol, entry.data.name]);
    }
    if (coins.length === 0) {
      throw new UpstreamUnavailableError('coingecko answered a /coins/list with no usable coin');
    }
    const stored = { fetchedAtMs: this.clock.nowMs(), coins };
    await this.cache.set(CACHE_KEY_COIN_LIST, JSON.stringify(stored), COIN_MAP_TTL_MS).catch(() => undefined);
    return stored;
  }

  /**
   * One GET on CoinGecko; any answer but 2xx JSON is {@link UpstreamUnavailableError} (CoinGecko
   * answers unknown ids with 200 and an empty result, so a 4xx is never "no such coin").
   */
  private async get(route: string, query: string): Promise<unknown> {
    const { status, body } = await getUpstreamJson({
      sourceName: 'coingecko',
      url: `${this.baseUrl}${route}${query ? `?${query}` : ''}`,
      route,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      backoff: this.backoff,
    });
    if (status < 200 || status >= 300) throw new UpstreamUnavailableError(`coingecko answered ${status}`);
    return body;
  }
}

function buildCoinMap(coins: [string, string, string][], expiresAtMs: number): CoinMap {
  const bySymbol = new Map<string, CoinRef[]>();
  for (const [id, symbol, name] of coins) {
    const ticker = symbol.toLowerCase();
    const list = bySymbol.get(ticker);
    if (list) {
      if (!list.some((coin) => coin.id === id)) list.push({ id, symbol, name });
    } else bySymbol.set(ticker, [{ id, symbol, name }]);
  }
  return { bySymbol, resolved: new Map(), expiresAtMs };
}

/** A coin's market cap in USD (a decimal) and its market-cap rank, as `/coins/markets` gives them. */
export interface MarketCap {
  marketCap: Decimal | undefined;
  rank: number | undefined;
}

/**
 * The coin with the largest market cap; ties (or no cap at all) go to the lower market-cap rank,
 * then to the smaller id in code-unit order. Coins without a cap rank below those with one.
 */
export function pickLargestMarketCap(candidates: CoinRef[], caps: Map<string, MarketCap>): CoinRef {
  const none = new Decimal(-1);
  const ordered = [...candidates].sort((a, b) => {
    const capA = caps.get(a.id)?.marketCap ?? none;
    const capB = caps.get(b.id)?.marketCap ?? none;
    if (!capA.eq(capB)) return capB.cmp(capA);
    const rankA = caps.get(a.id)?.rank ?? Number.POSITIVE_INFINITY;
    const rankB = caps.get(b.id)?.rank ?? Number.POSITIVE_INFINITY;
    if (rankA !== rankB) return rankA < rankB ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return defined(ordered[0]);
}
