import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../../shared/clock.js';
import { Decimal, isDecimalString } from '../../../shared/decimal.js';
import { UnknownSymbolError } from '../errors.js';
import type { PriceSource, Quote } from '../quote.js';

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
  ])
  .rest(z.unknown());

/** A recorded 1-minute candle; prices are decimal strings in the quote asset. */
interface Candle {
  openTimeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
}

interface SymbolTape {
  candles: Candle[];
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
    for (const [openTimeMs, open, high, low, close] of parsed.data) {
      tape.candles.push({ openTimeMs, open, high, low, close });
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
    const tape = this.tapes.get(symbol);
    if (!tape) throw new UnknownSymbolError(symbol);
    const price = priceAt(tape, this.replayInstantMs()).toFixed(tape.priceScale);
    return { symbol, last: price, bid: price, ask: price, source: this.name, asOfMs: this.clock.nowMs() };
  }
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
