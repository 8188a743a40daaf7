/**
 * The bet payout (`betOutcome`, pure) and its settlement postings, for any stake, leverage and
 * prices within the limits:
 * - profit is stake × leverage × (end − start) / start × (±1), rounded half-up to 8 decimals once,
 *   and never below −stake; payout = stake + profit ≥ 0;
 * - result is W / L / D by the sign of the profit, D when the price did not move;
 * - up and down are mirror images until the floor;
 * - the postings release exactly the stake from escrow, move exactly the profit from (or the loss to)
 *   the house, and never debit the available balance.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { betOutcome } from '../../src/modules/bets/index.js';
import { settlementPostings } from '../../src/modules/bets/settlement.js';
import { Decimal } from '../../src/shared/decimal.js';

const amount = (maxUnits: number) =>
  fc.integer({ min: 1, max: maxUnits }).map((n) => new Decimal(n).div(100_000_000));
const stake = fc
  .integer({ min: 100_000_000, max: 1_000_000_000_000 })
  .map((n) => new Decimal(n).div(100_000_000));
const price = amount(10_000_000_000_000);
const leverage = fc.integer({ min: 1, max: 100 });
const direction = fc.constantFrom<'up' | 'down'>('up', 'down');

describe('bet payout', () => {
  it('matches the rule to the cent on known figures', () => {
    const s = new Decimal('123.45');
    expect(betOutcome('up', s, 7, new Decimal(50000), new Decimal('50123.45'))).toEqual({
      result: 'W',
      profit: new Decimal('2.13358635'),
      payout: new Decimal('125.58358635'),
    });
    expect(
      betOutcome('down', new Decimal(100), 100, new Decimal(50000), new Decimal(60000)).profit.toFixed(),
    ).toBe('-100');
    expect(betOutcome('up', new Decimal(100), 5, new Decimal(3), new Decimal(1)).profit.toFixed()).toBe(
      '-100',
    );
    // 100 × 3 × 1 / 3 × … = 1/3 of 100 → 33.33333333 (half-up at the 8th decimal)
    expect(betOutcome('up', new Decimal(100), 1, new Decimal(3), new Decimal(4)).profit.toFixed()).toBe(
      '33.33333333',
    );
    expect(betOutcome('down', new Decimal(100), 1, new Decimal(3), new Decimal(3))).toMatchObject({
      result: 'D',
    });
  });

  it('holds its properties for any bet', () => {
    fc.assert(
      fc.property(direction, stake, leverage, price, price, (dir, s, lev, start, end) => {
        const outcome = betOutcome(dir, s, lev, start, end);
        const sign = dir === 'up' ? 1 : -1;
        const exact = s.times(lev).times(end.minus(start)).div(start).times(sign);
        expect(outcome.profit.decimalPlaces()).toBeLessThanOrEqual(8);
        expect(outcome.profit.gte(s.neg())).toBe(true);
        expect(outcome.profit.minus(Decimal.max(exact, s.neg())).abs().lte('0.000000005')).toBe(true);
        expect(outcome.payout.eq(s.plus(outcome.profit))).toBe(true);
        expect(outcome.payout.gte(0)).toBe(true);
        expect(outcome.result).toBe(outcome.profit.gt(0) ? 'W' : outcome.profit.lt(0) ? 'L' : 'D');
        if (start.eq(end)) expect(outcome.result).toBe('D');
        const mirror = betOutcome(dir === 'up' ? 'down' : 'up', s, lev, start, end);
        if (outcome.profit.gt(s.neg()) && mirror.profit.gt(s.neg()))
          expect(mirror.profit.plus(outcome.profit).abs().lte('0.00000001')).toBe(true);

        const postings = settlementPostings('w', 'USDT', s, outcome);
        const moved = (from: string, to: string) =>
          postings
            .filter((p) => kindOf(p.source) === from && kindOf(p.destination) === to)
            .reduce((sum, p) => sum.plus(p.amount), new Decimal(0));
        expect(postings.every((p) => p.amount.gt(0))).toBe(true);
        expect(postings.some((p) => kindOf(p.source) === 'available')).toBe(false);
        expect(moved('locked', 'available').plus(moved('locked', 'house')).eq(s)).toBe(true);
        expect(moved('house', 'available').minus(moved('locked', 'house')).eq(outcome.profit)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

function kindOf(ref: { walletId: string; bucket: string } | { system: string }): string {
  return 'system' in ref ? ref.system : ref.bucket;
}
