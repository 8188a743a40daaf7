import { Decimal, roundAmount } from '../../shared/decimal.js';
import type { Quote } from '../market/quote.js';

export type OrderSide = 'buy' | 'sell';

/** A market order's fill: prices and amounts in the quote asset, quantity in the base asset. */
export interface Fill {
  price: Decimal;
  quantity: Decimal;
  /** price × quantity, rounded half-up once to 8 decimals */
  notional: Decimal;
  /** notional × taker fee rate, rounded half-up once to 8 decimals */
  fee: Decimal;
}

/**
 * Fills a market order against a quote: a buy at the ask, a sell at the bid. Pure: no I/O, no clock.
 * notional and fee are exact products, rounded half-up to the ledger's 8 decimals only at the end
 * (SPEC §3 "Amounts"); the fee is charged on the notional in the quote asset.
 */
export function fillMarketOrder(
  side: OrderSide,
  quantity: Decimal,
  quote: Quote,
  takerFeeRate: string,
): Fill {
  const price = new Decimal(side === 'buy' ? quote.ask : quote.bid);
  const exactNotional = price.times(quantity);
  const notional = roundAmount(exactNotional);
  const fee = roundAmount(exactNotional.times(takerFeeRate));
  return { price, quantity, notional, fee };
}
