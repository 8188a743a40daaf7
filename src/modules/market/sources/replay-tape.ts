import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defined } from '../../../shared/assert.js';
import { Decimal, isDecimalString } from '../../../shared/decimal.js';
import type { Candle } from '../quote.js';

/**
 * The recorded side of the replay (SPEC §2 "Replay price source"): kline files read into one tape
 * per symbol, the replay clock that maps a wall-clock reading to a recorded instant, and what a
 * tape shows at a recorded instant — never anything recorded after it.
 */

/** Binance kline interval the recordings use (1m). */
export const CANDLE_MS = 60_000;
/** Decimals Binance gives volumes with: a pro-rata volume is cut to them. */
const VOLUME_SCALE = 8;

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

/** A 1-minute candle as recorded, on the recording's own clock (its close is the open time + 1 min − 1 ms). */
export type RecordedCandle = Omit<Candle, 'closeTimeMs'>;

/** Every recorded minute of one symbol, oldest first. */
export interface SymbolTape {
  candles: RecordedCandle[];
  /** decimals of the recorded prices (trailing zeros ignored): interpolated prices are rounded to it */
  priceScale: number;
}

/** The replay files could not be read or are not Binance 1m klines. */
export class ReplayFileError extends Error {
  override name = 'ReplayFileError';
}

/**
 * Every kline file named by `<file or folder>[,<file or folder>…]`, relative to the working folder;
 * a folder means every `*.json` in it, in name order.
 * @throws {ReplayFileError} for a missing file or folder, or a folder with no `*.json`
 */
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

/**
 * One tape per symbol (from the file name, `BTCUSDT-1m-….json`); several files of a symbol are
 * joined in time order.
 * @throws {ReplayFileError} when a file is missing, misnamed or not a klines array
 */
export function loadTapes(files: string[]): Map<string, SymbolTape> {
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

/** A stretch of recorded time that some file covers with no gap, and where it starts on the replay clock. */
interface Segment {
  /** recorded time, ms since epoch; `endMs` is exclusive */
  startMs: number;
  endMs: number;
  /** ms of replay time before this segment */
  offsetMs: number;
}

/**
 * The replay clock. Replay time is the recording with its gaps cut out: it starts at the earliest
 * candle of all files, runs through every minute some file covers, jumps over the stretches no
 * file covers, and wraps around after the last. The wall clock drives it: `startedAtMs` is replay
 * time 0 and each wall ms is `speed` replay ms.
 */
export class ReplayTimeline {
  private readonly segments: Segment[] = [];
  /** replay ms in one pass of the recording */
  readonly lengthMs: number;

  /** @param startedAtMs the wall-clock instant the replay starts at (ms since epoch) */
  constructor(
    tapes: Iterable<SymbolTape>,
    readonly startedAtMs: number,
    private readonly speed: number,
  ) {
    const opens = [...tapes].flatMap((tape) => tape.candles.map((c) => c.openTimeMs)).sort((a, b) => a - b);
    let offsetMs = 0;
    for (const openMs of opens) {
      const last = this.segments[this.segments.length - 1];
      if (last && openMs <= last.endMs) {
        last.endMs = Math.max(last.endMs, openMs + CANDLE_MS);
        continue;
      }
      if (last) offsetMs += last.endMs - last.startMs;
      this.segments.push({ startMs: openMs, endMs: openMs + CANDLE_MS, offsetMs });
    }
    const last = defined(this.segments[this.segments.length - 1]);
    this.lengthMs = last.offsetMs + last.endMs - last.startMs;
  }

  /**
   * The recorded instant (ms since epoch, whole ms) the replay shows when the wall clock reads `wallMs`.
   * Before `startedAtMs` it counts backwards around the loop; callers decide whether that is asked.
   */
  instantAt(wallMs: number): number {
    const elapsedMs = Math.floor((wallMs - this.startedAtMs) * this.speed);
    const offsetMs = ((elapsedMs % this.lengthMs) + this.lengthMs) % this.lengthMs;
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (defined(this.segments[mid]).offsetMs <= offsetMs) low = mid;
      else high = mid - 1;
    }
    const segment = defined(this.segments[low]);
    return segment.startMs + (offsetMs - segment.offsetMs);
  }
}

/** Index of the tape's latest candle opened at or before recorded instant `atMs`; −1 when none. */
export function lastCandleIndex(tape: SymbolTape, atMs: number): number {
  const { candles } = tape;
  let low = -1;
  let high = candles.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (defined(candles[mid]).openTimeMs <= atMs) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * The prices a candle passes through in its minute: open → low → high → close when it rises (close
 * ≥ open), open → high → low → close when it falls, each leg a third of the minute.
 */
function pathOf(candle: RecordedCandle): [string, string, string, string] {
  const rising = new Decimal(candle.close).gte(candle.open);
  return [candle.open, rising ? candle.low : candle.high, rising ? candle.high : candle.low, candle.close];
}

/** How far into its path a candle is `elapsedMs` into its minute: the leg (0–2) and the fraction of it. */
function legAt(elapsedMs: number): { leg: number; fraction: number } {
  const position = (elapsedMs / CANDLE_MS) * 3;
  const leg = Math.min(2, Math.floor(position));
  return { leg, fraction: position - leg };
}

/**
 * The replayed price of a tape at recorded instant `atMs`, rounded half-up to the tape's price
 * scale: on the path of the candle in progress, else the close of the latest candle before (a
 * symbol in a gap of its own recordings keeps its last price).
 * @returns undefined before the tape's first candle: the symbol has no price yet
 */
export function priceAt(tape: SymbolTape, atMs: number): Decimal | undefined {
  const index = lastCandleIndex(tape, atMs);
  if (index < 0) return undefined;
  const candle = defined(tape.candles[index]);
  const elapsedMs = atMs - candle.openTimeMs;
  if (elapsedMs >= CANDLE_MS) return new Decimal(candle.close);
  const path = pathOf(candle);
  const { leg, fraction } = legAt(elapsedMs);
  const from = new Decimal(defined(path[leg]));
  const to = new Decimal(defined(path[leg + 1]));
  return from.plus(to.minus(from).times(fraction)).toDecimalPlaces(tape.priceScale, Decimal.ROUND_HALF_UP);
}

/**
 * Candle `index` of the tape as far as recorded instant `atMs` has seen it. A finished candle is
 * the recorded one; the candle in progress is cut at `atMs` as Binance's current kline is: its
 * open, the high and low of the path so far, close = the price now, and the volume pro rata of
 * the minute elapsed (rounded down to 8 decimals, so it never shows more than was traded).
 */
export function candleSoFar(tape: SymbolTape, index: number, atMs: number): RecordedCandle {
  const candle = defined(tape.candles[index]);
  const elapsedMs = atMs - candle.openTimeMs;
  if (elapsedMs >= CANDLE_MS) return candle;
  const now = defined(priceAt(tape, atMs));
  const passed = pathOf(candle)
    .slice(0, legAt(elapsedMs).leg + 1)
    .map((price) => new Decimal(price));
  const scale = tape.priceScale;
  return {
    openTimeMs: candle.openTimeMs,
    open: candle.open,
    high: Decimal.max(now, ...passed).toFixed(scale),
    low: Decimal.min(now, ...passed).toFixed(scale),
    close: now.toFixed(scale),
    volume: new Decimal(candle.volume)
      .times(elapsedMs)
      .div(CANDLE_MS)
      .toDecimalPlaces(VOLUME_SCALE, Decimal.ROUND_DOWN)
      .toFixed(),
  };
}

/** The candles of one bucket merged into one (oldest first, at least one): first open, extremes, last close, total volume. */
export function mergeCandles(candles: readonly RecordedCandle[]): Omit<RecordedCandle, 'openTimeMs'> {
  let high = new Decimal(defined(candles[0]).high);
  let low = new Decimal(defined(candles[0]).low);
  let volume = new Decimal(0);
  for (const c of candles) {
    high = Decimal.max(high, c.high);
    low = Decimal.min(low, c.low);
    volume = volume.plus(c.volume);
  }
  return {
    open: defined(candles[0]).open,
    high: high.toFixed(),
    low: low.toFixed(),
    close: defined(candles[candles.length - 1]).close,
    volume: volume.toFixed(),
  };
}
