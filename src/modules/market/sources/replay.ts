import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../../shared/clock.js';
import { Decimal, isDecimalString } from '../../../shared/decimal.js';
import { DomainError } from '../../../shared/errors.js';
import { UnknownSymbolError } from '../errors.js';
import type { Candle, CandleInterval, PriceSource, Quote, SymbolInfo, Ticker24h } from '../quote.js';

/** Binance kline interval the recordings use (1m). */
const CANDLE_MS = 60_000;

/** One row of `GET /api/v3/klines`: [openTime, open, high, low, close, volume, closeTime, …]. */
const klineRowSchema = z
  .tuple([
    z.number().int(),
    z.string().refine(isDecimalString),
    z.string().refine(isDecimalString),
    z.string().refine(isDecimalString),
    z.string().refine(isDecimalString),
    z.string().refine(isDecimalString),
  ])
  .rest(z.unknown());

/** A recorded 1-minute candle (its close time is the open time + 1 min − 1 ms). */
type RecordedCandle = Omit<Candle, 'closeTimeMs'>;

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

interface SymbolTape {
  candles: RecordedCandle[];
  /** decimals of the recorded prices (trailing zeros ignored): interpolated prices are rounded to it */
  priceScale: number;
}

/** The replay files could not be read or are not Binance 1m klines. */
export class ReplayFileError extends Error {
  override name = 'ReplayFileError';
}

/** Every kline file named by `replay:<file or folder>[,<file or folder>…]`. */
export function resolveReplayFiles(spec: string): string[] {
  const files: string[] = [];
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const full = path.resolve(part);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      throw new ReplayFileError(`PRICE_SOURCE: no such kline file or folder: ${part}`);
    }
    if (stat.isDirectory()) {
      const inFolder = fs
        .readdirSync(full)
        .filter((name) => name.endsWith('.json'))
        .sort();
      if (inFolder.length === 0) throw new ReplayFileError(`PRICE_SOURCE: no *.json kline file in ${part}`);
      files.push(...inFolder.map((name) => path.join(full, name)));
    } else {
      files.push(full);
    }
  }
  if (files.length === 0) throw new ReplayFileError('PRICE_SOURCE: replay needs at least one kline file');
  return files;
}

function decimalsOf(price: string): number {
  const fraction = price.split('.')[1]?.replace(/0+$/, '') ?? '';
  return fraction.length;
}

function loadTapes(files: string[]): Map<string, SymbolTape> {
  const tapes = new Map<string, SymbolTape>();
  for (const file of files) {
    const symbol = /^([A-Z0-9]{2,20})-1m-/.exec(path.basename(file))?.[1];
    if (!symbol) {
      throw new ReplayFileError(
        `PRICE_SOURCE: ${path.basename(file)} is not named <SYMBOL>-1m-….json (e.g. BTCUSDT-1m-2021-05-16.json)`,
      );
    }
    let rows: unknown;
    try {
      rows = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ReplayFileError(`PRICE_SOURCE: cannot read ${file}: ${(error as Error).message}`);
    }
    const parsed = z.array(klineRowSchema).min(1).safeParse(rows);
    if (!parsed.success) throw new ReplayFileError(`PRICE_SOURCE: ${file} is not a Binance klines array`);
    const tape = tapes.get(symbol) ?? { candles: [], priceScale: 0 };
    for (const [openTimeMs, open, high, low, close, volume] of parsed.data) {
      tape.candles.push({ openTimeMs, open, high, low, close, volume });
      tape.priceScale = Math.max(
        tape.priceScale,
        decimalsOf(open),
        decimalsOf(high),
        decimalsOf(low),
        decimalsOf(close),
      );
    }
    tapes.set(symbol, tape);
  }
  for (const tape of tapes.values()) tape.candles.sort((a, b) => a.openTimeMs - b.openTimeMs);
  return tapes;
}

/**
 * Recorded Binance 1-minute klines played as a live market (SPEC §2 "Replay price source").
 * The process's start instant maps to the earliest candle of all files; replay time advances with
 * the clock × `speed` and wraps around at the end of the recording. Within a candle the price moves
 * open → low → high → close for a rising candle, open → high → low → close for a falling one, each
 * leg a third of the minute. A symbol with no candle at the replay instant shows its nearest one.
 * bid = ask = last: the recordings carry no book.
 */
export class ReplayPriceSource implements PriceSource {
  readonly name = 'replay';
  private readonly tapes: Map<string, SymbolTape>;
  private readonly startedAtMs: number;
  private readonly recordingStartMs: number;
  private readonly recordingSpanMs: number;

  /** @throws {ReplayFileError} when a file is missing, misnamed or not a klines array */
  constructor(
    files: string[],
    private readonly clock: Clock,
    private readonly speed = 1,
  ) {
    this.tapes = loadTapes(files);
    const firsts = [...this.tapes.values()].map((t) => t.candles[0]!.openTimeMs);
    const ends = [...this.tapes.values()].map((t) => t.candles[t.candles.length - 1]!.openTimeMs + CANDLE_MS);
    this.recordingStartMs = Math.min(...firsts);
    this.recordingSpanMs = Math.max(...ends) - this.recordingStartMs;
    this.startedAtMs = clock.nowMs();
  }

  /** Symbols found in the files, e.g. `['BTCUSDT', 'ETHUSDT']`. */
  get symbols(): string[] {
    return [...this.tapes.keys()].sort();
  }

  /** The recorded instant (ms since epoch) that the clock's now maps to. */
  replayInstantMs(): number {
    const elapsedMs = (this.clock.nowMs() - this.startedAtMs) * this.speed;
    const offsetMs = ((elapsedMs % this.recordingSpanMs) + this.recordingSpanMs) % this.recordingSpanMs;
    return this.recordingStartMs + offsetMs;
  }

  /** @throws {UnknownSymbolError} for a symbol no file carries */
  async fetchQuote(symbol: string): Promise<Quote> {
    const tape = this.tape(symbol);
    const price = priceAt(tape, this.replayInstantMs()).toFixed(tape.priceScale);
    return { symbol, last: price, bid: price, ask: price, source: this.name, asOfMs: this.clock.nowMs() };
  }

  /** Quotes of the symbols the files carry; the others are left out. */
  async fetchQuotes(symbols: string[]): Promise<Map<string, Quote>> {
    const quotes = new Map<string, Quote>();
    for (const symbol of symbols)
      if (this.tapes.has(symbol)) quotes.set(symbol, await this.fetchQuote(symbol));
    return quotes;
  }

  /**
   * 24 h statistics computed from the recording: the minute candles of the 24 h before the replay
   * instant (fewer when the recording is shorter), with the current replayed price as the last.
   * Times are given on the wall clock: the replay instant maps to now.
   * @throws {UnknownSymbolError}
   */
  async fetchTicker24h(symbol: string): Promise<Ticker24h> {
    const tape = this.tape(symbol);
    const atMs = this.replayInstantMs();
    const window = tape.candles.filter((c) => c.openTimeMs <= atMs && c.openTimeMs > atMs - DAY_MS);
    const candles = window.length > 0 ? window : [nearestCandle(tape, atMs)];
    const last = priceAt(tape, atMs);
    const open = new Decimal(candles[0]!.open);
    let high = last;
    let low = last;
    let volume = new Decimal(0);
    let quoteVolume = new Decimal(0);
    for (const c of candles) {
      high = Decimal.max(high, c.high);
      low = Decimal.min(low, c.low);
      volume = volume.plus(c.volume);
      quoteVolume = quoteVolume.plus(new Decimal(c.volume).times(c.close));
    }
    const change = last.minus(open);
    const shiftMs = this.clock.nowMs() - atMs;
    return {
      symbol,
      open: open.toFixed(tape.priceScale),
      high: high.toFixed(tape.priceScale),
      low: low.toFixed(tape.priceScale),
      last: last.toFixed(tape.priceScale),
      volume: volume.toFixed(),
      quoteVolume: quoteVolume.toDecimalPlaces(8).toFixed(),
      priceChange: change.toFixed(tape.priceScale),
      priceChangePercent: open.isZero() ? '0' : change.div(open).times(100).toDecimalPlaces(3).toFixed(),
      openTimeMs: candles[0]!.openTimeMs + shiftMs,
      closeTimeMs: this.clock.nowMs(),
      tradeCount: 0,
    };
  }

  /**
   * The latest `limit` candles of `interval`, oldest first, aggregated from the recorded minute
   * candles up to the replay instant (the one in progress included); times on the wall clock.
   * `1s` cannot be made from minute candles.
   * @throws {UnknownSymbolError}; {UnsupportedIntervalError} (422) for `1s`
   */
  async fetchCandles(symbol: string, interval: CandleInterval, limit: number): Promise<Candle[]> {
    const tape = this.tape(symbol);
    const stepMs = INTERVAL_MS[interval];
    if (stepMs < CANDLE_MS) throw new UnsupportedIntervalError(interval);
    const atMs = this.replayInstantMs();
    const shiftMs = this.clock.nowMs() - atMs;
    const buckets: Candle[] = [];
    const firstMs = Math.floor(atMs / stepMs) * stepMs - (limit - 1) * stepMs;
    for (const c of tape.candles) {
      if (c.openTimeMs < firstMs || c.openTimeMs > atMs) continue;
      const bucketMs = Math.floor(c.openTimeMs / stepMs) * stepMs;
      const current = buckets[buckets.length - 1];
      if (current && current.openTimeMs === bucketMs + shiftMs) {
        current.high = Decimal.max(current.high, c.high).toFixed();
        current.low = Decimal.min(current.low, c.low).toFixed();
        current.close = c.close;
        current.volume = new Decimal(current.volume).plus(c.volume).toFixed();
      } else {
        buckets.push({
          openTimeMs: bucketMs + shiftMs,
          open: c.open,
          high: c.high,
          low: c.low,
          close: c.close,
          volume: c.volume,
          closeTimeMs: bucketMs + stepMs - 1 + shiftMs,
        });
      }
    }
    return buckets.slice(-limit);
  }

  /** The symbols the files carry, split into base and quote asset by the known quote assets. */
  async fetchSymbols(): Promise<SymbolInfo[]> {
    return this.symbols.map((symbol) => {
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

/** Candles of an interval shorter than the recording's minute were asked of the replay (422). */
export class UnsupportedIntervalError extends DomainError {
  readonly code = 'UNSUPPORTED_INTERVAL';
  constructor(interval: string) {
    super(`the replayed market has no ${interval} candles: its recordings are 1-minute candles`, {
      interval,
    });
  }
}

function nearestCandle(tape: SymbolTape, atMs: number): RecordedCandle {
  let best = tape.candles[0]!;
  for (const c of tape.candles)
    if (Math.abs(c.openTimeMs - atMs) < Math.abs(best.openTimeMs - atMs)) best = c;
  return best;
}

/** The replayed price of a tape at recorded instant `atMs`, rounded to the tape's price scale. */
export function priceAt(tape: SymbolTape, atMs: number): Decimal {
  const { candles } = tape;
  let low = 0;
  let high = candles.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (candles[mid]!.openTimeMs <= atMs) low = mid;
    else high = mid - 1;
  }
  const candle = candles[low]!;
  let price: Decimal;
  if (atMs < candle.openTimeMs) {
    price = new Decimal(candle.open);
  } else if (atMs >= candle.openTimeMs + CANDLE_MS) {
    // In a gap between recordings, or past the end: the nearer of this close and the next open.
    const next = candles[low + 1];
    const nearerIsNext = next && next.openTimeMs - atMs < atMs - (candle.openTimeMs + CANDLE_MS);
    price = new Decimal(nearerIsNext ? next.open : candle.close);
  } else {
    const rising = new Decimal(candle.close).gte(candle.open);
    const path = [
      candle.open,
      rising ? candle.low : candle.high,
      rising ? candle.high : candle.low,
      candle.close,
    ];
    const position = ((atMs - candle.openTimeMs) / CANDLE_MS) * 3;
    const leg = Math.min(2, Math.floor(position));
    const from = new Decimal(path[leg]!);
    const to = new Decimal(path[leg + 1]!);
    price = from.plus(to.minus(from).times(position - leg));
  }
  return price.toDecimalPlaces(tape.priceScale, Decimal.ROUND_HALF_UP);
}
