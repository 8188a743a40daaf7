import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { journalTransactions } from '../ledger/tables.js';
import { users } from '../users/tables.js';
import { wallets } from '../wallets/tables.js';

/**
 * A price bet (SPEC C8): a stake in the quote asset held in escrow from placement (`place_journal_id`)
 * to settlement (`settle_journal_id`). A bet moves from `pending` to `completed` exactly once: the
 * settlement's `UPDATE … WHERE status = 'pending'` is the guard, and the CHECKs tie every settled
 * field to the status. Amounts and prices are NUMERIC(38,8).
 */
export const bets = pgTable(
  'bets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    symbol: text('symbol').notNull(),
    quoteAsset: text('quote_asset').notNull(),
    direction: text('direction', { enum: ['up', 'down'] }).notNull(),
    stake: numeric('stake', { precision: 38, scale: 8 }).notNull(),
    leverage: integer('leverage').notNull(),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull(),
    startPrice: numeric('start_price', { precision: 38, scale: 8 }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }).notNull(),
    status: text('status', { enum: ['pending', 'completed'] })
      .notNull()
      .default('pending'),
    endPrice: numeric('end_price', { precision: 38, scale: 8 }),
    /**
     * the instant `end_price` was the market's last price: the due time for a bet settled late where
     * the source has history (Binance's 1 s klines, the replay), else the settlement's own instant
     */
    endPriceAt: timestamp('end_price_at', { withTimezone: true, mode: 'date' }),
    result: text('result', { enum: ['W', 'L', 'D'] }),
    /** signed, quote asset: what the wallet gained (> 0) or lost (< 0, at most the stake) */
    profit: numeric('profit', { precision: 38, scale: 8 }),
    settledAt: timestamp('settled_at', { withTimezone: true, mode: 'date' }),
    /** settled more than the grace after its due time (an outage, a backlog) */
    late: boolean('late').notNull().default(false),
    /**
     * why the last settlement attempt was refused (its payout beyond the largest balance, a database
     * error): the bet stays pending, its stake in escrow, and is tried again by the sweeper
     */
    settlementError: text('settlement_error'),
    placeJournalId: bigint('place_journal_id', { mode: 'number' })
      .notNull()
      .unique()
      .references(() => journalTransactions.id),
    settleJournalId: bigint('settle_journal_id', { mode: 'number' })
      .unique()
      .references(() => journalTransactions.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('bets_user_place_journal_idx').on(t.userId, t.placeJournalId),
    index('bets_pending_due_idx').on(t.dueAt).where(sql`${t.status} = 'pending'`),
    check('bets_direction_check', sql`${t.direction} in ('up', 'down')`),
    check('bets_status_check', sql`${t.status} in ('pending', 'completed')`),
    check('bets_result_check', sql`${t.result} is null or ${t.result} in ('W', 'L', 'D')`),
    check('bets_stake_positive_check', sql`${t.stake} > 0`),
    check('bets_leverage_positive_check', sql`${t.leverage} >= 1`),
    check('bets_duration_positive_check', sql`${t.durationMs} > 0`),
    check('bets_start_price_positive_check', sql`${t.startPrice} > 0`),
    check('bets_loss_within_stake_check', sql`${t.profit} is null or ${t.profit} >= -${t.stake}`),
    check(
      'bets_settled_fields_check',
      sql`(${t.status} = 'pending' and ${t.endPrice} is null and ${t.endPriceAt} is null and ${t.result} is null and ${t.profit} is null and ${t.settledAt} is null and ${t.settleJournalId} is null)
       or (${t.status} = 'completed' and ${t.endPrice} > 0 and ${t.endPriceAt} is not null and ${t.result} is not null and ${t.profit} is not null and ${t.settledAt} is not null and ${t.settleJournalId} is not null and ${t.settlementError} is null)`,
    ),
  ],
);
