import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { defined } from '../../shared/assert.js';
import { wallets } from './tables.js';

export type WalletRow = typeof wallets.$inferSelect;

/** Wallets of a user, the default one first, then the oldest first; at most `limitMax`. */
export async function listUserWallets(db: Queryable, userId: string, limitMax: number): Promise<WalletRow[]> {
  return await db
    .select()
    .from(wallets)
    .where(eq(wallets.userId, userId))
    .orderBy(desc(wallets.isDefault), asc(wallets.createdAt), asc(wallets.id))
    .limit(limitMax);
}

/** The wallet with this id if it belongs to `userId` (another user's wallet is "not found"). */
export async function findUserWallet(
  db: Queryable,
  userId: string,
  walletId: string,
): Promise<WalletRow | undefined> {
  const rows = await db
    .select()
    .from(wallets)
    .where(and(eq(wallets.id, walletId), eq(wallets.userId, userId)))
    .limit(1);
  return rows[0];
}

/** The wallet with this id, whoever owns it (callers check the owner). */
export async function findWalletById(db: Queryable, walletId: string): Promise<WalletRow | undefined> {
  const rows = await db.select().from(wallets).where(eq(wallets.id, walletId)).limit(1);
  return rows[0];
}

/** The user's default wallet. */
export async function findDefaultWallet(db: Queryable, userId: string): Promise<WalletRow | undefined> {
  const rows = await db
    .select()
    .from(wallets)
    .where(and(eq(wallets.userId, userId), eq(wallets.isDefault, true)))
    .limit(1);
  return rows[0];
}

export async function insertWallet(
  db: Queryable,
  values: { id?: string; userId: string; name: string; isDefault: boolean },
): Promise<WalletRow> {
  const rows = await db.insert(wallets).values(values).returning();
  return defined(rows[0]);
}

/**
 * Inserts a wallet with a client-chosen id unless that id exists (whoever owns it).
 * @returns the wallet with this id after the insert, whether new or not
 */
export async function insertWalletIfAbsent(
  db: Queryable,
  values: { id: string; userId: string; name: string },
): Promise<WalletRow | undefined> {
  await db.insert(wallets).values(values).onConflictDoNothing({ target: wallets.id });
  const rows = await db.select().from(wallets).where(eq(wallets.id, values.id)).limit(1);
  return rows[0];
}

/** How many wallets a user holds. */
export async function countUserWallets(db: Queryable, userId: string): Promise<number> {
  const rows = await db.select({ n: count() }).from(wallets).where(eq(wallets.userId, userId));
  return rows[0]?.n ?? 0;
}

/**
 * Serialises wallet creation per user until the end of the transaction, so the wallet count
 * limit holds under concurrent requests. `FOR NO KEY UPDATE` does not block the `FOR KEY SHARE`
 * locks that foreign keys to the user take, so orders and operations are not held up.
 */
export async function lockUserForWalletCreation(db: Queryable, userId: string): Promise<void> {
  await db.execute(sql`select 1 from users where id = ${userId} for no key update`);
}
