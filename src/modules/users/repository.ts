import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { defined } from '../../shared/assert.js';
import { users } from './tables.js';

export type UserRow = typeof users.$inferSelect;

/** The live (not deleted) user with this id, if any. */
export async function findUserById(db: Queryable, id: string): Promise<UserRow | undefined> {
  const rows = await db
    .select()
    .from(users)
    .where(and(eq(users.id, id), isNull(users.deletedAt)))
    .limit(1);
  return rows[0];
}

/** The live user with this username, compared case-insensitively, if any. */
export async function findUserByUsername(db: Queryable, username: string): Promise<UserRow | undefined> {
  const rows = await db
    .select()
    .from(users)
    .where(and(sql`lower(${users.username}) = lower(${username})`, isNull(users.deletedAt)))
    .limit(1);
  return rows[0];
}

/**
 * Changes a live user's profile fields; unique violations surface as `users_username_lower_key`
 * or `users_email_lower_key`.
 */
export async function updateUser(
  db: Queryable,
  id: string,
  values: {
    username?: string;
    email?: string | null;
    passwordHash?: string;
    role?: 'user' | 'admin';
    /** the database's transaction time (`now()`), like every created_at */
    deletedAt?: SQL;
  },
): Promise<UserRow | undefined> {
  const rows = await db
    .update(users)
    .set(values)
    .where(and(eq(users.id, id), isNull(users.deletedAt)))
    .returning();
  return rows[0];
}

/** Inserts a user; a taken username surfaces as the unique violation of `users_username_lower_key`. */
export async function insertUser(
  db: Queryable,
  values: { username: string; email: string | null; passwordHash: string },
): Promise<UserRow> {
  const rows = await db.insert(users).values(values).returning();
  return defined(rows[0]);
}
