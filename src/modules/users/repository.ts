import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { users } from './tables.js';

export type UserRow = typeof users.$inferSelect;

/** The user with this id, if any. */
export async function findUserById(db: Queryable, id: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return rows[0];
}

/** The user with this username, compared case-insensitively, if any. */
export async function findUserByUsername(db: Queryable, username: string): Promise<UserRow | undefined> {
  const rows = await db
    .select()
    .from(users)
    .where(sql`lower(${users.username}) = lower(${username})`)
    .limit(1);
  return rows[0];
}

/** Inserts a user; a taken username surfaces as the unique violation of `users_username_lower_key`. */
export async function insertUser(
  db: Queryable,
  values: { username: string; email: string | null; passwordHash: string },
): Promise<UserRow> {
  const rows = await db.insert(users).values(values).returning();
  return rows[0]!;
}
