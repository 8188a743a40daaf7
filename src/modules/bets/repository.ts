import { and, asc, desc, eq, gt, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Queryable, Tx } from '../../platform/db/client.js';
import { defined } from '../../shared/assert.js';
import { bets } from './tables.js';

export type BetRow = typeof bets.$inferSelect;
export type NewBetRow = typeof bets.$inferInsert;
/** The fields a settlement writes. */
export type SettledFields = Pick<
  NewBetRow,
  'endPrice' | 'endPriceAt' | 'result' | 'profit' | 'settledAt' | 'late'
> & {
  settleJournalId: number;
};

/** Inserts one pending bet (in the transaction that moves its stake to escrow). */
export async function insertBet(db: Queryable, values: NewBetRow): Promise<BetRow> {
  const rows = await db.insert(bets).values(values).returning();
  return defined(rows[0]);
}

/** The bet with this id, whoever placed it (callers apply the access rule). */
export async function findBetById(db: Queryable, betId: string): Promise<BetRow | undefined> {
  const rows = await db.select().from(bets).where(eq(bets.id, betId)).limit(1);
  return rows[0];
}

/** The bets with these ids that exist, in no particular order. */
export async function findBetsByIds(db: Queryable, betIds: readonly string[]): Promise<BetRow[]> {
  if (betIds.length === 0) return [];
  return await db
    .select()
    .from(bets)
    .where(inArray(bets.id, [...betIds]));
}

/**
 * Locks the rows of those bets that are still pending, in ascending id order (one fixed order, so
 * concurrent settlers queue instead of deadlocking). A concurrent settler waits here for the first
 * one's commit and then finds the bet completed (READ COMMITTED re-checks the condition on the
 * new row version), so it skips it.
 * @returns the ids locked
 */
export async function lockPendingBets(tx: Tx, betIds: readonly string[]): Promise<Set<string>> {
  if (betIds.length === 0) return new Set();
  const rows = await tx
    .select({ id: bets.id })
    .from(bets)
    .where(and(inArray(bets.id, [...betIds]), eq(bets.status, 'pending')))
    .orderBy(asc(bets.id))
    .for('update');
  return new Set(rows.map((row) => row.id));
}

/**
 * Moves bets from pending to completed in one statement; the `status = 'pending'` condition is the
 * exactly-once guard in SQL.
 * @returns how many rows moved (fewer than given when some were not pending)
 */
export async function completeBets(
  tx: Tx,
  settled: readonly ({ id: string } & SettledFields)[],
): Promise<number> {
  if (settled.length === 0) return 0;
  const text = (values: (string | number | boolean | null | undefined)[]) =>
    sql.param(values.map((v) => (v === null || v === undefined ? null : String(v))));
  const result = await tx.execute(sql`
    update bets b
       set status = 'completed', end_price = v.end_price, end_price_at = v.end_price_at,
           result = v.result, profit = v.profit, settled_at = v.settled_at, late = v.late,
           settle_journal_id = v.settle_journal_id, settlement_error = null
      from unnest(
        ${text(settled.map((s) => s.id))}::uuid[],
        ${text(settled.map((s) => s.endPrice))}::numeric[],
        ${text(settled.map((s) => s.endPriceAt?.toISOString()))}::timestamptz[],
        ${text(settled.map((s) => s.result))}::text[],
        ${text(settled.map((s) => s.profit))}::numeric[],
        ${text(settled.map((s) => s.settledAt?.toISOString()))}::timestamptz[],
        ${text(settled.map((s) => s.late))}::boolean[],
        ${text(settled.map((s) => s.settleJournalId))}::bigint[]
      ) as v(id, end_price, end_price_at, result, profit, settled_at, late, settle_journal_id)
     where b.id = v.id and b.status = 'pending'`);
  return result.rowCount ?? 0;
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

/**
 * Ids of pending bets due at or before `dueAt`, at most `limit`: earliest first, those whose last
 * settlement was refused after all the others (so they never hold the others back).
 */
export async function findDuePendingBets(db: Queryable, dueAt: Date, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: bets.id })
    .from(bets)
    .where(and(eq(bets.status, 'pending'), lte(bets.dueAt, dueAt)))
    .orderBy(sql`${bets.settlementError} is not null`, asc(bets.dueAt))
    .limit(limit);
  return rows.map((row) => row.id);
}

/**
 * Records why each bet's settlement was refused, on bets still pending.
 * @returns the ids whose `settlement_error` changed (a bet refused again for the same reason is not
 *   among them)
 */
export async function recordSettlementErrors(
  db: Queryable,
  refused: readonly { betId: string; reason: string }[],
): Promise<Set<string>> {
  if (refused.length === 0) return new Set();
  const result = await db.execute<{ id: string }>(sql`
    update bets b
       set settlement_error = v.reason
      from unnest(
        ${sql.param(refused.map((r) => r.betId))}::uuid[],
        ${sql.param(refused.map((r) => r.reason))}::text[]
      ) as v(id, reason)
     where b.id = v.id and b.status = 'pending' and b.settlement_error is distinct from v.reason
    returning b.id`);
  return new Set(result.rows.map((row) => row.id));
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
