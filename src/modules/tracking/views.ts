import { z } from 'zod';
import { decimalOutput } from '../../platform/http/schemas.js';
import { type Decimal, formatDecimal, roundAmount } from '../../shared/decimal.js';
import type { HistoryPoint, TrackedCrypto } from './service.js';
import type { PriceStats } from './stats.js';

/** Decimal places of a rendered percent change (seed 004 shows `2.27`). */
const PERCENT_SCALE = 2;

/** A price at the storage scale (8 places), half-up, as a decimal string. */
const price = (value: Decimal) => formatDecimal(roundAmount(value));

export const trackedOutput = z
  .object({
    symbol: z.string().meta({ description: 'ticker (base asset)', example: 'BTC' }),
    name: z.string().meta({ description: 'CoinGecko’s name of the coin', example: 'Bitcoin' }),
    current_price: decimalOutput('newest price, quote asset', '45000.5'),
    last_updated: z.string().meta({ description: 'when that price was true (ISO 8601 UTC)' }),
  })
  .meta({ id: 'TrackedCrypto' });

export const historyOutput = z
  .object({
    symbol: z.string().meta({ example: 'BTC' }),
    history: z.array(
      z.object({
        price: decimalOutput('price, quote asset', '45000.5'),
        timestamp: z.string().meta({ description: 'when the price was true (ISO 8601 UTC)' }),
      }),
    ),
  })
  .meta({ id: 'TrackedHistory', description: 'kept prices, newest first' });

export const statsOutput = z
  .object({
    symbol: z.string().meta({ example: 'BTC' }),
    current_price: decimalOutput('newest price, quote asset', '45000.5'),
    stats: z.object({
      min_price: decimalOutput('lowest kept price', '44000'),
      max_price: decimalOutput('highest kept price', '46000'),
      avg_price: decimalOutput('mean of the kept prices, to 8 decimal places', '45000'),
      price_change: decimalOutput('newest − oldest kept price', '1000'),
      price_change_percent: decimalOutput('(newest − oldest) / oldest × 100, to 2 decimal places', '2.27'),
      records_count: z.number().int().meta({ description: 'prices kept', example: 100 }),
    }),
  })
  .meta({ id: 'TrackedStats' });

/** The wire form of a tracked crypto: decimal strings (seed 004 turns them into numbers). */
export function trackedView(crypto: TrackedCrypto): z.infer<typeof trackedOutput> {
  return {
    symbol: crypto.symbol,
    name: crypto.name,
    current_price: price(crypto.currentPrice),
    last_updated: crypto.lastUpdated.toISOString(),
  };
}

/** The wire form of a history, newest first. */
export function historyView(symbol: string, history: HistoryPoint[]): z.infer<typeof historyOutput> {
  return {
    symbol,
    history: history.map((point) => ({
      price: price(point.price),
      timestamp: point.timestamp.toISOString(),
    })),
  };
}

/** The wire form of the statistics: exact until here, rounded once (prices 8 places, percent 2). */
export function statsView(answer: {
  symbol: string;
  currentPrice: Decimal;
  stats: PriceStats;
}): z.infer<typeof statsOutput> {
  const { stats } = answer;
  return {
    symbol: answer.symbol,
    current_price: price(answer.currentPrice),
    stats: {
      min_price: price(stats.minPrice),
      max_price: price(stats.maxPrice),
      avg_price: price(stats.avgPrice),
      price_change: price(stats.priceChange),
      price_change_percent: formatDecimal(stats.priceChangePct.toDecimalPlaces(PERCENT_SCALE)),
      records_count: stats.recordsCount,
    },
  };
}
