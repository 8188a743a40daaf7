import { randomUUID } from 'node:crypto';
import type { Tx } from '../../platform/db/client.js';
import { defined } from '../../shared/assert.js';
import type { DomainError } from '../../shared/errors.js';
import { isRefusal, type Ledger } from '../ledger/index.js';
import { TooManyOpenOrdersError } from './errors.js';
import { countOpenOrdersOf, lockWalletsForPlacement } from './open-orders.js';
import type { OrderRow } from './repository.js';
import { type Reservation, reservePosting } from './reservation.js';
import type { NewRestingOrder } from './resting-command.js';
import { orders } from './tables.js';

/** One resting order of a batch of placements: a buy, sell or short, not an OCO leg. */
export interface SimplePlacement {
  leg: NewRestingOrder;
  reservation: Reservation;
  /** the open orders a wallet may have */
  openOrdersMax: number;
}

/**
 * Places a run of single resting orders (buys, sells, shorts) in `tx` the way market orders are
 * filled: the wallets' placement locks, one count of their open orders, one ledger batch of the
 * reservations (each journal decided in order: a refused one moves nothing) and one insert of the
 * accepted orders — five statements however many orders. Each keeps its own decision, in order.
 * @returns per placement the order written, or why it was refused ({TooManyOpenOrdersError} 409,
 *   {InsufficientFundsError} 400)
 */
export async function placeRestingBatch(
  tx: Tx,
  ledger: Ledger,
  placements: readonly SimplePlacement[],
): Promise<(OrderRow | DomainError)[]> {
  const walletIds = placements.map((p) => p.leg.walletId);
  await lockWalletsForPlacement(tx, walletIds);
  const open = await countOpenOrdersOf(tx, walletIds);
  const outcomes: (OrderRow | DomainError | undefined)[] = placements.map(({ leg, openOrdersMax }) => {
    const count = open.get(leg.walletId) ?? 0;
    if (count >= openOrdersMax) {
      return new TooManyOpenOrdersError(
        `a wallet may have at most ${openOrdersMax} open orders: cancel some first`,
        { open_orders_max: openOrdersMax },
      );
    }
    open.set(leg.walletId, count + 1);
    return undefined;
  });
  const toPost = placements.flatMap((p, i) => (outcomes[i] ? [] : [{ i, p }]));
  if (toPost.length === 0) return outcomes.map((o) => defined(o));
  const journals = await ledger.postBatch(
    tx,
    toPost.map(({ p }) => ({
      kind: 'order_reserve',
      postings: [reservePosting(p.leg.walletId, p.reservation)],
      metadata: { symbol: p.leg.symbol, side: p.leg.side },
    })),
  );
  const accepted = toPost.filter(({ i }, n) => {
    const journal = defined(journals[n]);
    if (isRefusal(journal)) outcomes[i] = journal;
    return !isRefusal(journal);
  });
  if (accepted.length > 0) {
    // Ids made here name each row of the one insert.
    const ids = accepted.map(() => randomUUID());
    const rows = await tx
      .insert(orders)
      .values(
        accepted.map(({ p: { leg, reservation } }, n) => ({
          ...orderValues(leg),
          id: defined(ids[n]),
          status: 'new' as const,
          reserveAsset: reservation.asset,
          reserved: reservation.amount.toFixed(),
        })),
      )
      .returning();
    const byId = new Map(rows.map((row) => [row.id, row]));
    accepted.forEach(({ i }, n) => {
      outcomes[i] = defined(byId.get(defined(ids[n])));
    });
  }
  return outcomes.map((o) => defined(o));
}

/** The columns of a resting order's row that its request decides. */
export function orderValues(leg: NewRestingOrder) {
  return {
    userId: leg.userId,
    walletId: leg.walletId,
    clientOrderId: leg.clientOrderId,
    symbol: leg.symbol,
    baseAsset: leg.baseAsset,
    quoteAsset: leg.quoteAsset,
    side: leg.side,
    type: leg.spec.type,
    timeInForce: leg.spec.timeInForce,
    price: leg.spec.price?.toFixed() ?? null,
    stopPrice: leg.spec.stopPrice?.toFixed() ?? null,
    quantity: leg.quantity.toFixed(),
  };
}
