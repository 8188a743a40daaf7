import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { MoneyCommand } from '../../platform/commands/runner.js';
import type { Tx } from '../../platform/db/client.js';
import { withSavepoint } from '../../platform/db/tx.js';
import { Decimal } from '../../shared/decimal.js';
import { ConflictError, DomainError, NotFoundError } from '../../shared/errors.js';
import type { Ledger, Posting } from '../ledger/index.js';
import { OrderNotOpenError, TooManyOpenOrdersError } from './errors.js';
import type { OrderSide, OrderSpec } from './fills.js';
import { checkCloseBelowMinQty } from './filters.js';
import {
  closeOrderList,
  countOpenOrders,
  endOrders,
  insertOrderList,
  lockOpenOrders,
  lockOrderList,
  lockWalletsForPlacement,
  setReplacedBy,
} from './open-orders.js';
import { findOrderById, insertOrder, type OrderRow } from './repository.js';
import { type Reservation, releasePosting, reservePosting } from './reservation.js';
import { orderValues, placeRestingBatch, type SimplePlacement } from './resting-batch.js';
import { requireOpenShort } from './shorts.js';
import { orders } from './tables.js';

/** Binance's MAX_NUM_ORDERS: open orders one wallet may have at once. */
export const OPEN_ORDERS_PER_WALLET_MAX = 200;

/** A resting order checked and priced, ready to be written. */
export interface NewRestingOrder {
  userId: string;
  walletId: string;
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  side: OrderSide;
  spec: OrderSpec;
  quantity: Decimal;
  clientOrderId: string | null;
  /** close_short only: the LOT_SIZE minQty its quantity is below (allowed if it closes the whole position) */
  belowMinQty?: Decimal | undefined;
}

/** What the resting-order command does with one item. */
export type RestingItem =
  /** one order, or an OCO's two legs, reserving `reservation` once */
  | { kind: 'place'; legs: NewRestingOrder[]; reservation: Reservation }
  /** an IOC or FOK limit that cannot fill at once: written expired, nothing reserved */
  | { kind: 'expire'; leg: NewRestingOrder }
  /** the caller's open order (with its OCO's other leg) */
  | { kind: 'cancel'; userId: string; orderId: string }
  /** the caller's open orders of a wallet on a symbol */
  | { kind: 'cancel_all'; userId: string; walletId: string; symbol: string }
  /** cancels the caller's open order and places `next` in its place, or neither */
  | { kind: 'replace'; userId: string; orderId: string; next: NewRestingOrder; reservation: Reservation };

/** The orders an item wrote: the placed ones (legs in order), the canceled ones, or [new, old]. */
export type RestingResult = OrderRow[];

/** Resting-order writes run in one database transaction at most. */
const RESTING_BATCH_SIZE_MAX = 128;
/** Resting-order writes waiting at most before new ones are refused with 503. */
const RESTING_QUEUE_LENGTH_MAX = 10_000;

/**
 * The money command of resting orders: placing one (its reservation moves from the wallet's free
 * balance to its `order_reserve` account, in a journal of its own), canceling (the reservation goes
 * back) and cancel-replace (both, atomically). One lane. A run of single buys, sells and shorts is
 * placed by one ledger batch and one insert (`placeRestingBatch`); every other item runs in a
 * savepoint of its own, so a refused one leaves nothing behind and the others of its batch go ahead.
 */
export class RestingOrderCommand implements MoneyCommand<RestingItem, RestingResult> {
  readonly name = 'resting_order';
  readonly limits = { batchSizeMax: RESTING_BATCH_SIZE_MAX, queueLengthMax: RESTING_QUEUE_LENGTH_MAX };

  constructor(private readonly ledger: Ledger) {}

  laneOf(): string {
    return 'resting';
  }

  async apply(tx: Tx, items: readonly RestingItem[]): Promise<(RestingResult | DomainError)[]> {
    const results: (RestingResult | DomainError)[] = [];
    let run: SimplePlacement[] = [];
    const flush = async () => {
      if (run.length === 0) return;
      const placed = await placeRestingBatch(tx, this.ledger, run);
      results.push(...placed.map((r) => (r instanceof DomainError ? r : [r])));
      run = [];
    };
    for (const item of items) {
      // Runs of single buys, sells and shorts are placed together; the rest one by one, in order.
      const leg = item.kind === 'place' && item.legs.length === 1 ? item.legs[0] : undefined;
      if (item.kind === 'place' && leg && leg.side !== 'close_short') {
        run.push({ leg, reservation: item.reservation, openOrdersMax: OPEN_ORDERS_PER_WALLET_MAX });
        continue;
      }
      await flush();
      results.push(
        await withSavepoint(tx, (sp) => this.applyOne(sp, item)).catch((error: unknown) => {
          if (error instanceof DomainError) return error;
          throw error;
        }),
      );
    }
    await flush();
    return results;
  }

  private async applyOne(tx: Tx, item: RestingItem): Promise<RestingResult> {
    switch (item.kind) {
      case 'place':
        return await placeResting(tx, this.ledger, item.legs, item.reservation);
      case 'expire': {
        // A close_short's row names the short it would have closed (orders_position_check), as a
        // resting one does: without an open short it is refused (409), not written.
        const { leg } = item;
        const positionId =
          leg.side === 'close_short'
            ? (await requireOpenShort(tx, leg.walletId, leg.symbol, leg.quantity)).id
            : null;
        return [await insertOrder(tx, { ...orderValues(leg), status: 'expired', positionId })];
      }
      case 'cancel': {
        const canceled = await endOpenOrders(tx, this.ledger, await this.ownOpenOrder(tx, item), 'canceled');
        // Open when read, but filled (or ended) by a matcher before its lock was ours: not open any more.
        if (canceled.length === 0) throw new OrderNotOpenError(`order ${item.orderId} is no longer open`);
        return canceled;
      }
      case 'cancel_all':
        return await endOpenOrders(
          tx,
          this.ledger,
          and(
            eq(orders.walletId, item.walletId),
            eq(orders.userId, item.userId),
            eq(orders.symbol, item.symbol),
          ),
          'canceled',
        );
      case 'replace': {
        const old = await this.ownOpenOrder(tx, item);
        const [locked] = await lockOpenOrders(tx, old);
        if (!locked) throw new OrderNotOpenError(`order ${item.orderId} is no longer open`);
        if (locked.orderListId) {
          throw new ConflictError('an OCO leg cannot be replaced: cancel the OCO and place a new one', {
            order_list_id: locked.orderListId,
          });
        }
        // Canceled first, so that a wallet at its open-order limit can still replace an order.
        await endOpenOrders(tx, this.ledger, old, 'canceled');
        const [placed] = await placeResting(tx, this.ledger, [item.next], item.reservation);
        if (!placed) throw new Error('a placed order comes back');
        return [placed, await setReplacedBy(tx, locked.id, placed.id)];
      }
    }
  }

  /**
   * The condition of the caller's open order `orderId`.
   * @throws {NotFoundError} (404) not the caller's or no such order; {OrderNotOpenError} (409) not open
   */
  private async ownOpenOrder(tx: Tx, item: { userId: string; orderId: string }): Promise<SQL | undefined> {
    const order = await findOrderById(tx, item.orderId);
    if (order?.userId !== item.userId) throw new NotFoundError(`order ${item.orderId} not found`);
    if (order.status !== 'new') {
      throw new OrderNotOpenError(
        `order ${item.orderId} is ${order.status}: only open orders can be changed`,
        {
          status: order.status,
        },
      );
    }
    return eq(orders.id, item.orderId);
  }
}

/**
 * Writes a resting order (or an OCO's legs): the reservation's journal, the OCO row, the order rows,
 * in `tx`. A close_short names the wallet's open short, locked first (as every short path does).
 * @throws {InsufficientFundsError} (400) when the free balance cannot cover the reservation;
 *   {NoOpenShortError} (409), {FilterFailureError} (422) for a close_short the open short does not
 *   allow; {TooManyOpenOrdersError} (409) beyond `OPEN_ORDERS_PER_WALLET_MAX`
 */
async function placeResting(
  tx: Tx,
  ledger: Ledger,
  legs: NewRestingOrder[],
  reservation: Reservation,
): Promise<OrderRow[]> {
  const [first] = legs;
  if (!first) throw new Error('an order has at least one leg');
  await lockWalletsForPlacement(tx, [first.walletId]);
  let positionId: string | null = null;
  if (first.side === 'close_short') {
    const position = await requireOpenShort(tx, first.walletId, first.symbol, first.quantity);
    if (first.belowMinQty)
      checkCloseBelowMinQty(first.quantity, new Decimal(position.quantity), first.symbol, first.belowMinQty);
    positionId = position.id;
  }
  await ledger.post(tx, {
    kind: 'order_reserve',
    postings: [reservePosting(first.walletId, reservation)],
    metadata: { symbol: first.symbol, side: first.side },
  });
  const list =
    legs.length > 1
      ? await insertOrderList(tx, {
          userId: first.userId,
          walletId: first.walletId,
          symbol: first.symbol,
          status: 'open',
          reserveAsset: reservation.asset,
          reserved: reservation.amount.toFixed(),
        })
      : undefined;
  const rows: OrderRow[] = [];
  for (const leg of legs) {
    rows.push(
      await insertOrder(tx, {
        ...orderValues(leg),
        // An OCO's client order id names its first leg.
        clientOrderId: rows.length === 0 ? leg.clientOrderId : null,
        status: 'new',
        reserveAsset: reservation.asset,
        reserved: list ? '0' : reservation.amount.toFixed(),
        orderListId: list?.id ?? null,
        positionId,
      }),
    );
  }
  // Counted after the insert, under the wallet's account locks the reservation took: two placements
  // on one wallet count one after the other.
  const open = await countOpenOrders(tx, first.walletId);
  if (open > OPEN_ORDERS_PER_WALLET_MAX) {
    throw new TooManyOpenOrdersError(
      `a wallet may have at most ${OPEN_ORDERS_PER_WALLET_MAX} open orders: cancel some first`,
      { open_orders_max: OPEN_ORDERS_PER_WALLET_MAX },
    );
  }
  return rows;
}

/**
 * The postings that give back what `ended` reserved: each order's own reservation, and once per OCO
 * the list's (the lists are locked here and marked done).
 */
export async function releaseOf(tx: Tx, ended: readonly OrderRow[]): Promise<Posting[]> {
  const postings: Posting[] = [];
  const lists = new Set<string>();
  for (const order of ended) {
    if (order.orderListId) {
      if (lists.has(order.orderListId)) continue;
      lists.add(order.orderListId);
      const list = await lockOrderList(tx, order.orderListId);
      if (list && list.status === 'open' && new Decimal(list.reserved).gt(0))
        postings.push(
          releasePosting(order.walletId, { asset: list.reserveAsset, amount: new Decimal(list.reserved) }),
        );
      await closeOrderList(tx, order.orderListId);
    } else if (order.reserveAsset && new Decimal(order.reserved).gt(0)) {
      postings.push(
        releasePosting(order.walletId, { asset: order.reserveAsset, amount: new Decimal(order.reserved) }),
      );
    }
  }
  return postings;
}

/**
 * Ends the open orders that match `where` (and the other legs of their OCOs) as `status`, giving
 * their reservations back in one journal, in `tx`.
 * @returns the ended orders (none when nothing matched)
 */
export async function endOpenOrders(
  tx: Tx,
  ledger: Ledger,
  where: SQL | undefined,
  status: 'canceled' | 'expired',
): Promise<OrderRow[]> {
  const found = await lockOpenOrders(tx, where);
  const listIds = [...new Set(found.flatMap((o) => (o.orderListId ? [o.orderListId] : [])))];
  const siblings =
    listIds.length > 0
      ? (await lockOpenOrders(tx, inArray(orders.orderListId, listIds))).filter(
          (o) => !found.some((f) => f.id === o.id),
        )
      : [];
  const all = [...found, ...siblings];
  if (all.length === 0) return [];
  const postings = await releaseOf(tx, all);
  if (postings.length > 0) {
    await ledger.post(tx, { kind: 'order_release', postings, metadata: { reason: status } });
  }
  return await endOrders(
    tx,
    all.map((o) => o.id),
    status,
  );
}
