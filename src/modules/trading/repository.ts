import { and, desc, eq, lt } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { orders } from './tables.js';

export type OrderRow = typeof orders.$inferSelect;
export type NewOrderRow = typeof orders.$inferInsert;

export async function insertOrder(db: Queryable, values: NewOrderRow): Promise<OrderRow> {
  const rows = await db.insert(orders).values(values).returning();
  return rows[0]!;
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

/** A user's orders, newest first (by their journal id, which grows with time), before `beforeJournalId`. */
export async function listUserOrders(
  db: Queryable,
  userId: string,
  limit: number,
  beforeJournalId: number | undefined,
): Promise<OrderRow[]> {
  return await db
    .select()
    .from(orders)
    .where(
      and(
        eq(orders.userId, userId),
        beforeJournalId === undefined ? undefined : lt(orders.journalId, beforeJournalId),
      ),
    )
    .orderBy(desc(orders.journalId))
    .limit(limit);
}
