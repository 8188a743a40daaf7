import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { journalTransactions } from '../ledger/tables.js';
import { users } from '../users/tables.js';
import { wallets } from '../wallets/tables.js';

/** Whose trade it is and on what: the owner, the wallet and the symbol with its two assets. */
function tradeOwnerColumns() {
  return {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    symbol: text('symbol').notNull(),
    baseAsset: text('base_asset').notNull(),
    quoteAsset: text('quote_asset').notNull(),
  };
}

/**
 * A short position: base asset sold without being held, to be bought back. Its `collateral` (the
 * sale proceeds plus the initial margin, quote asset) sits in the wallet's locked quote account;
 * the base asset balance never goes negative. One open short per wallet and symbol: shorting more
 * adds to it at a weighted entry price. Closing it (by the owner or by liquidation) releases the
 * collateral pro rata; a fully closed position keeps its row, `quantity` 0 and `closed_at` set.
 */
export const positions = pgTable(
  'positions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ...tradeOwnerColumns(),
    status: text('status', { enum: ['open', 'closed'] }).notNull(),
    /** base asset still owed */
    quantity: numeric('quantity', { precision: 38, scale: 8 }).notNull(),
    /** weighted average sale price, quote asset per base unit */
    entryPrice: numeric('entry_price', { precision: 38, scale: 8 }).notNull(),
    /** quote asset held in the wallet's locked account for this position: proceeds + margin */
    collateral: numeric('collateral', { precision: 38, scale: 8 }).notNull(),
    /** the initial-margin part of the collateral, quote asset */
    margin: numeric('margin', { precision: 38, scale: 8 }).notNull(),
    /** opening fees not yet attributed to a close, quote asset (for realized P&L) */
    openFees: numeric('open_fees', { precision: 38, scale: 8 }).notNull(),
    /** realized P&L of the closes so far, quote asset */
    realizedPnl: numeric('realized_pnl', { precision: 38, scale: 8 }).notNull().default('0'),
    openedAt: timestamp('opened_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('positions_one_open_per_wallet_symbol_key')
      .on(t.walletId, t.symbol)
      .where(sql`${t.status} = 'open'`),
    index('positions_user_status_idx').on(t.userId, t.status),
    index('positions_open_symbol_idx').on(t.symbol).where(sql`${t.status} = 'open'`),
    check(
      'positions_status_check',
      sql`(${t.status} = 'open' and ${t.quantity} > 0 and ${t.closedAt} is null)
        or (${t.status} = 'closed' and ${t.quantity} = 0 and ${t.collateral} = 0 and ${t.margin} = 0 and ${t.closedAt} is not null)`,
    ),
    check('positions_entry_price_positive_check', sql`${t.entryPrice} > 0`),
    check('positions_collateral_non_negative_check', sql`${t.collateral} >= 0 and ${t.margin} >= 0`),
    check('positions_margin_within_collateral_check', sql`${t.margin} <= ${t.collateral}`),
    check('positions_open_fees_non_negative_check', sql`${t.openFees} >= 0`),
  ],
);

/**
 * A market order and its single fill. Amounts are NUMERIC(38,8); `notional` and `fee` in the quote
 * asset. Shorts and their closes name their position; a close carries its realized P&L, and a close
 * the liquidation job made is marked `liquidation`.
 */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ...tradeOwnerColumns(),
    clientOrderId: text('client_order_id'),
    side: text('side', { enum: ['buy', 'sell', 'short', 'close_short'] }).notNull(),
    quantity: numeric('quantity', { precision: 38, scale: 8 }).notNull(),
    price: numeric('price', { precision: 38, scale: 8 }).notNull(),
    notional: numeric('notional', { precision: 38, scale: 8 }).notNull(),
    fee: numeric('fee', { precision: 38, scale: 8 }).notNull(),
    status: text('status', { enum: ['filled'] }).notNull(),
    positionId: uuid('position_id').references(() => positions.id),
    /** close_short only: (entry − exit) × quantity − the fees of both legs, quote asset */
    realizedPnl: numeric('realized_pnl', { precision: 38, scale: 8 }),
    liquidation: boolean('liquidation').notNull().default(false),
    journalId: bigint('journal_id', { mode: 'number' })
      .notNull()
      .unique()
      .references(() => journalTransactions.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('orders_user_client_order_id_key').on(t.userId, t.clientOrderId),
    index('orders_user_journal_idx').on(t.userId, t.journalId),
    index('orders_wallet_journal_idx').on(t.walletId, t.journalId),
    check('orders_side_check', sql`${t.side} in ('buy', 'sell', 'short', 'close_short')`),
    check('orders_status_check', sql`${t.status} = 'filled'`),
    check('orders_quantity_positive_check', sql`${t.quantity} > 0`),
    check('orders_price_positive_check', sql`${t.price} > 0`),
    check('orders_notional_positive_check', sql`${t.notional} > 0`),
    check('orders_fee_non_negative_check', sql`${t.fee} >= 0`),
    check(
      'orders_position_check',
      sql`(${t.side} in ('short', 'close_short')) = (${t.positionId} is not null)`,
    ),
    check(
      'orders_close_fields_check',
      sql`(${t.side} = 'close_short') = (${t.realizedPnl} is not null) and (not ${t.liquidation} or ${t.side} = 'close_short')`,
    ),
  ],
);

/**
 * The average-cost book of one asset in one wallet, as the portfolio reads it: what the wallet's
 * buys and sells leave, updated with each fill in the transaction that writes it. `quantity` is what
 * the book holds (bought and not yet sold; units deposited are not in it), `cost` what those units
 * cost, fees included. Both are NUMERIC without a scale: a sell takes out `cost × sold / quantity`,
 * which decimal.js computes to 60 significant digits, and the stored value is exactly that, so a
 * read gives what replaying every fill would (rounding either to 8 decimals would not).
 */
export const costBasis = pgTable(
  'cost_basis',
  {
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    /** the base asset of the symbols traded */
    asset: text('asset').notNull(),
    /** base asset units the book holds */
    quantity: numeric('quantity').notNull(),
    /** quote asset paid for them, fees included */
    cost: numeric('cost').notNull(),
    /** the journal of the last fill applied: fills are applied in journal order */
    lastJournalId: bigint('last_journal_id', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.walletId, t.asset] }),
    check('cost_basis_quantity_non_negative_check', sql`${t.quantity} >= 0`),
  ],
);

/**
 * A wallet's realized P&L in the quote asset: the sells by the average-cost method plus the closed
 * shorts' `realized_pnl`, summed in journal order (the order the portfolio always summed them in:
 * a sum at 60 significant digits depends on it). NUMERIC without a scale, as `cost_basis`.
 */
export const walletPnl = pgTable('wallet_pnl', {
  walletId: uuid('wallet_id')
    .primaryKey()
    .references(() => wallets.id),
  realizedPnl: numeric('realized_pnl').notNull(),
  /** the journal of the last fill applied */
  lastJournalId: bigint('last_journal_id', { mode: 'number' }).notNull(),
});
