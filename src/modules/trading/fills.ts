import { Decimal, roundAmount } from '../../shared/decimal.js';
import { available, type Posting, system } from '../ledger/index.js';
import type { Quote } from '../market/index.js';
import type { OrderType, TimeInForce } from './order-types.js';

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
  return fillAt(fillPrice(side, quote), quantity, takerFeeRate);
}

/**
 * A fill of `quantity` at `price` with the fee at `feeRate` (a resting order's maker fill at its own
 * limit price, or a market fill at the book): notional and fee are exact products rounded half-up
 * to 8 decimals once.
 */
export function fillAt(price: Decimal, quantity: Decimal, feeRate: string): Fill {
  const exactNotional = price.times(quantity);
  return {
    price,
    quantity,
    notional: roundAmount(exactNotional),
    fee: roundAmount(exactNotional.times(feeRate)),
  };
}

/**
 * The ledger postings of a buy or sell fill, credits before debits. A buy: base from the exchange to
 * the wallet, notional and fee in quote from the wallet to the exchange and fee accounts. A sell:
 * base from the wallet to the exchange, notional from the exchange to the wallet, fee to the fee account.
 */
export function fillPostings(
  walletId: string,
  side: 'buy' | 'sell',
  baseAsset: string,
  quoteAsset: string,
  fill: Fill,
): Posting[] {
  const wallet = available(walletId);
  const exchange = system('exchange');
  const postings: Posting[] =
    side === 'buy'
      ? [
          { source: exchange, destination: wallet, asset: baseAsset, amount: fill.quantity },
          { source: wallet, destination: exchange, asset: quoteAsset, amount: fill.notional },
        ]
      : [
          { source: wallet, destination: exchange, asset: baseAsset, amount: fill.quantity },
          { source: exchange, destination: wallet, asset: quoteAsset, amount: fill.notional },
        ];
  if (fill.fee.gt(0))
    postings.push({ source: wallet, destination: system('fees'), asset: quoteAsset, amount: fill.fee });
  return postings;
}

/** What an order is besides its side and quantity: its type, its prices and its time in force. */
export interface OrderSpec {
  type: OrderType;
  /** the limit types that take one: gtc, ioc or fok; null otherwise */
  timeInForce: TimeInForce | null;
  /** limit price, quote asset; null for the market types */
  price: Decimal | null;
  /** trigger (last price); null but for the stop and take-profit types */
  stopPrice: Decimal | null;
}

/** A market order's spec. */
export const MARKET_SPEC: OrderSpec = { type: 'market', timeInForce: null, price: null, stopPrice: null };

/** An order checked and priced, ready to be written. */
export interface PricedOrder {
  userId: string;
  walletId: string;
  symbol: string;
  baseAsset: string;
  side: OrderSide;
  fill: Fill;
  clientOrderId: string | null;
  /** market unless a marketable limit order fills at once, as a taker */
  spec: OrderSpec;
  /** close_short only: the LOT_SIZE minQty its quantity is below (allowed if it closes the whole position) */
  belowMinQty?: Decimal | undefined;
}

/** The order row of a priced order, before its journal and position are known. */
export function orderRowOf(order: PricedOrder, quoteAsset: string) {
  const { fill } = order;
  return {
    userId: order.userId,
    walletId: order.walletId,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    baseAsset: order.baseAsset,
    quoteAsset,
    side: order.side,
    type: order.spec.type,
    timeInForce: order.spec.timeInForce,
    price: order.spec.price?.toFixed() ?? null,
    stopPrice: order.spec.stopPrice?.toFixed() ?? null,
    quantity: fill.quantity.toFixed(),
    avgFillPrice: fill.price.toFixed(),
    notional: fill.notional.toFixed(),
    fee: fill.fee.toFixed(),
    liquidity: 'taker' as const,
    status: 'filled' as const,
  };
}
