import type { Db } from '../../platform/db/client.js';
import { violatedConstraint, withTransaction } from '../../platform/db/tx.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { type Decimal, formatDecimal } from '../../shared/decimal.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { available, type Ledger, type Posting, system } from '../ledger/index.js';
import type { PriceService } from '../market/service.js';
import { requireWallet } from '../wallets/index.js';
import { OrderTooSmallError, UntradableSymbolError } from './errors.js';
import { type Fill, fillMarketOrder, type OrderSide } from './fills.js';
import {
  findOrderByClientId,
  findOrderById,
  insertOrder,
  listUserOrders,
  type OrderRow,
} from './repository.js';

export interface TradingDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  quoteAsset: string;
  /** fraction of the notional, e.g. "0.001" */
  takerFeeRate: string;
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
    created_at: order.createdAt.toISOString(),
  };
}

/** A market order request. */
export interface PlaceOrderInput {
  /** undefined → the caller's default wallet */
  walletId: string | undefined;
  /** e.g. `BTCUSDT` or `BTC` */
  symbol: string;
  side: OrderSide;
  /** base asset, > 0, at most 8 decimals */
  quantity: Decimal;
  clientOrderId: string | undefined;
}

/**
 * The ledger postings of a fill, credits before debits. A buy: base from the exchange to the
 * wallet, notional and fee in quote from the wallet to the exchange and fee accounts. A sell: base
 * from the wallet to the exchange, notional from the exchange to the wallet, fee to the fee account.
 */
export function fillPostings(
  walletId: string,
  side: OrderSide,
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

/**
 * Places a market order and fills it at once: a buy at the ask, a sell at the bid of a price no
 * older than `PRICE_MAX_AGE_MS`, with the taker fee in the quote asset. The fill's journal and the
 * order row are written in one database transaction. A repeated `clientOrderId` returns the first
 * order and moves nothing.
 * @returns the order, and whether it was created now (false for a repeated client order id)
 * @throws {NotFoundError} (404) the wallet is not the caller's
 * @throws {UntradableSymbolError} (422) the symbol is not quoted in the cash asset
 * @throws {OrderTooSmallError} (422) the notional rounds to zero
 * @throws {InsufficientFundsError} (400) not enough quote (buy) or base (sell) available
 * @throws {UnknownSymbolError} (404), {PriceUnavailableError} (503) from the price service
 */
export async function placeOrder(
  deps: TradingDeps,
  userId: string,
  input: PlaceOrderInput,
): Promise<{ order: OrderView; created: boolean }> {
  if (input.clientOrderId) {
    const existing = await findOrderByClientId(deps.db, userId, input.clientOrderId);
    if (existing) return { order: toOrderView(existing), created: false };
  }
  const symbol = deps.prices.normalizeSymbol(input.symbol);
  if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
  const baseAsset = symbol.slice(0, -deps.quoteAsset.length);
  if (!symbol.endsWith(deps.quoteAsset) || baseAsset.length === 0) {
    throw new UntradableSymbolError(`only ${deps.quoteAsset} pairs are tradable`, { symbol });
  }
  const wallet = await requireWallet(deps.db, userId, input.walletId);
  // The price is fetched before the database transaction opens: no network wait while rows are locked.
  const quote = await deps.prices.getQuote(symbol, 'trade');
  const fill = fillMarketOrder(input.side, input.quantity, quote, deps.takerFeeRate);
  if (fill.notional.lte(0)) {
    throw new OrderTooSmallError('order too small: its notional rounds to 0 at 8 decimals', {
      quantity: formatDecimal(fill.quantity),
      price: formatDecimal(fill.price),
    });
  }

  try {
    const order = await withTransaction(deps.db, async (tx) => {
      const journal = await deps.ledger.post(tx, {
        kind: 'order_fill',
        postings: fillPostings(wallet.id, input.side, baseAsset, deps.quoteAsset, fill),
        metadata: { symbol, side: input.side },
      });
      return await insertOrder(tx, {
        userId,
        walletId: wallet.id,
        clientOrderId: input.clientOrderId ?? null,
        symbol,
        baseAsset,
        quoteAsset: deps.quoteAsset,
        side: input.side,
        quantity: fill.quantity.toFixed(),
        price: fill.price.toFixed(),
        notional: fill.notional.toFixed(),
        fee: fill.fee.toFixed(),
        status: 'filled',
        journalId: journal.journalId,
      });
    });
    return { order: toOrderView(order), created: true };
  } catch (error) {
    // Two requests with one client order id raced: the loser's transaction rolled back; answer the winner's order.
    if (input.clientOrderId && violatedConstraint(error) === 'orders_user_client_order_id_key') {
      const existing = await findOrderByClientId(deps.db, userId, input.clientOrderId);
      if (existing) return { order: toOrderView(existing), created: false };
    }
    throw error;
  }
}

/** Maximum orders per page. */
export const ORDER_PAGE_LIMIT_MAX = 100;

/**
 * The caller's orders, newest first, `limit` per page. The cursor is opaque to clients.
 * @throws {ValidationError} (422) for a cursor this server did not issue
 */
export async function listOrders(
  db: Db,
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: OrderView[]; next_cursor: string | null }> {
  const rows = await listUserOrders(db, userId, limit + 1, decodeCursor('o', cursor));
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
