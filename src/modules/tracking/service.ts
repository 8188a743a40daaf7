import { sql } from 'drizzle-orm';
import type { Db } from '../../platform/db/client.js';
import { withTransaction } from '../../platform/db/tx.js';
import { defined } from '../../shared/assert.js';
import { Decimal, roundAmount } from '../../shared/decimal.js';
import { ValidationError } from '../../shared/errors.js';
import {
  type PriceService,
  PriceUnavailableError,
  type ResolvedCoin,
  type ServedQuote,
  UnknownSymbolError,
  UpstreamUnavailableError,
} from '../market/index.js';
import {
  AlreadyTrackedError,
  CoinNamesUnavailableError,
  NotTrackedError,
  TrackedLimitReachedError,
} from './errors.js';
import {
  appendPrices,
  deleteTracked,
  findTracked,
  insertTrackedIfAbsent,
  listHistory,
  listTracked,
  lockTrackedByIds,
  type PricePoint,
  type TrackedRow,
} from './repository.js';
import { computeStats, type PriceStats } from './stats.js';

/**
 * Tracked cryptos at most. Every poll stays ONE upstream call: Binance's batch 24 h ticker takes 100
 * symbols per request (weight 40), CoinGecko's `/simple/price` 250 ids.
 */
export const TRACKED_COUNT_MAX = 100;

/**
 * Where coin names come from: CoinGecko's symbol → id map (cached in Redis), whatever the price
 * source, with the coins the product ships behind it (the market module's `createCoinNames`).
 */
export interface CoinDirectory {
  /**
   * @throws {UnknownSymbolError} when no coin has this ticker
   * @throws {UpstreamUnavailableError} when the map cannot be had now
   */
  resolveSymbol(symbol: string): Promise<ResolvedCoin>;
}

export interface TrackingDeps {
  db: Db;
  /** the configured price source behind its cache; asked with `refresh` (a price taken now) */
  prices: PriceService;
  coins: CoinDirectory;
  quoteAsset: string;
  /** prices kept per tracked crypto (`PRICE_HISTORY_LIMIT`) */
  historyLimit: number;
}

/** A tracked crypto as every route shows it. */
export interface TrackedCrypto {
  /** upper-case ticker (base asset), e.g. `BTC` */
  symbol: string;
  /** CoinGecko's display name, e.g. `Bitcoin` */
  name: string;
  /** newest price, quote asset (≤ 8 decimal places) */
  currentPrice: Decimal;
  /** when that price was true upstream */
  lastUpdated: Date;
}

/** One kept price. */
export interface HistoryPoint {
  /** quote asset */
  price: Decimal;
  timestamp: Date;
}

/** What a poll did: symbols priced and appended, symbols the source no longer lists. */
export interface PollOutcome {
  appended: string[];
  unlisted: string[];
}

const TICKER_TEXT = /^[A-Za-z0-9]{1,20}$/;

function toTracked(row: TrackedRow): TrackedCrypto {
  return {
    symbol: row.symbol,
    name: row.name,
    currentPrice: new Decimal(row.currentPrice),
    lastUpdated: row.lastUpdated,
  };
}

/**
 * Price tracking (SPEC C9, seed 004): one global list of tracked cryptos, each with its newest
 * `historyLimit` prices. Names come from CoinGecko (or the shipped list offline); prices from the
 * configured source, always taken now (never a cached price): one upstream call for a whole poll.
 */
export class TrackingService {
  constructor(private readonly deps: TrackingDeps) {}

  /**
   * A client's ticker as the list keys it: upper case, and a market symbol's quote asset dropped
   * (`btc`, `BTC` and `BTCUSDT` are all `BTC`).
   * @throws {ValidationError} (422; seed 004: 400) for anything but 1–20 letters or digits
   */
  normalizeSymbol(input: string): string {
    if (!TICKER_TEXT.test(input)) {
      throw new ValidationError('symbol must be 1–20 letters or digits, e.g. BTC', { field: 'symbol' });
    }
    const upper = input.toUpperCase();
    const { quoteAsset } = this.deps;
    return upper.endsWith(quoteAsset) && upper.length > quoteAsset.length
      ? upper.slice(0, -quoteAsset.length)
      : upper;
  }

  /** Every tracked crypto, in the order they were added. */
  async list(): Promise<TrackedCrypto[]> {
    return (await listTracked(this.deps.db, TRACKED_COUNT_MAX)).map(toTracked);
  }

  /** @throws {ValidationError}, {NotTrackedError} (404) */
  async get(input: string): Promise<TrackedCrypto> {
    return toTracked(await this.row(this.normalizeSymbol(input)));
  }

  /**
   * Starts tracking a ticker: its name from CoinGecko, its price now from the price source, stored
   * with that first price in its history, in one transaction.
   * @throws {ValidationError} (422) for junk; {UnknownSymbolError} (404) for a ticker no coin has or
   *   the source cannot price; {AlreadyTrackedError} (409); {TrackedLimitReachedError} (409);
   *   {PriceUnavailableError} (503) when no price can be had now; {CoinNamesUnavailableError} (503)
   *   when CoinGecko cannot name the coin now and the shipped list does not have it
   */
  async add(input: string): Promise<TrackedCrypto> {
    const symbol = this.normalizeSymbol(input);
    // Cheap answers first: no upstream call for a symbol already tracked or a full list.
    if (await findTracked(this.deps.db, symbol)) throw new AlreadyTrackedError(symbol);
    if ((await listTracked(this.deps.db, TRACKED_COUNT_MAX)).length >= TRACKED_COUNT_MAX) {
      throw new TrackedLimitReachedError(TRACKED_COUNT_MAX);
    }
    const coin = await this.deps.coins.resolveSymbol(symbol).catch((error: unknown) => {
      if (error instanceof UpstreamUnavailableError) throw new CoinNamesUnavailableError(symbol);
      throw error;
    });
    const quote = await this.quoteNow(symbol);
    const price = storablePrice(quote);
    if (!price) throw new PriceUnavailableError(symbol, 'the source gives no price above 0.00000001');
    const recordedAt = new Date(quote.asOfMs);
    const row = await withTransaction(this.deps.db, async (tx) => {
      // Adds queue on one lock, so the list's cap is decided on a count no concurrent add can change.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tracked_cryptos:add', 0))`);
      if ((await listTracked(tx, TRACKED_COUNT_MAX)).length >= TRACKED_COUNT_MAX) {
        throw new TrackedLimitReachedError(TRACKED_COUNT_MAX);
      }
      const inserted = await insertTrackedIfAbsent(tx, {
        symbol,
        coingeckoId: coin.id,
        name: coin.name,
        currentPrice: price,
        lastUpdated: recordedAt,
      });
      // A concurrent add of the same symbol won the race.
      if (!inserted) throw new AlreadyTrackedError(symbol);
      await appendPrices(tx, [{ trackedId: inserted.id, price, recordedAt }], this.deps.historyLimit);
      return inserted;
    });
    return toTracked(row);
  }

  /**
   * Takes the price now and appends it to the history.
   * @throws {ValidationError}, {NotTrackedError} (404), {UnknownSymbolError} (404) when the source no
   *   longer lists it, {PriceUnavailableError} (503)
   */
  async refresh(input: string): Promise<TrackedCrypto> {
    const symbol = this.normalizeSymbol(input);
    const tracked = await this.row(symbol);
    const quote = await this.quoteNow(symbol);
    const price = storablePrice(quote);
    if (!price) throw new PriceUnavailableError(symbol, 'the source gives no price above 0.00000001');
    const row = await withTransaction(this.deps.db, async (tx) => {
      const [locked] = await lockTrackedByIds(tx, [tracked.id]);
      // Removed while the price was being fetched.
      if (!locked) throw new NotTrackedError(symbol);
      await appendPrices(
        tx,
        [{ trackedId: locked.id, price, recordedAt: new Date(quote.asOfMs) }],
        this.deps.historyLimit,
      );
      return defined(await findTracked(tx, symbol));
    });
    return toTracked(row);
  }

  /** The kept prices, newest first. @throws {ValidationError}, {NotTrackedError} (404) */
  async history(input: string): Promise<{ symbol: string; history: HistoryPoint[] }> {
    const symbol = this.normalizeSymbol(input);
    const tracked = await this.row(symbol);
    const rows = await listHistory(this.deps.db, tracked.id, this.deps.historyLimit);
    return {
      symbol,
      history: rows.map((row) => ({ price: new Decimal(row.price), timestamp: row.recordedAt })),
    };
  }

  /**
   * The current price and the statistics of the kept history, read in one snapshot.
   * @throws {ValidationError}, {NotTrackedError} (404)
   */
  async stats(input: string): Promise<{ symbol: string; currentPrice: Decimal; stats: PriceStats }> {
    const symbol = this.normalizeSymbol(input);
    return await withTransaction(
      this.deps.db,
      async (tx) => {
        const tracked = await findTracked(tx, symbol);
        if (!tracked) throw new NotTrackedError(symbol);
        const rows = await listHistory(tx, tracked.id, this.deps.historyLimit);
        return {
          symbol,
          currentPrice: new Decimal(tracked.currentPrice),
          stats: computeStats(rows.map((row) => new Decimal(row.price))),
        };
      },
      { isolationLevel: 'repeatable read' },
    );
  }

  /** Stops tracking a symbol; its history goes with it. @throws {ValidationError}, {NotTrackedError} (404) */
  async remove(input: string): Promise<void> {
    const symbol = this.normalizeSymbol(input);
    if (!(await deleteTracked(this.deps.db, symbol))) throw new NotTrackedError(symbol);
  }

  /**
   * One poll: every tracked price in ONE upstream call (the source's batch endpoint), appended in one
   * transaction (each history trimmed to the limit). The price service publishes each price it
   * fetches on `prices:<SYMBOL>` (e.g. `prices:BTCUSDT`). A crypto removed meanwhile is skipped; one the source no longer lists keeps
   * its history untouched.
   * @throws {PriceUnavailableError} when the source cannot answer now: nothing is written
   */
  async pollOnce(): Promise<PollOutcome> {
    const tracked = await listTracked(this.deps.db, TRACKED_COUNT_MAX);
    if (tracked.length === 0) return { appended: [], unlisted: [] };
    const { quoteAsset } = this.deps;
    const { quotes, unknown } = await this.deps.prices.getQuotes(
      tracked.map((row) => `${row.symbol}${quoteAsset}`),
      'read',
      { refresh: true },
    );
    const quoteOf = new Map(quotes.map((quote) => [quote.symbol, quote]));
    const appended: string[] = [];
    await withTransaction(this.deps.db, async (tx) => {
      appended.length = 0;
      const points: PricePoint[] = [];
      for (const row of await lockTrackedByIds(
        tx,
        tracked.map((t) => t.id),
      )) {
        const quote = quoteOf.get(`${row.symbol}${quoteAsset}`);
        const price = quote && !quote.stale ? storablePrice(quote) : undefined;
        if (!quote || !price) continue;
        points.push({ trackedId: row.id, price, recordedAt: new Date(quote.asOfMs) });
        appended.push(row.symbol);
      }
      await appendPrices(tx, points, this.deps.historyLimit);
    });
    return {
      appended: appended.sort(),
      unlisted: unknown.map((market) => market.slice(0, -quoteAsset.length)),
    };
  }

  private async row(symbol: string): Promise<TrackedRow> {
    const row = await findTracked(this.deps.db, symbol);
    if (!row) throw new NotTrackedError(symbol);
    return row;
  }

  /**
   * The price of one ticker taken now from the source (its fallback included).
   * @throws {UnknownSymbolError} (404), {PriceUnavailableError} (503)
   */
  private async quoteNow(symbol: string): Promise<ServedQuote> {
    const market = `${symbol}${this.deps.quoteAsset}`;
    const { quotes } = await this.deps.prices.getQuotes([market], 'read', { refresh: true });
    const quote = quotes.find((q) => q.symbol === market);
    if (!quote) throw new UnknownSymbolError(symbol);
    if (quote.stale) throw new PriceUnavailableError(symbol, 'the price source is unavailable');
    return quote;
  }
}

/** A quote's last price at the storage scale (8 decimal places), or undefined when that rounds to 0. */
function storablePrice(quote: ServedQuote): string | undefined {
  const price = roundAmount(new Decimal(quote.last));
  return price.gt(0) ? price.toFixed() : undefined;
}
