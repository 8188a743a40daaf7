import type { FinalResponse, IdempotencyScope } from '../../platform/commands/idempotency.js';
import type { Answered, CommandRunner, Rendering } from '../../platform/commands/runner.js';
import type { Db } from '../../platform/db/client.js';
import { violatedConstraint } from '../../platform/db/tx.js';
import type { AccountEventSink } from '../../platform/events/bus.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import { defined } from '../../shared/assert.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { Decimal } from '../../shared/decimal.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { Ledger } from '../ledger/index.js';
import type { PriceService, Quote } from '../market/index.js';
import { OrderTooSmallError } from './errors.js';
import { fillMarketOrder, fillPrice, MARKET_SPEC, type OrderSide, type PricedOrder } from './fills.js';
import { checkFillSize, checkLotSize, roundDownToStep } from './filters.js';
import type { OrderCommand } from './order-command.js';
import type { OrderType, TimeInForce } from './order-types.js';
import {
  findOrderByClientId,
  findOrderById,
  listUserOrders,
  type OrderFilter,
  type OrderRow,
} from './repository.js';
import { placeRestingOrder } from './resting.js';
import type { RestingOrderCommand } from './resting-command.js';
import type { MarginRates } from './shorts.js';
import { tradableSymbol } from './symbols.js';
import { type OrderView, toOrderView } from './views.js';

export interface TradingDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  quoteAsset: string;
  /** fraction of the notional, e.g. "0.001" */
  takerFeeRate: string;
  /** fee of a resting order's fill at its own limit price, fraction of the notional */
  makerFeeRate: string;
  margin: MarginRates;
  /** where every money movement runs */
  runner: CommandRunner;
  /** the order command (its wallet cache is the process's) */
  orders: OrderCommand;
  /** the resting-order command: placements with their reservations, cancels, replaces */
  resting: RestingOrderCommand;
  /** where each filled order is announced (`order.filled` on its owner's account stream) */
  accountEvents?: AccountEventSink;
}

/** An order request: exactly one of `quantity` and `quoteAmount` (market orders only). */
export interface PlaceOrderInput {
  /** market unless said; the other types need `quantity` and their prices */
  type?: OrderType | undefined;
  /** limit price of the limit types, quote asset */
  price?: Decimal | undefined;
  /** trigger of the stop and take-profit types (last price) */
  stopPrice?: Decimal | undefined;
  timeInForce?: TimeInForce | undefined;
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
 * @throws {ValidationError}, {UntradableSymbolError}, {FilterFailureError}, {OrderTooSmallError},
 *   {BalanceLimitError} (422)
 * @throws {NotFoundError} (404) the wallet is not the caller's; {UnknownSymbolError} (404)
 * @throws {PriceUnavailableError} (503)
 */
async function priceOrder(deps: TradingDeps, userId: string, input: PlaceOrderInput): Promise<PricedOrder> {
  const { symbol, baseAsset } = tradableSymbol(deps.prices, deps.quoteAsset, input.symbol);
  const walletId = await deps.orders.resolveWallet(deps.db, userId, input.walletId);
  const [quote, info] = await Promise.all([
    deps.prices.getQuote(symbol, 'trade'),
    deps.prices.getSymbolInfo(symbol),
  ]);
  let quantity: Decimal;
  if (input.quantity) {
    quantity = input.quantity;
  } else {
    quantity = quantityOfQuoteAmount(input.side, defined(input.quoteAmount), quote, deps.takerFeeRate, (q) =>
      roundDownToStep(q, info),
    );
    if (quantity.lte(0)) {
      throw new OrderTooSmallError('order too small: the quote amount buys less than one lot step', {
        quote_amount: defined(input.quoteAmount).toFixed(),
      });
    }
  }
  // A close_short may buy back a whole position below minQty: checked against the position later.
  const belowMinQty = checkLotSize(quantity, info, input.side === 'close_short');
  const fill = fillMarketOrder(input.side, quantity, quote, deps.takerFeeRate);
  checkFillSize(input.side, fill, info);
  return {
    userId,
    walletId,
    symbol,
    baseAsset,
    side: input.side,
    fill,
    clientOrderId: input.clientOrderId ?? null,
    spec: MARKET_SPEC,
    belowMinQty,
  };
}

/**
 * Places a market order and fills it at once: buy and close_short at the ask, sell and short at
 * the bid of a price no older than `PRICE_MAX_AGE_MS`, with the taker fee in the quote asset.
 * Binance's LOT_SIZE and NOTIONAL filters apply. The fill's journal, the position change and the
 * order row are written in one database transaction by the order command, once per idempotency key
 * (`scope`). A repeated `clientOrderId` answers the first order (200) and moves nothing. A filled
 * order is announced as `order.filled` on its owner's account stream.
 * @param rendering how the filled order is answered (201) and stored for replays
 * @returns the answer (201, 200 for a repeated client order id, a replayed or stored answer) and
 *   the order when it was filled now
 * @throws {NotFoundError}, {UnknownSymbolError} (404); {ValidationError}, {UntradableSymbolError},
 *   {FilterFailureError}, {OrderTooSmallError}, {BalanceLimitError} (422); {InsufficientFundsError},
 *   {InsufficientMarginError} (400); {NoOpenShortError} (409) — stored as the answer when the
 *   request has an idempotency key; {PriceUnavailableError}, {TransactionContentionError},
 *   {CommitOutcomeUnknownError} (503)
 */
export async function placeOrder(
  deps: TradingDeps,
  userId: string,
  input: PlaceOrderInput,
  scope: IdempotencyScope | undefined,
  rendering: Rendering<OrderRow>,
): Promise<Answered<OrderRow>> {
  const repeated = async (): Promise<FinalResponse | undefined> => {
    const existing = input.clientOrderId
      ? await findOrderByClientId(deps.db, userId, input.clientOrderId)
      : undefined;
    if (!existing) return undefined;
    return { status: 200, body: JSON.stringify(rendering.render(existing).body), replayed: false };
  };
  const first = (await deps.runner.storedAnswer(scope)) ?? (await repeated());
  if (first) return { response: first };
  try {
    const { type } = input;
    if (type !== undefined && type !== 'market') {
      if (!input.quantity) throw new ValidationError(`a ${type} order needs quantity`);
      return await placeRestingOrder(
        deps,
        userId,
        { ...input, type, quantity: input.quantity },
        scope,
        rendering,
      );
    }
    const order = await priceOrder(deps, userId, input);
    const answered = await deps.runner.execute(deps.orders, order, { scope, ...rendering });
    // Announced once, when it was filled now (not for a replay or a repeated client order id).
    if (answered.result) deps.accountEvents?.(userId, 'order.filled', toOrderView(answered.result));
    return answered;
  } catch (error) {
    // Two requests with one client order id raced: the loser's insert failed; answer the winner's order.
    const winner =
      violatedConstraint(error) === 'orders_user_client_order_id_key' ? await repeated() : undefined;
    if (!winner) throw error;
    return { response: winner };
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
  const { page, nextCursor } = pageOf(rows, limit, 'o', (order) => order.seq);
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
