import { Decimal, roundAmount } from '../../shared/decimal.js';
import type { Quote } from '../market/quote.js';

/** The four market order sides: `short` sells base not held, `close_short` buys it back. */
export const ORDER_SIDES = ['buy', 'sell', 'short', 'close_short'] as const;
export type OrderSide = (typeof ORDER_SIDES)[number];

/** A market order's fill: prices and amounts in the quote asset, quantity in the base asset. */
export interface Fill {
  price: Decimal;
  quantity: Decimal;
  /** price × quantity, rounded half-up once to 8 decimals */
  notional: Decimal;
  /** notional × taker fee rate, rounded half-up once to 8 decimals */
  fee: Decimal;
}

/** The price a side fills at: what the buyer pays (ask) or what the seller gets (bid). */
export function fillPrice(side: OrderSide, quote: Pick<Quote, 'bid' | 'ask'>): Decimal {
  return new Decimal(side === 'buy' || side === 'close_short' ? quote.ask : quote.bid);
}

/**
 * Fills a market order against a quote: buy and close_short at the ask, sell and short at the bid
 * (a source without a book quotes bid = ask = last). Pure: no I/O, no clock. notional and fee are
 * exact products, rounded half-up to the ledger's 8 decimals only at the end (SPEC §3 "Amounts");
 * the fee is charged on the notional in the quote asset.
 */
export function fillMarketOrder(
  side: OrderSide,
  quantity: Decimal,
  quote: Pick<Quote, 'bid' | 'ask'>,
  takerFeeRate: string,
): Fill {
  const price = fillPrice(side, quote);
  const exactNotional = price.times(quantity);
  const notional = roundAmount(exactNotional);
  const fee = roundAmount(exactNotional.times(takerFeeRate));
  return { price, quantity, notional, fee };
}
