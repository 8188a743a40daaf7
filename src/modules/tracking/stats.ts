import { assert, defined } from '../../shared/assert.js';
import { Decimal } from '../../shared/decimal.js';

/** Statistics of a kept price history (SPEC C9), exact decimals: rounded only when rendered. */
export interface PriceStats {
  /** lowest kept price, quote asset */
  minPrice: Decimal;
  /** highest kept price, quote asset */
  maxPrice: Decimal;
  /** arithmetic mean of the kept prices, quote asset (not rounded) */
  avgPrice: Decimal;
  /** newest − oldest kept price, quote asset */
  priceChange: Decimal;
  /** (newest − oldest) / oldest × 100: a percent, not a fraction (not rounded) */
  priceChangePct: Decimal;
  /** prices kept */
  recordsCount: number;
}

/**
 * Statistics of a history given **newest first** (as it is stored and served). Every price is
 * positive (a database CHECK), so the percent change is always defined.
 * @throws {AssertionError} for an empty history (a tracked crypto always has its first price)
 */
export function computeStats(pricesNewestFirst: readonly Decimal[]): PriceStats {
  assert(pricesNewestFirst.length > 0, 'a tracked crypto has at least one price');
  const newest = defined(pricesNewestFirst[0]);
  const oldest = defined(pricesNewestFirst[pricesNewestFirst.length - 1]);
  assert(oldest.gt(0), 'kept prices are positive');
  let min = newest;
  let max = newest;
  let sum = new Decimal(0);
  for (const price of pricesNewestFirst) {
    if (price.lt(min)) min = price;
    if (price.gt(max)) max = price;
    sum = sum.plus(price);
  }
  const change = newest.minus(oldest);
  return {
    minPrice: min,
    maxPrice: max,
    avgPrice: sum.div(pricesNewestFirst.length),
    priceChange: change,
    priceChangePct: change.div(oldest).times(100),
    recordsCount: pricesNewestFirst.length,
  };
}
