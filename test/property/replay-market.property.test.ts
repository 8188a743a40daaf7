/**
 * The replay never shows the future, whatever the instant (issue 22): a replay of three files —
 * BTCUSDT 2021-05-16, ETHUSDT 2021-09-23, BTCUSDT 2021-09-24, so there is a gap of four months that
 * no file covers (skipped), a symbol with no price before its first candle (ETH in May), a symbol in
 * a gap of its own recordings while the other plays (BTC on 09-23: its next recording must not
 * show), one silent after its last candle (ETH on 09-24), and several days — is driven by a clock
 * that fast-check moves forward by random steps (within a minute, or up to four days: past the end,
 * so the loop wraps). At each instant every market route is read over HTTP and checked against a
 * model built by this file from the recorded files: the replay shows exactly the recorded minutes up
 * to the replay instant, the current one cut there (its high and low those of the prices the source
 * gave during the minute so far, sampled each second with `fetchPricesAt` — the price path's corners
 * fall on whole seconds at speed 1), and nothing later; every time on the axis where the replay
 * instant reads as now.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayPriceSource } from '../../src/modules/market/index.js';
import { Decimal } from '../../src/shared/decimal.js';
import { useAppFactory } from '../helpers/app.js';
import { manualClock } from '../helpers/clock.js';
import { fixturePath } from '../helpers/fixtures.js';

const apps = useAppFactory();
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const FILES = [
  'klines/BTCUSDT-1m-2021-05-16.json',
  'klines/ETHUSDT-1m-2021-09-23.json',
  'klines/BTCUSDT-1m-2021-09-24.json',
].map(fixturePath);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;
const INTERVALS_MS = { '1m': MINUTE_MS, '5m': 300_000, '1h': 3_600_000, '1d': DAY_MS } as const;

interface ModelCandle {
  openTimeMs: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
}

/** The recorded minute candles of each symbol, read from the files here, oldest first. */
const recorded = new Map<string, ModelCandle[]>();
for (const file of FILES) {
  const symbol = file.split('/').pop()!.split('-')[0]!;
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as [
    number,
    string,
    string,
    string,
    string,
    string,
  ][];
  const candles = recorded.get(symbol) ?? [];
  for (const [openTimeMs, open, high, low, close, volume] of rows)
    candles.push({
      openTimeMs,
      open: new Decimal(open),
      high: new Decimal(high),
      low: new Decimal(low),
      close: new Decimal(close),
      volume: new Decimal(volume),
    });
  recorded.set(
    symbol,
    candles.sort((a, b) => a.openTimeMs - b.openTimeMs),
  );
}

/**
 * What the replay may show of `symbol` at recorded instant `atMs` (wall clock `nowMs`): the minutes
 * recorded up to it, the current one cut at it from the source's own past prices.
 */
async function visibleCandles(
  source: ReplayPriceSource,
  symbol: string,
  atMs: number,
  nowMs: number,
): Promise<ModelCandle[]> {
  const seen = recorded.get(symbol)!.filter((c) => c.openTimeMs <= atMs);
  const current = seen[seen.length - 1];
  if (!current || atMs >= current.openTimeMs + MINUTE_MS) return seen;
  const elapsedMs = atMs - current.openTimeMs;
  const instants = [nowMs];
  for (let ms = 0; ms < elapsedMs; ms += 1000) instants.push(nowMs - elapsedMs + ms);
  const prices = [...(await source.fetchPricesAt(symbol, instants)).values()].map(
    (p) => new Decimal(p.price),
  );
  expect(prices).toHaveLength(new Set(instants).size);
  const cut: ModelCandle = {
    openTimeMs: current.openTimeMs,
    open: current.open,
    high: Decimal.max(...prices),
    low: Decimal.min(...prices),
    close: new Decimal((await source.fetchPricesAt(symbol, [nowMs])).get(nowMs)!.price),
    volume: current.volume.times(elapsedMs).div(MINUTE_MS).toDecimalPlaces(8, Decimal.ROUND_DOWN),
  };
  // The path stays inside the recorded candle, and reaches its high and low no sooner than it may.
  expect(cut.high.lte(current.high) && cut.low.gte(current.low)).toBe(true);
  return [...seen.slice(0, -1), cut];
}

/** `candles` merged into buckets of `stepMs` (aligned on recorded time), the last `limit` of them. */
function buckets(candles: ModelCandle[], stepMs: number, limit: number): ModelCandle[] {
  const merged: ModelCandle[] = [];
  for (const c of candles) {
    const startMs = Math.floor(c.openTimeMs / stepMs) * stepMs;
    const last = merged[merged.length - 1];
    if (last?.openTimeMs === startMs) {
      last.high = Decimal.max(last.high, c.high);
      last.low = Decimal.min(last.low, c.low);
      last.close = c.close;
      last.volume = last.volume.plus(c.volume);
    } else merged.push({ ...c, openTimeMs: startMs });
  }
  return merged.slice(-limit);
}

const iso = (ms: number) => new Date(ms).toISOString();
const decimalText = (value: Decimal) => value.toFixed();

describe('the replay shows nothing the replay clock has not reached', () => {
  it('holds on every market route at random instants', { timeout: 300_000 }, async () => {
    const clock = manualClock(Date.parse('2026-12-02T10:00:00Z'));
    const source = new ReplayPriceSource(FILES, clock);
    const t = await apps.build({ priceSource: source, clock, env: { PRICE_CACHE_TTL_MS: '0' } });
    const get = async (url: string) => {
      const res = await t.app.inject({ method: 'GET', url });
      return { status: res.statusCode, body: res.json() };
    };
    const step = fc.oneof(
      fc.integer({ min: 0, max: MINUTE_MS - 1 }),
      fc.integer({ min: MINUTE_MS, max: 4 * DAY_MS }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 30 }),
        async (steps, limit) => {
          for (const stepMs of steps) {
            clock.advance(stepMs);
            // A cache entry made at the last instant (Redis keeps it ≥ 1 ms of real time) has gone.
            await new Promise((resolve) => setTimeout(resolve, 2));
            const nowMs = clock.nowMs();
            const atMs = source.replayInstantMs();
            const shiftMs = nowMs - atMs;
            const prices = new Map<string, string>();
            for (const symbol of SYMBOLS) {
              const visible = await visibleCandles(source, symbol, atMs, nowMs);
              const price = await get(`/api/v1/market/prices/${symbol}`);
              const ticker = await get(`/api/v1/market/tickers/${symbol}`);
              if (visible.length === 0) {
                // Before its first candle: no price at all, never a later recording's.
                expect(price).toMatchObject({ status: 503, body: { error: { code: 'PRICE_UNAVAILABLE' } } });
                expect(ticker.status).toBe(503);
                for (const interval of Object.keys(INTERVALS_MS))
                  expect(
                    (await get(`/api/v1/market/candles/${symbol}?interval=${interval}`)).body.items,
                  ).toEqual([]);
                continue;
              }
              const now = visible[visible.length - 1]!.close;
              expect(price.body).toMatchObject({ price: decimalText(now), as_of: iso(nowMs), stale: false });
              prices.set(symbol, price.body.price);

              const day = visible.filter((c) => c.openTimeMs > atMs - DAY_MS);
              const window = day.length > 0 ? buckets(day, Number.MAX_SAFE_INTEGER, 1)[0]! : undefined;
              expect(ticker.body).toMatchObject({
                open: decimalText(window?.open ?? now),
                high: decimalText(window?.high ?? now),
                low: decimalText(window?.low ?? now),
                last: decimalText(now),
                volume: decimalText(window?.volume ?? new Decimal(0)),
                open_time: iso(day.length > 0 ? day[0]!.openTimeMs + shiftMs : nowMs - DAY_MS),
                close_time: iso(nowMs),
              });

              for (const [interval, stepMs] of Object.entries(INTERVALS_MS)) {
                const url = `/api/v1/market/candles/${symbol}?interval=${interval}&limit=${limit}`;
                const items = (await get(url)).body.items as Record<string, string>[];
                const expected = buckets(visible, stepMs, limit);
                expect(items, url).toEqual(
                  expected.map((c) => ({
                    open_time: iso(c.openTimeMs + shiftMs),
                    open: decimalText(c.open),
                    high: decimalText(c.high),
                    low: decimalText(c.low),
                    close: decimalText(c.close),
                    volume: decimalText(c.volume),
                    close_time: iso(c.openTimeMs + stepMs - 1 + shiftMs),
                  })),
                );
                const last = items[items.length - 1]!;
                expect(last.close).toBe(price.body.price);
                expect(Date.parse(last.open_time!)).toBeLessThanOrEqual(nowMs);
                for (const c of items) {
                  const [open, high, low, close] = [c.open, c.high, c.low, c.close].map(
                    (v) => new Decimal(v!),
                  );
                  expect(high!.gte(Decimal.max(open!, close!)) && low!.lte(Decimal.min(open!, close!))).toBe(
                    true,
                  );
                }
              }
            }
            const batch = await get('/api/v1/market/prices?symbols=BTC,ETH');
            if (prices.size < SYMBOLS.length) expect(batch.status).toBe(503);
            else
              expect(batch.body.items.map((p: { price: string }) => p.price)).toEqual([...prices.values()]);
            const symbols = await get('/api/v1/market/symbols');
            // The list says what can be traded, never a price or a time.
            for (const item of symbols.body.items)
              expect(Object.keys(item).sort()).toEqual([
                'base_asset',
                'max_price',
                'max_qty',
                'min_notional',
                'min_price',
                'min_qty',
                'quote_asset',
                'step_size',
                'symbol',
                'tick_size',
              ]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
