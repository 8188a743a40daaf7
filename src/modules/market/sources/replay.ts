import { defined } from '../../../shared/assert.js';
import type { Clock } from '../../../shared/clock.js';
import { Decimal } from '../../../shared/decimal.js';
import { DomainError } from '../../../shared/errors.js';
import { PriceUnavailableError, UnknownSymbolError } from '../errors.js';
import type { Candle, CandleInterval, PriceAt, PriceSource, Quote, SymbolInfo, Ticker24h } from '../quote.js';
import {
  CANDLE_MS,
  candleSoFar,
  lastCandleIndex,
  loadTapes,
  mergeCandles,
  priceAt,
  type RecordedCandle,
  ReplayTimeline,
  type SymbolTape,
} from './replay-tape.js';

export { ReplayFileError, resolveReplayFiles } from './replay-tape.js';

/** Quote assets a replayed symbol may end with, longest first (`ETHUSDT` → ETH + USDT). */
const KNOWN_QUOTE_ASSETS = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];

/** Milliseconds per Binance kline interval; `1M` is taken as 30 days (replay only). */
const INTERVAL_MS: Record<CandleInterval, number> = {
  '1s': 1000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
  '1w': 604_800_000,
  '1M': 2_592_000_000,
};
const DAY_MS = 86_400_000;

/** What a replay may be given besides its files. */
export interface ReplayOptions {
  /** Binance's filters of the replayed symbols (a recorded exchangeInfo); symbols not in it have none */
  symbolInfo?: readonly SymbolInfo[];
}

/**
 * Recorded Binance 1-minute klines played as a live market (SPEC §2 "Replay price source").
 *
 * **Clock.** The source's creation is replay time 0, the earliest candle of all files; replay time
 * advances with the clock × `speed`, skips the stretches no file covers and wraps around at the end
 * (see {@link ReplayTimeline}). Within a candle the price moves open → low → high → close for a
 * rising candle, open → high → low → close for a falling one, each leg a third of the minute.
 *
 * **No future.** Every answer is made of what the replay has reached: a symbol shows its latest
 * candle at or before the replay instant (and has no price before its first); the current candle
 * is cut at the replay instant; later candles do not exist yet.
 *
 * **Times.** Every time answered is on the wall clock's axis: the replay instant reads as now, and
 * a recorded time `t` as now − (replay instant − t), so candles keep their recorded lengths (a 1m
 * candle spans 60 s whatever `speed`) and a quote's `asOfMs`, a ticker's `closeTimeMs` and the
 * current candle's open time all agree. bid = ask = last: the recordings carry no book.
 */
export class ReplayPriceSource implements PriceSource {
  readonly name = 'replay';
  private readonly tapes: Map<string, SymbolTape>;
  private readonly timeline: ReplayTimeline;
  private readonly symbolInfo: Map<string, SymbolInfo>;

  /** @throws {ReplayFileError} when a file is missing, misnamed or not a klines array */
  constructor(
    files: string[],
    private readonly clock: Clock,
    speed = 1,
    options: ReplayOptions = {},
  ) {
    this.tapes = loadTapes(files);
    this.timeline = new ReplayTimeline(this.tapes.values(), clock.nowMs(), speed);
    this.symbolInfo = new Map((options.symbolInfo ?? []).map((info) => [info.symbol, info]));
  }

  /** Symbols found in the files, e.g. `['BTCUSDT', 'ETHUSDT']`. */
  get symbols(): string[] {
    return [...this.tapes.keys()].sort();
  }

  /** The recorded instant (ms since epoch) that the clock's now maps to. */
  replayInstantMs(): number {
    return this.timeline.instantAt(this.clock.nowMs());
  }

  /**
   * The replayed price now; `asOfMs` is now.
   * @throws {UnknownSymbolError} for a symbol no file carries
   * @throws {PriceUnavailableError} (503) before the symbol's first candle
   */
  async fetchQuote(symbol: string): Promise<Quote> {
    const tape = this.tape(symbol);
    const nowMs = this.clock.nowMs();
    const price = priceAt(tape, this.timeline.instantAt(nowMs));
    if (!price) throw notYet(symbol);
    const last = price.toFixed(tape.priceScale);
    return { symbol, last, bid: last, ask: last, source: this.name, asOfMs: nowMs };
  }

  /**
   * Quotes of the symbols the files carry; the others are left out.
   * @throws {PriceUnavailableError} (503) when one of them has no price yet
   */
  async fetchQuotes(symbols: string[]): Promise<Map<string, Quote>> {
    const quotes = new Map<string, Quote>();
    for (const symbol of symbols)
      if (this.tapes.has(symbol)) quotes.set(symbol, await this.fetchQuote(symbol));
    return quotes;
  }

  /**
   * What {@link fetchQuote} answered (or would have) when the clock read each instant: the replay's
   * price then, with `atMs` = that instant. Instants before the source was created, after now, or
   * before the symbol's first candle at that time, are left out.
   * @param instantsMs wall-clock instants (ms since epoch), any order, duplicates allowed
   * @throws {UnknownSymbolError} for a symbol no file carries
   */
  async fetchPricesAt(symbol: string, instantsMs: readonly number[]): Promise<Map<number, PriceAt>> {
    const tape = this.tape(symbol);
    const nowMs = this.clock.nowMs();
    const prices = new Map<number, PriceAt>();
    for (const atMs of instantsMs) {
      if (atMs < this.timeline.startedAtMs || atMs > nowMs) continue;
      const price = priceAt(tape, this.timeline.instantAt(atMs));
      if (price) prices.set(atMs, { price: price.toFixed(tape.priceScale), atMs });
    }
    return prices;
  }

  /**
   * 24 h statistics of the replayed past: the minute candles of the 24 h up to the replay instant
   * (fewer when less has been replayed), the current one cut at the replay instant, the current
   * price as the last. `closeTimeMs` is now; a symbol silent for 24 h shows its last price, no volume.
   * @throws {UnknownSymbolError}; {PriceUnavailableError} (503) before the symbol's first candle
   */
  async fetchTicker24h(symbol: string): Promise<Ticker24h> {
    const tape = this.tape(symbol);
    const nowMs = this.clock.nowMs();
    const atMs = this.timeline.instantAt(nowMs);
    const lastIndex = lastCandleIndex(tape, atMs);
    if (lastIndex < 0) throw notYet(symbol);
    const window: RecordedCandle[] = [];
    for (let i = lastIndex; i >= 0 && defined(tape.candles[i]).openTimeMs > atMs - DAY_MS; i--) {
      window.push(candleSoFar(tape, i, atMs));
    }
    window.reverse();
    const lastClose = candleSoFar(tape, lastIndex, atMs).close;
    const merged =
      window.length > 0
        ? mergeCandles(window)
        : { open: lastClose, high: lastClose, low: lastClose, close: lastClose, volume: '0' };
    let quoteVolume = new Decimal(0);
    for (const c of window) quoteVolume = quoteVolume.plus(new Decimal(c.volume).times(c.close));
    const open = new Decimal(merged.open);
    const change = new Decimal(merged.close).minus(open);
    const scale = tape.priceScale;
    return {
      symbol,
      open: open.toFixed(scale),
      high: new Decimal(merged.high).toFixed(scale),
      low: new Decimal(merged.low).toFixed(scale),
      last: new Decimal(merged.close).toFixed(scale),
      volume: merged.volume,
      quoteVolume: quoteVolume.toDecimalPlaces(8).toFixed(),
      priceChange: change.toFixed(scale),
      priceChangePercent: open.isZero() ? '0' : change.div(open).times(100).toDecimalPlaces(3).toFixed(),
      openTimeMs: nowMs - (atMs - (window[0]?.openTimeMs ?? atMs - DAY_MS)),
      closeTimeMs: nowMs,
      tradeCount: 0,
    };
  }

  /**
   * The latest `limit` candles of `interval` that exist at the replay instant, oldest first, merged
   * from the recorded minute candles; the current one is cut at the replay instant and keeps the end
   * of its interval as its close time (as Binance's current kline does). `1s` cannot be made from
   * minute candles. Before the symbol's first candle there are none.
   * @throws {UnknownSymbolError}; {UnsupportedIntervalError} (422) for `1s`
   */
  async fetchCandles(symbol: string, interval: CandleInterval, limit: number): Promise<Candle[]> {
    const tape = this.tape(symbol);
    const stepMs = INTERVAL_MS[interval];
    if (stepMs < CANDLE_MS) throw new UnsupportedIntervalError(interval);
    const nowMs = this.clock.nowMs();
    const atMs = this.timeline.instantAt(nowMs);
    // Walking back from the replay instant: newest bucket and candle first, reversed at the end.
    const buckets: { startMs: number; candles: RecordedCandle[] }[] = [];
    for (let i = lastCandleIndex(tape, atMs); i >= 0; i--) {
      const startMs = Math.floor(defined(tape.candles[i]).openTimeMs / stepMs) * stepMs;
      let bucket = buckets[buckets.length - 1];
      if (bucket?.startMs !== startMs) {
        if (buckets.length === limit) break;
        bucket = { startMs, candles: [] };
        buckets.push(bucket);
      }
      bucket.candles.push(candleSoFar(tape, i, atMs));
    }
    const shiftMs = nowMs - atMs;
    return buckets.reverse().map((bucket) => ({
      openTimeMs: bucket.startMs + shiftMs,
      ...mergeCandles(bucket.candles.reverse()),
      closeTimeMs: bucket.startMs + stepMs - 1 + shiftMs,
    }));
  }

  /**
   * The symbols the files carry, split into base and quote asset by the known quote assets, with
   * the filters of the exchangeInfo the source was given, where it lists them.
   */
  async fetchSymbols(): Promise<SymbolInfo[]> {
    return this.symbols.map((symbol) => {
      const known = this.symbolInfo.get(symbol);
      if (known) return known;
      const quoteAsset = KNOWN_QUOTE_ASSETS.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? '';
      return { symbol, baseAsset: symbol.slice(0, symbol.length - quoteAsset.length), quoteAsset };
    });
  }

  private tape(symbol: string): SymbolTape {
    const tape = this.tapes.get(symbol);
    if (!tape) throw new UnknownSymbolError(symbol);
    return tape;
  }
}

function notYet(symbol: string): PriceUnavailableError {
  return new PriceUnavailableError(symbol, 'the replay has not reached its first recorded candle yet');
}

/** Candles of an interval shorter than the recording's minute were asked of the replay (422). */
export class UnsupportedIntervalError extends DomainError {
  readonly code = 'UNSUPPORTED_INTERVAL';
  constructor(interval: string) {
    super(`the replayed market has no ${interval} candles: its recordings are 1-minute candles`, {
      interval,
    });
  }
}
