import { sql } from 'drizzle-orm';
import { boolean, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/tables.js';

/** A user's wallet: a named group of ledger accounts, one per asset and bucket. */
export const wallets = pgTable(
  'wallets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('wallets_user_id_idx').on(t.userId, t.createdAt),
    uniqueIndex('wallets_one_default_per_user_key').on(t.userId).where(sql`${t.isDefault}`),
    check('wallets_name_length_check', sql`char_length(${t.name}) between 1 and 64`),
  ],
);
