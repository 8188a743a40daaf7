import type { Db, Tx } from '../../platform/db/client.js';
import { violatedConstraint } from '../../platform/db/tx.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import { type FinalResponse, type IdempotencyScope, runIdempotent } from '../../platform/http/idempotency.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { Decimal, formatDecimal } from '../../shared/decimal.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { available, type Ledger, type Posting, system } from '../ledger/index.js';
import type { Quote } from '../market/quote.js';
import type { PriceService } from '../market/service.js';
import { requireWallet } from '../wallets/index.js';
import { OrderTooSmallError, UntradableSymbolError } from './errors.js';
import { type Fill, fillMarketOrder, fillPrice, type OrderSide } from './fills.js';
import { checkLotSize, checkNotional, roundDownToStep } from './filters.js';
import {
  findOrderByClientId,
  findOrderById,
  insertOrder,
  listUserOrders,
  type OrderFilter,
  type OrderRow,
} from './repository.js';
import { closeShort, type MarginRates, openShort, requireOpenShort } from './shorts.js';

export interface TradingDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  quoteAsset: string;
  /** fraction of the notional, e.g. "0.001" */
  takerFeeRate: string;
  margin: MarginRates;
}

/** An order as the order routes answer it; amounts are decimal strings. */
export interface OrderView {
  id: string;
  client_order_id: string | null;
  wallet_id: string;
  symbol: string;
  side: OrderSide;
  /** base asset */
  quantity: string;
  /** quote asset per unit of base */
  price: string;
  /** price × quantity, quote asset */
  notional: string;
  /** quote asset */
  fee: string;
  status: 'filled';
  /** the short position a `short` or `close_short` belongs to */
  position_id: string | null;
  /** close_short only: (entry − exit) × quantity − fees, quote asset */
  realized_pnl: string | null;
  /** true for a close_short the liquidation job made */
  liquidation: boolean;
  created_at: string;
}

export function toOrderView(order: OrderRow): OrderView {
  return {
    id: order.id,
    client_order_id: order.clientOrderId,
    wallet_id: order.walletId,
    symbol: order.symbol,
    side: order.side,
    quantity: formatDecimal(order.quantity),
    price: formatDecimal(order.price),
    notional: formatDecimal(order.notional),
    fee: formatDecimal(order.fee),
    status: order.status,
    position_id: order.positionId,
    realized_pnl: order.realizedPnl === null ? null : formatDecimal(order.realizedPnl),
    liquidation: order.liquidation,
    created_at: order.createdAt.toISOString(),
  };
}

/** A market order request: exactly one of `quantity` and `quoteAmount`. */
export interface PlaceOrderInput {
  /** undefined → the caller's default wallet */
  walletId: string | undefined;
  /** e.g. `BTCUSDT` or `BTC` */
  symbol: string;
  side: OrderSide;
  /** base asset, > 0, at most 8 decimals; must be a whole number of LOT_SIZE steps */
  quantity?: Decimal | undefined;
  /**
   * quote asset, > 0: a buy spends at most this much, fee included; the other sides trade the
   * quantity whose notional is at most this much (fee excluded). Rounded DOWN to the lot step.
   */
  quoteAmount?: Decimal | undefined;
  clientOrderId: string | undefined;
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

/** An order checked and priced, ready to be written. */
interface PricedOrder {
  userId: string;
  walletId: string;
  symbol: string;
  baseAsset: string;
  side: OrderSide;
  fill: Fill;
  clientOrderId: string | null;
}

/**
 * The market symbol of a client's symbol, and its base asset.
 * @throws {ValidationError}, {UntradableSymbolError} (422)
 */
export function tradableSymbol(
  prices: PriceService,
  quoteAsset: string,
  input: string,
): { symbol: string; baseAsset: string } {
  const symbol = prices.normalizeSymbol(input);
  if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
  const baseAsset = symbol.slice(0, -quoteAsset.length);
  if (!symbol.endsWith(quoteAsset) || baseAsset.length === 0) {
    throw new UntradableSymbolError(`only ${quoteAsset} pairs are tradable`, { symbol });
  }
  return { symbol, baseAsset };
}

/** The quantity a quote amount buys (fee included) or trades (fee excluded), rounded down to the lot step. */
function quantityOfQuoteAmount(
  side: OrderSide,
  quoteAmount: Decimal,
  quote: Quote,
  takerFeeRate: string,
  step: (q: Decimal) => Decimal,
): Decimal {
  const price = fillPrice(side, quote);
  if (side !== 'buy') return step(quoteAmount.div(price));
  let quantity = step(quoteAmount.div(price.times(new Decimal(1).plus(takerFeeRate))));
  // Notional and fee are each rounded half-up: step down until their sum fits the amount.
  for (;;) {
    const fill = fillMarketOrder(side, quantity, quote, takerFeeRate);
    if (fill.notional.plus(fill.fee).lte(quoteAmount) || quantity.lte(0)) return quantity;
    quantity = step(quantity.minus(quantity.div(1e6)));
  }
}

/**
 * Checks an order against its symbol's filters and prices it at the current quote (fetched
 * before any database transaction opens: no network wait while rows are locked).
 * @throws {ValidationError}, {UntradableSymbolError}, {FilterFailureError}, {OrderTooSmallError} (422)
 * @throws {NotFoundError} (404) the wallet is not the caller's; {UnknownSymbolError} (404)
 * @throws {PriceUnavailableError} (503)
 */
async function priceOrder(deps: TradingDeps, userId: string, input: PlaceOrderInput): Promise<PricedOrder> {
  const { symbol, baseAsset } = tradableSymbol(deps.prices, deps.quoteAsset, input.symbol);
  const wallet = await requireWallet(deps.db, userId, input.walletId);
  const [quote, info] = await Promise.all([
    deps.prices.getQuote(symbol, 'trade'),
    deps.prices.getSymbolInfo(symbol),
  ]);
  let quantity: Decimal;
  if (input.quantity) {
    quantity = input.quantity;
    checkLotSize(quantity, info);
  } else {
    quantity = quantityOfQuoteAmount(input.side, input.quoteAmount!, quote, deps.takerFeeRate, (q) =>
      roundDownToStep(q, info),
    );
    if (quantity.lte(0)) {
      throw new OrderTooSmallError('order too small: the quote amount buys less than one lot step', {
        quote_amount: input.quoteAmount!.toFixed(),
      });
    }
    checkLotSize(quantity, info);
  }
  const fill = fillMarketOrder(input.side, quantity, quote, deps.takerFeeRate);
  if (fill.notional.lte(0)) {
    throw new OrderTooSmallError('order too small: its notional rounds to 0 at 8 decimals', {
      quantity: formatDecimal(fill.quantity),
      price: formatDecimal(fill.price),
    });
  }
  // A close_short may always buy back a whole position, however small it has become.
  if (input.side !== 'close_short') checkNotional(fill.notional, info);
  return {
    userId,
    walletId: wallet.id,
    symbol,
    baseAsset,
    side: input.side,
    fill,
    clientOrderId: input.clientOrderId ?? null,
  };
}

/** Writes a priced order in `tx`: its journal, its position change (shorts), its order row. */
async function writeOrder(tx: Tx, deps: TradingDeps, order: PricedOrder): Promise<OrderRow> {
  const { fill, side } = order;
  const row = {
    userId: order.userId,
    walletId: order.walletId,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    baseAsset: order.baseAsset,
    quoteAsset: deps.quoteAsset,
    side,
    quantity: fill.quantity.toFixed(),
    price: fill.price.toFixed(),
    notional: fill.notional.toFixed(),
    fee: fill.fee.toFixed(),
    status: 'filled' as const,
  };
  if (side === 'buy' || side === 'sell') {
    const journal = await deps.ledger.post(tx, {
      kind: 'order_fill',
      postings: fillPostings(order.walletId, side, order.baseAsset, deps.quoteAsset, fill),
      metadata: { symbol: order.symbol, side },
    });
    return await insertOrder(tx, { ...row, journalId: journal.journalId });
  }
  const target = { ...order, quoteAsset: deps.quoteAsset };
  if (side === 'short') {
    const opened = await openShort(tx, deps.ledger, target, fill, deps.margin);
    return await insertOrder(tx, { ...row, positionId: opened.position.id, journalId: opened.journalId });
  }
  const position = await requireOpenShort(tx, order.walletId, order.symbol, fill.quantity);
  const closed = await closeShort(tx, deps.ledger, position, fill, false);
  return await insertOrder(tx, {
    ...row,
    positionId: position.id,
    realizedPnl: closed.realizedPnl.toFixed(),
    journalId: closed.journalId,
  });
}

/**
 * Places a market order and fills it at once: buy and close_short at the ask, sell and short at
 * the bid of a price no older than `PRICE_MAX_AGE_MS`, with the taker fee in the quote asset.
 * Binance's LOT_SIZE and NOTIONAL filters apply. The fill's journal, the position change and the
 * order row are written in one database transaction, once per idempotency key (`scope`). A repeated
 * `clientOrderId` answers the first order (200) and moves nothing.
 * @returns the answer: 201 with the order, 200 for a repeated client order id, a replayed answer
 * @throws {NotFoundError}, {UnknownSymbolError} (404); {ValidationError}, {UntradableSymbolError},
 *   {FilterFailureError}, {OrderTooSmallError} (422); {InsufficientFundsError},
 *   {InsufficientMarginError} (400); {NoOpenShortError} (409) — stored as the answer when the
 *   request has an idempotency key; {PriceUnavailableError} (503)
 */
export async function placeOrder(
  deps: TradingDeps,
  userId: string,
  input: PlaceOrderInput,
  scope?: IdempotencyScope,
): Promise<FinalResponse> {
  const repeated = async () => {
    const existing = input.clientOrderId
      ? await findOrderByClientId(deps.db, userId, input.clientOrderId)
      : undefined;
    return existing
      ? { status: 200, body: JSON.stringify(toOrderView(existing)), replayed: false }
      : undefined;
  };
  const first = await repeated();
  if (first) return first;
  const order = await priceOrder(deps, userId, input);
  try {
    return await runIdempotent(deps.db, scope, async (tx) => ({
      status: 201,
      body: toOrderView(await writeOrder(tx, deps, order)),
    }));
  } catch (error) {
    // Two requests with one client order id raced: the loser's transaction rolled back; answer the winner's order.
    if (violatedConstraint(error) === 'orders_user_client_order_id_key') {
      const winner = await repeated();
      if (winner) return winner;
    }
    throw error;
  }
}

/** Maximum orders per page. */
export const ORDER_PAGE_LIMIT_MAX = 100;

/**
 * The caller's orders, newest first, `limit` per page, optionally of one symbol and side.
 * @throws {ValidationError} (422) for a cursor this server did not issue
 */
export async function listOrders(
  deps: Pick<TradingDeps, 'db' | 'prices'>,
  userId: string,
  filter: OrderFilter,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: OrderView[]; next_cursor: string | null }> {
  const symbol = filter.symbol === undefined ? undefined : deps.prices.normalizeSymbol(filter.symbol);
  if (filter.symbol !== undefined && !symbol) return { items: [], next_cursor: null };
  const rows = await listUserOrders(
    deps.db,
    userId,
    { ...filter, symbol },
    limit + 1,
    decodeCursor('o', cursor),
  );
  const { page, nextCursor } = pageOf(rows, limit, 'o', (order) => order.journalId);
  return { items: page.map(toOrderView), next_cursor: nextCursor };
}

/**
 * An order the caller may read (their own; anyone's for an admin).
 * @throws {NotFoundError} (404) when it does not exist or the caller may not read it
 */
export async function getOrder(db: Db, viewer: Principal, orderId: string): Promise<OrderView> {
  const order = await findOrderById(db, orderId);
  if (!order || !mayRead(viewer, order.userId)) throw new NotFoundError(`order ${orderId} not found`);
  return toOrderView(order);
}
