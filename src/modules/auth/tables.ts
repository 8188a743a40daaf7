import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/tables.js';

/**
 * One login: the access tokens it issues carry its id (`sid`), and its refresh tokens form one
 * rotation family. Revoking it (logout, password change, account deletion, refresh-token reuse)
 * ends every token of that login at once.
 */
export const authSessions = pgTable(
  'auth_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** when its last refresh token can no longer be used */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    /** `logout`, `password_changed`, `account_deleted`, `refresh_token_reused` */
    revokedReason: text('revoked_reason'),
  },
  (t) => [
    index('auth_sessions_user_id_idx').on(t.userId),
    check('auth_sessions_revoked_check', sql`(${t.revokedAt} is null) = (${t.revokedReason} is null)`),
  ],
);

/**
 * Refresh tokens, stored only as their sha256: a database leak does not leak usable tokens. Each
 * is used once; using a rotated one again revokes its whole session (theft detection).
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => authSessions.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** set when it was exchanged for a new pair */
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('refresh_tokens_session_id_idx').on(t.sessionId),
    check('refresh_tokens_hash_check', sql`${t.tokenHash} ~ '^[0-9a-f]{64}$'`),
  ],
);
