import { Decimal, roundAmount } from '../../shared/decimal.js';
import { available, orderReserve, type Posting } from '../ledger/index.js';
import type { OrderSide, OrderSpec } from './fills.js';

/**
 * How far above its stop price a triggered market-type order (stop_loss, take_profit) may fill and
 * still be paid from its reservation: what it may spend is reserved at stop × (1 + 5 %). A fill
 * beyond that takes the rest from the wallet's free balance, and is rejected if that is short.
 */
export const STOP_RESERVE_BOUND = '0.05';

/** What a resting order holds in its wallet's `order_reserve` account while it rests. */
export interface Reservation {
  asset: string;
  /** > 0, at most 8 decimals */
  amount: Decimal;
}

/** The rates a reservation is computed with, fractions of the notional. */
export interface ReservationRates {
  makerFeeRate: string;
  takerFeeRate: string;
  /** a short's initial margin */
  initialMarginRate: string;
}

/** The highest price a resting order may fill at: its limit, or its stop plus the bound. */
function worstPrice(spec: OrderSpec): Decimal {
  if (spec.price) return spec.price;
  if (!spec.stopPrice) throw new Error('a resting order has a limit or a stop price');
  return spec.stopPrice.times(new Decimal(1).plus(STOP_RESERVE_BOUND));
}

/**
 * What placing a resting order reserves (SPEC C14): a buy its notional at the worst price plus the
 * fee at the higher of the maker and taker rates (quote asset); a sell its base quantity; a short its
 * initial margin and fee at the worst price; a close_short the buy-back and fee at the worst price.
 * Each product is rounded half-up to 8 decimals, as a fill rounds it, so a fill at the worst price
 * spends exactly the reservation.
 */
export function reservationOf(
  side: OrderSide,
  spec: OrderSpec,
  quantity: Decimal,
  assets: { baseAsset: string; quoteAsset: string },
  rates: ReservationRates,
): Reservation {
  if (side === 'sell') return { asset: assets.baseAsset, amount: quantity };
  const exact = worstPrice(spec).times(quantity);
  const feeRate = Decimal.max(rates.makerFeeRate, rates.takerFeeRate);
  const fee = roundAmount(exact.times(feeRate));
  const principal = side === 'short' ? roundAmount(exact.times(rates.initialMarginRate)) : roundAmount(exact);
  return { asset: assets.quoteAsset, amount: principal.plus(fee) };
}

/** The larger of two reservations of one asset (an OCO reserves once, for its dearer leg). */
export function largerReservation(a: Reservation, b: Reservation): Reservation {
  return a.amount.gte(b.amount) ? a : b;
}

/** The posting that moves a reservation from the wallet's free balance into its order reserve. */
export function reservePosting(walletId: string, reservation: Reservation): Posting {
  return {
    source: available(walletId),
    destination: orderReserve(walletId),
    asset: reservation.asset,
    amount: reservation.amount,
  };
}

/** The posting that gives a reservation back to the wallet's free balance. */
export function releasePosting(walletId: string, reservation: Reservation): Posting {
  return {
    source: orderReserve(walletId),
    destination: available(walletId),
    asset: reservation.asset,
    amount: reservation.amount,
  };
}
