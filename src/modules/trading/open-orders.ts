import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Queryable, Tx } from '../../platform/db/client.js';
import { defined } from '../../shared/assert.js';
import type { Quote } from '../market/index.js';
import type { OrderRow } from './repository.js';
import { orderLists, orders } from './tables.js';

export type OrderListRow = typeof orderLists.$inferSelect;

/**
 * The open (`new`) orders that match `where`, locked `FOR UPDATE` in id order until `tx` ends (one
 * fixed order, so a matcher, a cancel and a liquidation queue rather than deadlock). An order filled
 * or canceled while this waited for its lock is left out (PostgreSQL re-checks the row it waited for).
 */
export async function lockOpenOrders(tx: Tx, where: SQL | undefined): Promise<OrderRow[]> {
  return await tx
    .select()
    .from(orders)
    .where(and(eq(orders.status, 'new'), where))
    .orderBy(asc(orders.id))
    .for('update');
}

/** An OCO, locked `FOR UPDATE` until `tx` ends. */
export async function lockOrderList(tx: Tx, listId: string): Promise<OrderListRow | undefined> {
  const rows = await tx.select().from(orderLists).where(eq(orderLists.id, listId)).for('update');
  return rows[0];
}

/** Writes a new OCO. */
export async function insertOrderList(tx: Tx, values: typeof orderLists.$inferInsert): Promise<OrderListRow> {
  return defined((await tx.insert(orderLists).values(values).returning())[0]);
}

/** Marks an OCO done: it reserves nothing any more. */
export async function closeOrderList(tx: Tx, listId: string): Promise<void> {
  await tx
    .update(orderLists)
    .set({ status: 'done', reserved: '0', updatedAt: sql`now()` })
    .where(eq(orderLists.id, listId));
}

/** How many orders of the wallet rest now. */
export async function countOpenOrders(db: Queryable, walletId: string): Promise<number> {
  const rows = await db
    .select({ n: sql<string>`count(*)` })
    .from(orders)
    .where(and(eq(orders.walletId, walletId), eq(orders.status, 'new')));
  return Number(rows[0]?.n ?? 0);
}

/**
 * Ends open orders (canceled, expired or rejected): they reserve nothing any more.
 * @returns the rows as written, in the order of `ids`
 */
export async function endOrders(
  tx: Tx,
  ids: string[],
  status: 'canceled' | 'expired' | 'rejected',
): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .update(orders)
    .set({ status, reserved: '0', updatedAt: sql`now()` })
    .where(inArray(orders.id, ids))
    .returning();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => defined(byId.get(id)));
}

/** Records the order a cancel-replace put in place of `id`. */
export async function setReplacedBy(tx: Tx, id: string, replacedBy: string): Promise<OrderRow> {
  const rows = await tx.update(orders).set({ replacedBy }).where(eq(orders.id, id)).returning();
  return defined(rows[0]);
}

/** Marks a stop or take-profit of a limit type triggered: it now rests at its limit price. */
export async function markTriggered(tx: Tx, id: string): Promise<OrderRow> {
  const rows = await tx
    .update(orders)
    .set({ triggeredAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(orders.id, id))
    .returning();
  return defined(rows[0]);
}

/** How an order filled, to write on its row. */
export interface FilledValues {
  id: string;
  avgFillPrice: string;
  notional: string;
  fee: string;
  liquidity: 'maker' | 'taker';
  journalId: number;
  positionId: string | null;
  realizedPnl: string | null;
  /** set when a stop fired and filled in the same step */
  triggered: boolean;
}

/**
 * Marks open orders filled, one statement for the batch (one array parameter per column).
 * @returns the rows as written, in the order given
 */
export async function markFilled(tx: Tx, fills: FilledValues[]): Promise<OrderRow[]> {
  if (fills.length === 0) return [];
  const column = (pick: (f: FilledValues) => string | number | boolean | null) => sql.param(fills.map(pick));
  const result = await tx.execute<{ id: string }>(sql`
    update orders o set status = 'filled', reserved = 0, avg_fill_price = f.avg_fill_price,
           notional = f.notional, fee = f.fee, liquidity = f.liquidity, journal_id = f.journal_id,
           position_id = coalesce(f.position_id, o.position_id), realized_pnl = f.realized_pnl,
           triggered_at = case when f.triggered then coalesce(o.triggered_at, now()) else o.triggered_at end,
           updated_at = now()
      from unnest(${column((f) => f.id)}::uuid[], ${column((f) => f.avgFillPrice)}::numeric[],
                  ${column((f) => f.notional)}::numeric[], ${column((f) => f.fee)}::numeric[],
                  ${column((f) => f.liquidity)}::text[], ${column((f) => f.journalId)}::bigint[],
                  ${column((f) => f.positionId)}::uuid[], ${column((f) => f.realizedPnl)}::numeric[],
                  ${column((f) => f.triggered)}::boolean[])
           as f(id, avg_fill_price, notional, fee, liquidity, journal_id, position_id, realized_pnl, triggered)
     where o.id = f.id
    returning o.id`);
  const rows = await tx
    .select()
    .from(orders)
    .where(
      inArray(
        orders.id,
        result.rows.map((r) => r.id),
      ),
    );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return fills.map((f) => defined(byId.get(f.id)));
}

/**
 * A symbol's open orders (id and wallet) that `quote` may fill or trigger: limit orders (and triggered
 * stop-limits) whose price the book has reached — buys at ask ≤ price, sells at bid ≥ price — and
 * stop and take-profit orders whose trigger the last price has reached. Read without locks: the
 * matcher decides again under them.
 */
export async function dueOrders(db: Queryable, quote: Quote): Promise<{ id: string; walletId: string }[]> {
  const result = await db.execute<{ id: string; wallet_id: string }>(sql`
    select id, wallet_id from orders
     where status = 'new' and symbol = ${quote.symbol}
       and (
         (price is not null and (stop_price is null or triggered_at is not null)
           and ((side in ('buy', 'close_short') and price >= ${quote.ask}::numeric)
             or (side in ('sell', 'short') and price <= ${quote.bid}::numeric)))
         or (stop_price is not null and triggered_at is null
           and (((type in ('stop_loss', 'stop_loss_limit')) = (side in ('buy', 'close_short'))
                  and stop_price <= ${quote.last}::numeric)
             or ((type in ('stop_loss', 'stop_loss_limit')) <> (side in ('buy', 'close_short'))
                  and stop_price >= ${quote.last}::numeric))))
     order by id`);
  return result.rows.map((row) => ({ id: row.id, walletId: row.wallet_id }));
}

/** The symbols that have open orders (the matcher watches their prices). */
export async function symbolsWithOpenOrders(db: Queryable): Promise<string[]> {
  const result = await db.execute<{ symbol: string }>(
    sql`select distinct symbol from orders where status = 'new'`,
  );
  return result.rows.map((row) => row.symbol);
}

/** Each open order's reservation and each open OCO's, for reconcile. */
export async function openReservations(
  db: Queryable,
): Promise<{ walletId: string; asset: string; amount: string }[]> {
  const result = await db.execute<{ wallet_id: string; asset: string; amount: string }>(sql`
    select wallet_id, reserve_asset as asset, reserved as amount from orders
     where status = 'new' and reserved > 0
    union all
    select wallet_id, reserve_asset, reserved from order_lists where status = 'open' and reserved > 0`);
  return result.rows.map((r) => ({ walletId: r.wallet_id, asset: r.asset, amount: r.amount }));
}

/**
 * Takes the placement lock of each wallet (a transaction-scoped advisory lock, in id order): the
 * placements of one wallet count its open orders one after another, across processes too.
 */
export async function lockWalletsForPlacement(tx: Tx, walletIds: readonly string[]): Promise<void> {
  const ids = [...new Set(walletIds)].sort();
  if (ids.length === 0) return;
  await tx.execute(sql`
    select pg_advisory_xact_lock(hashtextextended('order_placement:' || w, 0))
      from unnest(${sql.param(ids)}::text[]) with ordinality as x(w, n) order by n`);
}

/** How many orders rest now in each of the wallets (absent: none). */
export async function countOpenOrdersOf(
  db: Queryable,
  walletIds: readonly string[],
): Promise<Map<string, number>> {
  if (walletIds.length === 0) return new Map();
  const result = await db.execute<{ wallet_id: string; n: string }>(sql`
    select wallet_id, count(*) as n from orders
     where status = 'new' and wallet_id = any(${sql.param([...new Set(walletIds)])}::uuid[])
     group by wallet_id`);
  return new Map(result.rows.map((r) => [r.wallet_id, Number(r.n)]));
}
