import { and, asc, desc, eq, gt, lt, lte } from 'drizzle-orm';
import type { Queryable, Tx } from '../../platform/db/client.js';
import { bets } from './tables.js';

export type BetRow = typeof bets.$inferSelect;
export type NewBetRow = typeof bets.$inferInsert;
/** The fields a settlement writes. */
export type SettledFields = Pick<NewBetRow, 'endPrice' | 'result' | 'profit' | 'settledAt' | 'late'> & {
  settleJournalId: number;
};

export async function insertBet(db: Queryable, values: NewBetRow): Promise<BetRow> {
  const rows = await db.insert(bets).values(values).returning();
  return rows[0]!;
}

/** The bet with this id, whoever placed it (callers apply the access rule). */
export async function findBetById(db: Queryable, betId: string): Promise<BetRow | undefined> {
  const rows = await db.select().from(bets).where(eq(bets.id, betId)).limit(1);
  return rows[0];
}

/**
 * Locks the bet's row if it is still pending. A concurrent settler waits here for the first one's
 * commit and then finds the bet completed (READ COMMITTED re-checks the condition on the new row).
 */
export async function lockPendingBet(tx: Tx, betId: string): Promise<BetRow | undefined> {
  const rows = await tx
    .select()
    .from(bets)
    .where(and(eq(bets.id, betId), eq(bets.status, 'pending')))
    .for('update');
  return rows[0];
}

/**
 * Moves a bet from pending to completed; the `status = 'pending'` condition is the exactly-once
 * guard in SQL.
 * @returns false when the bet was not pending (nothing written)
 */
export async function completeBet(tx: Tx, betId: string, fields: SettledFields): Promise<boolean> {
  const rows = await tx
    .update(bets)
    .set({ ...fields, status: 'completed' })
    .where(and(eq(bets.id, betId), eq(bets.status, 'pending')))
    .returning({ id: bets.id });
  return rows.length === 1;
}

/** A user's bets, newest first (by their escrow journal id), before `beforeJournalId`. */
export async function listUserBets(
  db: Queryable,
  userId: string,
  status: 'pending' | 'completed' | undefined,
  limit: number,
  beforeJournalId: number | undefined,
): Promise<BetRow[]> {
  return await db
    .select()
    .from(bets)
    .where(
      and(
        eq(bets.userId, userId),
        status === undefined ? undefined : eq(bets.status, status),
        beforeJournalId === undefined ? undefined : lt(bets.placeJournalId, beforeJournalId),
      ),
    )
    .orderBy(desc(bets.placeJournalId))
    .limit(limit);
}

/** Ids of pending bets due at or before `dueAt`, earliest first, at most `limit`. */
export async function findDuePendingBets(db: Queryable, dueAt: Date, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: bets.id })
    .from(bets)
    .where(and(eq(bets.status, 'pending'), lte(bets.dueAt, dueAt)))
    .orderBy(asc(bets.dueAt))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Pending bets due after `after` (to schedule in process at start-up), earliest first, at most `limit`. */
export async function findUpcomingPendingBets(
  db: Queryable,
  after: Date,
  limit: number,
): Promise<{ id: string; dueAt: Date }[]> {
  return await db
    .select({ id: bets.id, dueAt: bets.dueAt })
    .from(bets)
    .where(and(eq(bets.status, 'pending'), gt(bets.dueAt, after)))
    .orderBy(asc(bets.dueAt))
    .limit(limit);
}
