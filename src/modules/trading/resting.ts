import type { IdempotencyScope } from '../../platform/commands/idempotency.js';
import type { Answered, Rendering } from '../../platform/commands/runner.js';
import type { AccountEventName } from '../../platform/events/bus.js';
import { defined } from '../../shared/assert.js';
import { Decimal, formatDecimal } from '../../shared/decimal.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { Quote } from '../market/index.js';
import { OrderNotOpenError, WouldMatchImmediatelyError, WouldTriggerImmediatelyError } from './errors.js';
import { fillAt, fillMarketOrder, type OrderSide, type OrderSpec, type PricedOrder } from './fills.js';
import { checkFillSize, checkLotSize, checkPriceFilter } from './filters.js';
import {
  crossesBook,
  hasLimitPrice,
  hasStopPrice,
  type OrderType,
  type TimeInForce,
  takesTimeInForce,
  triggersAt,
} from './order-types.js';
import { findOrderById, type OrderRow } from './repository.js';
import { largerReservation, type Reservation, reservationOf } from './reservation.js';
import type { NewRestingOrder, RestingItem } from './resting-command.js';
import type { TradingDeps } from './service.js';
import { tradableSymbol } from './symbols.js';
import { toOrderView } from './views.js';

/** An order of a type other than market, as the client gave it. */
export interface RestingInput {
  walletId: string | undefined;
  symbol: string;
  side: OrderSide;
  type: Exclude<OrderType, 'market'>;
  quantity: Decimal;
  price?: Decimal | undefined;
  stopPrice?: Decimal | undefined;
  timeInForce?: TimeInForce | undefined;
  clientOrderId: string | undefined;
}

/** A resting order checked against its symbol's filters and the current quote. */
interface Checked {
  leg: NewRestingOrder;
  quote: Quote;
  /** a limit whose price the book already reached */
  marketable: boolean;
}

/**
 * Checks an order's prices and quantity against the symbol's filters (PRICE_FILTER on price and
 * stop_price, LOT_SIZE, NOTIONAL at the limit or stop price) and its trigger against the last price.
 * @throws {ValidationError}, {UntradableSymbolError}, {FilterFailureError}, {OrderTooSmallError},
 *   {BalanceLimitError}, {WouldTriggerImmediatelyError} (422); {NotFoundError}, {UnknownSymbolError}
 *   (404); {PriceUnavailableError} (503)
 */
async function checkResting(deps: TradingDeps, userId: string, input: RestingInput): Promise<Checked> {
  const { symbol, baseAsset } = tradableSymbol(deps.prices, deps.quoteAsset, input.symbol);
  const walletId = await deps.orders.resolveWallet(deps.db, userId, input.walletId);
  const [quote, info] = await Promise.all([
    deps.prices.getQuote(symbol, 'trade'),
    deps.prices.getSymbolInfo(symbol),
  ]);
  const spec: OrderSpec = {
    type: input.type,
    timeInForce: takesTimeInForce(input.type) ? (input.timeInForce ?? 'gtc') : null,
    price: hasLimitPrice(input.type) ? defined(input.price) : null,
    stopPrice: hasStopPrice(input.type) ? defined(input.stopPrice) : null,
  };
  if (spec.price) checkPriceFilter(spec.price, info, 'price');
  if (spec.stopPrice) checkPriceFilter(spec.stopPrice, info, 'stop_price');
  const belowMinQty = checkLotSize(input.quantity, info, input.side === 'close_short');
  // The size rules at the order's own price: what a fill there would be.
  checkFillSize(
    input.side,
    fillAt(defined(spec.price ?? spec.stopPrice), input.quantity, deps.takerFeeRate),
    info,
  );
  if (spec.stopPrice && triggersAt(spec.type, input.side, spec.stopPrice, new Decimal(quote.last))) {
    throw new WouldTriggerImmediatelyError(
      `stop price would trigger immediately: the last price ${formatDecimal(quote.last)} has reached stop_price ${formatDecimal(spec.stopPrice)}`,
      { last: formatDecimal(quote.last), stop_price: formatDecimal(spec.stopPrice) },
    );
  }
  const leg: NewRestingOrder = {
    userId,
    walletId,
    symbol,
    baseAsset,
    quoteAsset: deps.quoteAsset,
    side: input.side,
    spec,
    quantity: input.quantity,
    clientOrderId: input.clientOrderId ?? null,
    belowMinQty,
  };
  const marketable = !spec.stopPrice && spec.price !== null && crossesBook(input.side, spec.price, quote);
  return { leg, quote, marketable };
}

/** What a leg reserves at the process's rates. */
function reservationOfLeg(deps: TradingDeps, leg: NewRestingOrder): Reservation {
  return reservationOf(leg.side, leg.spec, leg.quantity, leg, {
    makerFeeRate: deps.makerFeeRate,
    takerFeeRate: deps.takerFeeRate,
    initialMarginRate: deps.margin.initial,
  });
}

/** The event that announces an order written in a status. */
const EVENT_OF_STATUS = {
  new: 'order.accepted',
  filled: 'order.filled',
  canceled: 'order.canceled',
  expired: 'order.expired',
  rejected: 'order.rejected',
} as const satisfies Record<OrderRow['status'], AccountEventName>;

/** Runs a resting-order item for a client request, announcing what it wrote. */
async function executeResting(
  deps: TradingDeps,
  item: RestingItem,
  scope: IdempotencyScope | undefined,
  rendering: Rendering<OrderRow[]>,
): Promise<Answered<OrderRow[]>> {
  const answered = await deps.runner.execute(deps.resting, item, { scope, ...rendering });
  for (const order of answered.result ?? [])
    deps.accountEvents?.(order.userId, EVENT_OF_STATUS[order.status], toOrderView(order));
  return answered;
}

/**
 * Places an order of a resting type (SPEC C14). A limit the book already crosses fills at once at
 * the book with the taker fee, as a market order (a limit_maker is refused instead); an IOC or FOK
 * limit that cannot fill at once is written `expired` and moves nothing; any other order rests, what
 * it may spend reserved in the wallet's `order_reserve` account, announced as `order.accepted`.
 * @returns the answer (201) and the order written now
 * @throws as `checkResting`; {WouldMatchImmediatelyError} (422); {InsufficientFundsError} (400);
 *   {TooManyOpenOrdersError}, {NoOpenShortError} (409); {TransactionContentionError} (503)
 */
export async function placeRestingOrder(
  deps: TradingDeps,
  userId: string,
  input: RestingInput,
  scope: IdempotencyScope | undefined,
  rendering: Rendering<OrderRow>,
): Promise<Answered<OrderRow>> {
  const { leg, quote, marketable } = await checkResting(deps, userId, input);
  if (marketable) {
    if (leg.spec.type === 'limit_maker') {
      throw new WouldMatchImmediatelyError(
        'Order would immediately match and take: a limit_maker must rest',
        {
          price: formatDecimal(defined(leg.spec.price)),
          bid: formatDecimal(quote.bid),
          ask: formatDecimal(quote.ask),
        },
      );
    }
    const fill = fillMarketOrder(leg.side, leg.quantity, quote, deps.takerFeeRate);
    const order: PricedOrder = {
      ...leg,
      fill,
      clientOrderId: leg.clientOrderId,
      belowMinQty: leg.belowMinQty,
    };
    const answered = await deps.runner.execute(deps.orders, order, { scope, ...rendering });
    if (answered.result) deps.accountEvents?.(userId, 'order.filled', toOrderView(answered.result));
    return answered;
  }
  const single = (rows: OrderRow[]) => rendering.render(defined(rows[0]));
  const renderRows = {
    render: single,
    ...(rendering.renderError ? { renderError: rendering.renderError } : {}),
  };
  // A plain limit's IOC/FOK applies now; a stop-limit's when its trigger fires (the matcher's).
  const immediate = !leg.spec.stopPrice && (leg.spec.timeInForce === 'ioc' || leg.spec.timeInForce === 'fok');
  const item: RestingItem = immediate
    ? { kind: 'expire', leg }
    : { kind: 'place', legs: [leg], reservation: reservationOfLeg(deps, leg) };
  const answered = await executeResting(deps, item, scope, renderRows);
  return { response: answered.response, ...(answered.result ? { result: defined(answered.result[0]) } : {}) };
}

/** An OCO as the client gave it. */
export interface OcoInput {
  walletId: string | undefined;
  symbol: string;
  side: OrderSide;
  quantity: Decimal;
  price: Decimal;
  stopPrice: Decimal;
  stopLimitPrice?: Decimal | undefined;
  timeInForce?: TimeInForce | undefined;
  clientOrderId: string | undefined;
}

/**
 * Places an OCO (Binance's order list): a limit_maker leg at `price` and a stop leg at `stop_price`
 * (a stop_loss_limit at `stop_limit_price` when given, else a stop_loss) on one quantity, reserving
 * once what the dearer leg may spend. One filling or triggering cancels the other.
 * @returns the answer (201) and the two legs written now
 * @throws as `placeRestingOrder`
 */
export async function placeOco(
  deps: TradingDeps,
  userId: string,
  input: OcoInput,
  scope: IdempotencyScope | undefined,
  rendering: Rendering<OrderRow[]>,
): Promise<Answered<OrderRow[]>> {
  const base = { ...input, clientOrderId: input.clientOrderId };
  const limitLeg = await checkResting(deps, userId, { ...base, type: 'limit_maker', stopPrice: undefined });
  if (limitLeg.marketable) {
    throw new WouldMatchImmediatelyError('the OCO’s limit leg would immediately match and take', {
      price: formatDecimal(input.price),
    });
  }
  const stopLeg = await checkResting(deps, userId, {
    ...base,
    clientOrderId: undefined,
    type: input.stopLimitPrice ? 'stop_loss_limit' : 'stop_loss',
    price: input.stopLimitPrice,
  });
  const reservation = largerReservation(
    reservationOfLeg(deps, limitLeg.leg),
    reservationOfLeg(deps, stopLeg.leg),
  );
  return await executeResting(
    deps,
    { kind: 'place', legs: [limitLeg.leg, stopLeg.leg], reservation },
    scope,
    rendering,
  );
}

/**
 * Cancels one of the caller's open orders (an OCO leg cancels its list), its reservation given back.
 * @returns the canceled orders, the one asked for first
 * @throws {NotFoundError} (404) not the caller's; {OrderNotOpenError} (409) no longer open
 */
export async function cancelOrder(deps: TradingDeps, userId: string, orderId: string): Promise<OrderRow[]> {
  const canceled = await deps.runner.submit(deps.resting, { kind: 'cancel', userId, orderId });
  announce(deps, canceled, 'order.canceled');
  return canceled.sort((a, b) => (a.id === orderId ? -1 : b.id === orderId ? 1 : 0));
}

/**
 * Cancels every open order of the caller's wallet on a symbol.
 * @returns the canceled orders (none when none was open)
 * @throws {NotFoundError} (404) for a wallet that is not the caller's
 */
export async function cancelAllOrders(
  deps: TradingDeps,
  userId: string,
  walletId: string | undefined,
  symbolInput: string,
): Promise<OrderRow[]> {
  const symbol = deps.prices.normalizeSymbol(symbolInput);
  if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
  const wallet = await deps.orders.resolveWallet(deps.db, userId, walletId);
  const canceled = await deps.runner.submit(deps.resting, {
    kind: 'cancel_all',
    userId,
    walletId: wallet,
    symbol,
  });
  announce(deps, canceled, 'order.canceled');
  return canceled;
}

/** What a cancel-replace changes. */
export interface ReplaceInput {
  price?: Decimal | undefined;
  stopPrice?: Decimal | undefined;
  quantity?: Decimal | undefined;
}

/**
 * Cancel-replace: the caller's open order is canceled and a new one of the same type and side, with
 * the changes, placed in its place (`replaced_by` on the old one) — both or neither. A replacement
 * the book already crosses is refused (cancel, then place a marketable order).
 * @returns the new order and the canceled one
 * @throws {NotFoundError} (404); {OrderNotOpenError}, {ConflictError} (409: an OCO leg);
 *   {ValidationError}, {WouldMatchImmediatelyError} (422) and what placing throws
 */
export async function replaceOrder(
  deps: TradingDeps,
  userId: string,
  orderId: string,
  changes: ReplaceInput,
): Promise<{ placed: OrderRow; canceled: OrderRow }> {
  const old = await findOrderById(deps.db, orderId);
  if (old?.userId !== userId) throw new NotFoundError(`order ${orderId} not found`);
  if (old.status !== 'new' || old.type === 'market') {
    throw new OrderNotOpenError(`order ${orderId} is ${old.status}: only open orders can be replaced`, {
      status: old.status,
    });
  }
  if (changes.price && !hasLimitPrice(old.type))
    throw new ValidationError(`a ${old.type} order has no price`);
  if (changes.stopPrice && !hasStopPrice(old.type))
    throw new ValidationError(`a ${old.type} order has no stop_price`);
  const { leg, marketable } = await checkResting(deps, userId, {
    walletId: old.walletId,
    symbol: old.symbol,
    side: old.side,
    type: old.type,
    quantity: changes.quantity ?? new Decimal(old.quantity),
    price: changes.price ?? (old.price === null ? undefined : new Decimal(old.price)),
    stopPrice: changes.stopPrice ?? (old.stopPrice === null ? undefined : new Decimal(old.stopPrice)),
    timeInForce: old.timeInForce ?? undefined,
    clientOrderId: undefined,
  });
  if (marketable) {
    throw new WouldMatchImmediatelyError(
      'the replacement would immediately match: cancel and place a new order',
    );
  }
  const [placed, canceled] = await deps.runner.submit(deps.resting, {
    kind: 'replace',
    userId,
    orderId,
    next: leg,
    reservation: reservationOfLeg(deps, leg),
  });
  announce(deps, [defined(canceled)], 'order.canceled');
  announce(deps, [defined(placed)], 'order.accepted');
  return { placed: defined(placed), canceled: defined(canceled) };
}

function announce(
  deps: TradingDeps,
  rows: readonly OrderRow[],
  event: 'order.canceled' | 'order.accepted',
): void {
  for (const order of rows) deps.accountEvents?.(order.userId, event, toOrderView(order));
}
