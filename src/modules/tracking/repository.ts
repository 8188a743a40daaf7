import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { trackedCryptos, trackedPriceHistory } from './tables.js';

export type TrackedRow = typeof trackedCryptos.$inferSelect;

/** One price to append to a tracked crypto's history. */
export interface PricePoint {
  trackedId: string;
  /** decimal string, at most 8 decimal places, > 0 */
  price: string;
  recordedAt: Date;
}

/** Every tracked crypto, in the order they were added; at most `limitMax`. */
export async function listTracked(db: Queryable, limitMax: number): Promise<TrackedRow[]> {
  return await db
    .select()
    .from(trackedCryptos)
    .orderBy(asc(trackedCryptos.createdAt), asc(trackedCryptos.symbol))
    .limit(limitMax);
}

/** The tracked crypto of `symbol` (upper-case base asset), locked `FOR UPDATE` when asked. */
export async function findTracked(
  db: Queryable,
  symbol: string,
  options: { forUpdate?: boolean } = {},
): Promise<TrackedRow | undefined> {
  const query = db.select().from(trackedCryptos).where(eq(trackedCryptos.symbol, symbol)).limit(1);
  const rows = options.forUpdate ? await query.for('update') : await query;
  return rows[0];
}

/**
 * The tracked cryptos of these ids that still exist, locked `FOR UPDATE` in id order (one fixed
 * order, so a poll and a refresh never deadlock).
 */
export async function lockTrackedByIds(db: Queryable, ids: string[]): Promise<TrackedRow[]> {
  if (ids.length === 0) return [];
  return await db
    .select()
    .from(trackedCryptos)
    .where(inArray(trackedCryptos.id, ids))
    .orderBy(asc(trackedCryptos.id))
    .for('update');
}

/**
 * Inserts a tracked crypto; a taken symbol leaves the table as it was.
 * @returns the new row, or undefined when the symbol is already tracked
 */
export async function insertTrackedIfAbsent(
  db: Queryable,
  values: { symbol: string; coingeckoId: string; name: string; currentPrice: string; lastUpdated: Date },
): Promise<TrackedRow | undefined> {
  const rows = await db.insert(trackedCryptos).values(values).onConflictDoNothing().returning();
  return rows[0];
}

/** Deletes a tracked crypto and (by cascade) its history. @returns whether it existed */
export async function deleteTracked(db: Queryable, symbol: string): Promise<boolean> {
  const rows = await db
    .delete(trackedCryptos)
    .where(eq(trackedCryptos.symbol, symbol))
    .returning({ id: trackedCryptos.id });
  return rows.length > 0;
}

/**
 * Appends prices to histories, moves each crypto's current price to its newest one (a price older
 * than the current one is kept in the history but does not replace it), then trims each touched
 * history to its newest `keepCount` rows. The caller holds the rows' locks (same transaction).
 */
export async function appendPrices(db: Queryable, points: PricePoint[], keepCount: number): Promise<void> {
  if (points.length === 0) return;
  await db.insert(trackedPriceHistory).values(points);
  for (const point of points) {
    await db
      .update(trackedCryptos)
      .set({ currentPrice: point.price, lastUpdated: point.recordedAt })
      .where(
        and(
          eq(trackedCryptos.id, point.trackedId),
          sql`${trackedCryptos.lastUpdated} <= ${point.recordedAt}`,
        ),
      );
  }
  const ids = [...new Set(points.map((point) => point.trackedId))];
  // Rows past the newest `keepCount` of each history, in the order the history is served.
  await db.execute(sql`
    delete from ${trackedPriceHistory} h
    using (
      select id from (
        select id, row_number() over (
          partition by tracked_id order by recorded_at desc, id desc
        ) as position
        from ${trackedPriceHistory}
        where tracked_id in ${ids}
      ) ranked
      where position > ${keepCount}
    ) old
    where h.id = old.id`);
}

/** A crypto's kept history, newest first (at most `limitMax` rows). */
export async function listHistory(
  db: Queryable,
  trackedId: string,
  limitMax: number,
): Promise<{ price: string; recordedAt: Date }[]> {
  return await db
    .select({ price: trackedPriceHistory.price, recordedAt: trackedPriceHistory.recordedAt })
    .from(trackedPriceHistory)
    .where(eq(trackedPriceHistory.trackedId, trackedId))
    .orderBy(desc(trackedPriceHistory.recordedAt), desc(trackedPriceHistory.id))
    .limit(limitMax);
}
