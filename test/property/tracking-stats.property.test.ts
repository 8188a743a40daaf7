/**
 * The tracker's statistics (`computeStats`) against a plain model, for any history of NUMERIC(38,8)
 * prices: min and max are members of the history, the mean times the count is the exact sum, the
 * change is newest − oldest and the percent is that change over the oldest × 100 — with no rounding
 * before rendering, so a history of one price has change 0 and percent 0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeStats } from '../../src/modules/tracking/index.js';
import { Decimal } from '../../src/shared/decimal.js';

/** A positive price with at most 8 decimal places, up to 10^12. */
const price = fc.bigInt({ min: 1n, max: 10n ** 20n }).map((units) => new Decimal(units.toString()).div(1e8));

describe('computeStats', () => {
  it('matches the model for any history (newest first)', () => {
    fc.assert(
      fc.property(fc.array(price, { minLength: 1, maxLength: 120 }), (history) => {
        const stats = computeStats(history);
        const sum = history.reduce((a, b) => a.plus(b), new Decimal(0));
        const newest = history[0]!;
        const oldest = history.at(-1)!;
        expect(history.some((p) => p.eq(stats.minPrice))).toBe(true);
        expect(history.some((p) => p.eq(stats.maxPrice))).toBe(true);
        expect(history.every((p) => p.gte(stats.minPrice) && p.lte(stats.maxPrice))).toBe(true);
        expect(stats.avgPrice.times(history.length).minus(sum).abs().lte('1e-40')).toBe(true);
        expect(stats.priceChange.eq(newest.minus(oldest))).toBe(true);
        expect(stats.priceChangePct.eq(newest.minus(oldest).div(oldest).times(100))).toBe(true);
        expect(stats.recordsCount).toBe(history.length);
      }),
    );
  });

  it('gives a single price a change of 0 and a percent of 0', () => {
    const stats = computeStats([new Decimal('45000.5')]);
    expect([stats.priceChange.toFixed(), stats.priceChangePct.toFixed(), stats.avgPrice.toFixed()]).toEqual([
      '0',
      '0',
      '45000.5',
    ]);
  });
});
