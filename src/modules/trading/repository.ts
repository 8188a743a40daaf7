import { and, asc, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable, Tx } from '../../platform/db/client.js';
import { defined } from '../../shared/assert.js';
import { orders, positions } from './tables.js';

export type OrderRow = typeof orders.$inferSelect;
export type NewOrderRow = typeof orders.$inferInsert;
export type PositionRow = typeof positions.$inferSelect;
export type NewPositionRow = typeof positions.$inferInsert;

/** Inserts one order; a repeated client order id violates `orders_user_client_order_id_key`. */
export async function insertOrder(db: Queryable, values: NewOrderRow): Promise<OrderRow> {
  const rows = await db.insert(orders).values(values).returning();
  return defined(rows[0]);
}

/** A filled buy or sell to insert: its owner, wallet, symbol, side, amounts and ledger journal. */
export type NewFillRow = Pick<
  OrderRow,
  | 'userId'
  | 'walletId'
  | 'symbol'
  | 'baseAsset'
  | 'quoteAsset'
  | 'side'
  | 'type'
  | 'timeInForce'
  | 'price'
  | 'stopPrice'
  | 'quantity'
  | 'avgFillPrice'
  | 'notional'
  | 'fee'
  | 'liquidity'
  | 'status'
> & { clientOrderId?: string | null | undefined; journalId: number };

/**
 * Inserts the filled buys and sells of a batch in one statement, one array parameter per column
 * (the query builder would make one parameter per value: 17 per order); the rows come back in the
 * order given.
 */
export async function insertOrders(db: Queryable, values: NewFillRow[]): Promise<OrderRow[]> {
  if (values.length === 0) return [];
  const column = (pick: (row: NewFillRow) => string | number | null) => sql.param(values.map(pick));
  const result = await db.execute<{
    id: string;
    journal_id: string;
    seq: string;
    created_at: string | Date;
  }>(sql`
    insert into orders (user_id, wallet_id, client_order_id, symbol, base_asset, quote_asset, side,
                        type, time_in_force, price, stop_price, quantity, avg_fill_price, notional,
                        fee, liquidity, status, journal_id)
    select * from unnest(
      ${column((r) => r.userId)}::uuid[], ${column((r) => r.walletId)}::uuid[],
      ${column((r) => r.clientOrderId ?? null)}::text[], ${column((r) => r.symbol)}::text[],
      ${column((r) => r.baseAsset)}::text[], ${column((r) => r.quoteAsset)}::text[],
      ${column((r) => r.side)}::text[], ${column((r) => r.type)}::text[],
      ${column((r) => r.timeInForce)}::text[], ${column((r) => r.price)}::numeric[],
      ${column((r) => r.stopPrice)}::numeric[], ${column((r) => r.quantity)}::numeric[],
      ${column((r) => r.avgFillPrice)}::numeric[], ${column((r) => r.notional)}::numeric[],
      ${column((r) => r.fee)}::numeric[], ${column((r) => r.liquidity)}::text[],
      ${column((r) => r.status)}::text[], ${column((r) => r.journalId)}::bigint[])
    returning id, journal_id, seq, created_at`);
  const inserted = new Map(result.rows.map((row) => [Number(row.journal_id), row]));
  return values.map((row) => {
    const { id, seq, created_at } = defined(inserted.get(row.journalId));
    const createdAt = new Date(created_at);
    return {
      ...row,
      id,
      clientOrderId: row.clientOrderId ?? null,
      reserveAsset: null,
      reserved: '0',
      orderListId: null,
      replacedBy: null,
      triggeredAt: null,
      positionId: null,
      realizedPnl: null,
      liquidation: false,
      seq: Number(seq),
      createdAt,
      updatedAt: createdAt,
    };
  });
}

export async function findOrderByClientId(
  db: Queryable,
  userId: string,
  clientOrderId: string,
): Promise<OrderRow | undefined> {
  const rows = await db
    .select()
    .from(orders)
    .where(and(eq(orders.userId, userId), eq(orders.clientOrderId, clientOrderId)))
    .limit(1);
  return rows[0];
}

/** The order with this id, whoever placed it (callers apply the access rule). */
export async function findOrderById(db: Queryable, orderId: string): Promise<OrderRow | undefined> {
  const rows = await db.select().from(orders).where(eq(orders.id, orderId)).limit(1);
  return rows[0];
}

/** Filters of an order list; undefined means any. */
export interface OrderFilter {
  symbol?: string | undefined;
  side?: OrderRow['side'] | undefined;
  /** `open`: the resting ones (`new`) */
  status?: OrderRow['status'] | 'open' | undefined;
}

/** A user's orders, newest first (by `seq`, which grows with time), before `beforeSeq`. */
export async function listUserOrders(
  db: Queryable,
  userId: string,
  filter: OrderFilter,
  limit: number,
  beforeSeq: number | undefined,
): Promise<OrderRow[]> {
  const status = filter.status === 'open' ? 'new' : filter.status;
  return await db
    .select()
    .from(orders)
    .where(
      and(
        eq(orders.userId, userId),
        filter.symbol === undefined ? undefined : eq(orders.symbol, filter.symbol),
        filter.side === undefined ? undefined : eq(orders.side, filter.side),
        status === undefined ? undefined : eq(orders.status, status),
        beforeSeq === undefined ? undefined : lt(orders.seq, beforeSeq),
      ),
    )
    .orderBy(desc(orders.seq))
    .limit(limit);
}

/** The open short of a wallet on a symbol, locked `FOR UPDATE` until `tx` ends. */
export async function lockOpenPosition(
  tx: Tx,
  walletId: string,
  symbol: string,
): Promise<PositionRow | undefined> {
  const rows = await tx
    .select()
    .from(positions)
    .where(and(eq(positions.walletId, walletId), eq(positions.symbol, symbol), eq(positions.status, 'open')))
    .for('update');
  return rows[0];
}

/** A position by id, locked `FOR UPDATE` until `tx` ends. */
export async function lockPosition(tx: Tx, positionId: string): Promise<PositionRow | undefined> {
  const rows = await tx.select().from(positions).where(eq(positions.id, positionId)).for('update');
  return rows[0];
}

/**
 * Opens a position unless the wallet already has an open one on the symbol (a concurrent short
 * opened it first: the partial unique index decides, and the caller then adds to that one).
 * @returns the new row, or undefined when one was open already
 */
export async function insertPositionIfNoneOpen(
  tx: Tx,
  values: NewPositionRow,
): Promise<PositionRow | undefined> {
  const rows = await tx
    .insert(positions)
    .values(values)
    .onConflictDoNothing({ target: [positions.walletId, positions.symbol], where: sql`status = 'open'` })
    .returning();
  return rows[0];
}

/** Writes a position's new state (quantities, collateral, P&L, status). */
export async function updatePosition(
  tx: Tx,
  positionId: string,
  values: Partial<Omit<NewPositionRow, 'id' | 'userId' | 'walletId' | 'symbol' | 'closedAt'>> & {
    /** the database's transaction time (`now()`) when the position closes */
    closedAt?: SQL;
  },
): Promise<PositionRow> {
  const rows = await tx
    .update(positions)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(positions.id, positionId))
    .returning();
  return defined(rows[0]);
}

/** Open shorts of a user, or of one wallet, oldest first. */
export async function listOpenPositions(
  db: Queryable,
  owner: { userId: string } | { walletId: string },
): Promise<PositionRow[]> {
  return await db
    .select()
    .from(positions)
    .where(
      and(
        eq(positions.status, 'open'),
        'userId' in owner ? eq(positions.userId, owner.userId) : eq(positions.walletId, owner.walletId),
      ),
    )
    .orderBy(asc(positions.openedAt));
}

/** Every open short of the given symbols, whoever holds them (the liquidation check). */
export async function listOpenPositionsOf(db: Queryable, symbols?: string[]): Promise<PositionRow[]> {
  return await db
    .select()
    .from(positions)
    .where(
      and(
        eq(positions.status, 'open'),
        symbols === undefined ? undefined : inArray(positions.symbol, symbols),
      ),
    );
}
