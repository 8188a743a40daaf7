import { and, asc, desc, eq } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
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
  values: { userId: string; name: string; isDefault: boolean },
): Promise<WalletRow> {
  const rows = await db.insert(wallets).values(values).returning();
  return rows[0]!;
}
