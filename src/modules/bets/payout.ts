import { Decimal, roundAmount } from '../../shared/decimal.js';

/** Which way the bettor says the price goes. */
export type BetDirection = 'up' | 'down';

/** W: the bet made money, L: it lost some, D (draw): the price did not move. */
export type BetResult = 'W' | 'L' | 'D';

/** What a bet pays at settlement; amounts in the quote asset, exact to 8 decimals. */
export interface BetOutcome {
  result: BetResult;
  /** signed: > 0 won, < 0 lost (never below −stake), 0 for a draw */
  profit: Decimal;
  /** stake + profit: what goes back to the wallet's available balance (≥ 0) */
  payout: Decimal;
}

/**
 * Settles a bet on paper. Pure: no I/O, no clock.
 * profit = stake × leverage × (end − start) / start × (+1 for up, −1 for down), computed exactly
 * (60 significant digits), floored at −stake (a bet never loses more than its stake) and rounded
 * half-up to 8 decimals once, at the end. The result follows the sign of the rounded profit, so a
 * move too small to be worth 10⁻⁸ is a draw, like no move at all.
 * @param stake > 0, quote asset
 * @param leverage a multiple ≥ 1
 * @param startPrice, endPrice > 0, quote asset per unit of base
 */
export function betOutcome(
  direction: BetDirection,
  stake: Decimal,
  leverage: number,
  startPrice: Decimal,
  endPrice: Decimal,
): BetOutcome {
  const sign = direction === 'up' ? 1 : -1;
  const exact = stake.times(leverage).times(endPrice.minus(startPrice)).div(startPrice).times(sign);
  const profit = roundAmount(Decimal.max(exact, stake.neg()));
  const result: BetResult = profit.gt(0) ? 'W' : profit.lt(0) ? 'L' : 'D';
  return { result, profit, payout: stake.plus(profit) };
}
