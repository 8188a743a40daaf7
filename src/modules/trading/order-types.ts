import { Decimal } from '../../shared/decimal.js';
import type { Quote } from '../market/index.js';
import type { OrderSide } from './fills.js';
import type { ORDER_TYPES, TIME_IN_FORCES } from './tables.js';

export type OrderType = (typeof ORDER_TYPES)[number];
export type TimeInForce = (typeof TIME_IN_FORCES)[number];

/** The types that carry a limit price (`price`). */
const LIMIT_TYPES: readonly OrderType[] = ['limit', 'limit_maker', 'stop_loss_limit', 'take_profit_limit'];
/** The types that wait for a trigger (`stop_price`). */
const STOP_TYPES: readonly OrderType[] = ['stop_loss', 'stop_loss_limit', 'take_profit', 'take_profit_limit'];

/** True for the types with a limit price. */
export function hasLimitPrice(type: OrderType): boolean {
  return LIMIT_TYPES.includes(type);
}

/** True for the types with a trigger. */
export function hasStopPrice(type: OrderType): boolean {
  return STOP_TYPES.includes(type);
}

/** True for the types that take a time in force (Binance: LIMIT, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT). */
export function takesTimeInForce(type: OrderType): boolean {
  return type === 'limit' || type === 'stop_loss_limit' || type === 'take_profit_limit';
}

/** Whether a side buys the base (buy, close_short) or sells it (sell, short). */
export type Direction = 'buy' | 'sell';

export function directionOf(side: OrderSide): Direction {
  return side === 'buy' || side === 'close_short' ? 'buy' : 'sell';
}

/**
 * True when a limit price is marketable against the book: a buy when the ask ≤ its price, a sell
 * when the bid ≥ its price (a source without a book quotes bid = ask = last).
 */
export function crossesBook(side: OrderSide, price: Decimal, quote: Pick<Quote, 'bid' | 'ask'>): boolean {
  return directionOf(side) === 'buy' ? new Decimal(quote.ask).lte(price) : new Decimal(quote.bid).gte(price);
}

/**
 * True when a stop or take-profit order triggers at the last price (Binance's rule): a stop_loss
 * when the price moves against the position through its stop price (a sell at last ≤ stop, a buy at
 * last ≥ stop), a take_profit when it moves in its favour (a sell at last ≥ stop, a buy at last ≤ stop).
 */
export function triggersAt(type: OrderType, side: OrderSide, stopPrice: Decimal, last: Decimal): boolean {
  const stopLoss = type === 'stop_loss' || type === 'stop_loss_limit';
  const buys = directionOf(side) === 'buy';
  return stopLoss === buys ? last.gte(stopPrice) : last.lte(stopPrice);
}
