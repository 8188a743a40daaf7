import { sql } from 'drizzle-orm';
import { bigint, check, index, numeric, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { journalTransactions } from '../ledger/tables.js';
import { users } from '../users/tables.js';
import { wallets } from '../wallets/tables.js';

/** A market order and its single fill. Amounts are NUMERIC(38,8); `notional` and `fee` in the quote asset. */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    clientOrderId: text('client_order_id'),
    symbol: text('symbol').notNull(),
    baseAsset: text('base_asset').notNull(),
    quoteAsset: text('quote_asset').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    quantity: numeric('quantity', { precision: 38, scale: 8 }).notNull(),
    price: numeric('price', { precision: 38, scale: 8 }).notNull(),
    notional: numeric('notional', { precision: 38, scale: 8 }).notNull(),
    fee: numeric('fee', { precision: 38, scale: 8 }).notNull(),
    status: text('status', { enum: ['filled'] }).notNull(),
    journalId: bigint('journal_id', { mode: 'number' })
      .notNull()
      .unique()
      .references(() => journalTransactions.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('orders_user_client_order_id_key').on(t.userId, t.clientOrderId),
    index('orders_user_journal_idx').on(t.userId, t.journalId),
    check('orders_side_check', sql`${t.side} in ('buy', 'sell')`),
    check('orders_status_check', sql`${t.status} = 'filled'`),
    check('orders_quantity_positive_check', sql`${t.quantity} > 0`),
    check('orders_price_positive_check', sql`${t.price} > 0`),
    check('orders_notional_positive_check', sql`${t.notional} > 0`),
    check('orders_fee_non_negative_check', sql`${t.fee} >= 0`),
  ],
);
