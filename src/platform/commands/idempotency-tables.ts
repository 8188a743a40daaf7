import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The first answer to each money-moving request sent with an `Idempotency-Key`, per caller. Written
 * in the same database transaction as the money movement, so a stored answer exists exactly when the
 * movement committed. (The foreign key to `users` is declared in SQL: platform code imports no module.)
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id').notNull(),
    key: text('key').notNull(),
    /** sha256 (hex) of the method, the route, its parameters and the canonical JSON body */
    requestHash: text('request_hash').notNull(),
    responseStatus: integer('response_status').notNull(),
    /** the response body exactly as first sent */
    responseBody: text('response_body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.userId, t.key] }),
    index('idempotency_keys_expires_at_idx').on(t.expiresAt),
    check('idempotency_keys_key_length_check', sql`char_length(${t.key}) between 1 and 255`),
    check('idempotency_keys_status_check', sql`${t.responseStatus} between 200 and 499`),
    check('idempotency_keys_expiry_check', sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);
