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

/** Whose it is and on what: the owner, the wallet and the symbol. */
function ownerColumns() {
  return {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    symbol: text('symbol').notNull(),
  };
}

/** Whose trade it is and on what: the owner, the wallet and the symbol with its two assets. */
function tradeOwnerColumns() {
  return {
    ...ownerColumns(),
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

/** Order types: `market` fills at once; the others rest until their price is reached (Binance's spot types). */
export const ORDER_TYPES = [
  'market',
  'limit',
  'limit_maker',
  'stop_loss',
  'stop_loss_limit',
  'take_profit',
  'take_profit_limit',
] as const;
/** Time in force of the limit types: good till canceled, immediate or cancel, fill or kill. */
export const TIME_IN_FORCES = ['gtc', 'ioc', 'fok'] as const;
/**
 * An order's state: `new` rests (or waits for its trigger), `filled` filled whole, `canceled` by its
 * owner or by its OCO's other leg, `expired` an IOC/FOK that could not fill or an order whose short
 * is gone, `rejected` a triggered order the wallet could not pay for.
 */
export const ORDER_STATUSES = ['new', 'filled', 'canceled', 'expired', 'rejected'] as const;

/**
 * An OCO: two legs (a limit and a stop) on one quantity; one filling or triggering cancels the
 * other. What the pair may spend is reserved once, here (the legs reserve 0 of their own), while
 * the list is open.
 */
export const orderLists = pgTable(
  'order_lists',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ...ownerColumns(),
    status: text('status', { enum: ['open', 'done'] }).notNull(),
    /** the asset reserved in the wallet's `order_reserve` account */
    reserveAsset: text('reserve_asset').notNull(),
    /** what the list holds reserved now; 0 once done */
    reserved: numeric('reserved', { precision: 38, scale: 8 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('order_lists_wallet_open_idx').on(t.walletId).where(sql`${t.status} = 'open'`),
    check('order_lists_status_check', sql`${t.status} in ('open', 'done')`),
    check(
      'order_lists_reserved_check',
      sql`${t.reserved} >= 0 and (${t.status} = 'open' or ${t.reserved} = 0)`,
    ),
  ],
);

/**
 * An order: market (filled at once) or resting (limit and stop types, filled by the matcher). Amounts
 * are NUMERIC(38,8); `price` is the limit price, `stop_price` the trigger; an order fills whole, once,
 * at `avg_fill_price`, with `notional` and `fee` in the quote asset and the fill's `journal_id`. While
 * it rests, `reserved` of `reserve_asset` sits in the wallet's `order_reserve` account (0 for an OCO
 * leg: its list holds it). Shorts and their closes name their position; a close carries its realized
 * P&L, and a close the liquidation job made is marked `liquidation`. `seq` orders the owner's list.
 */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ...tradeOwnerColumns(),
    clientOrderId: text('client_order_id'),
    side: text('side', { enum: ['buy', 'sell', 'short', 'close_short'] }).notNull(),
    type: text('type', { enum: ORDER_TYPES }).notNull().default('market'),
    timeInForce: text('time_in_force', { enum: TIME_IN_FORCES }),
    quantity: numeric('quantity', { precision: 38, scale: 8 }).notNull(),
    /** the limit price of the limit types, quote asset per base unit */
    price: numeric('price', { precision: 38, scale: 8 }),
    /** the trigger of the stop and take-profit types (last price) */
    stopPrice: numeric('stop_price', { precision: 38, scale: 8 }),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    avgFillPrice: numeric('avg_fill_price', { precision: 38, scale: 8 }),
    notional: numeric('notional', { precision: 38, scale: 8 }),
    fee: numeric('fee', { precision: 38, scale: 8 }),
    liquidity: text('liquidity', { enum: ['maker', 'taker'] }),
    reserveAsset: text('reserve_asset'),
    reserved: numeric('reserved', { precision: 38, scale: 8 }).notNull().default('0'),
    orderListId: uuid('order_list_id').references(() => orderLists.id),
    replacedBy: uuid('replaced_by'),
    triggeredAt: timestamp('triggered_at', { withTimezone: true, mode: 'date' }),
    positionId: uuid('position_id').references(() => positions.id),
    /** close_short only: (entry − exit) × quantity − the fees of both legs, quote asset */
    realizedPnl: numeric('realized_pnl', { precision: 38, scale: 8 }),
    liquidation: boolean('liquidation').notNull().default(false),
    /** the fill's journal (null until filled) */
    journalId: bigint('journal_id', { mode: 'number' })
      .unique()
      .references(() => journalTransactions.id),
    seq: bigint('seq', { mode: 'number' }).notNull().default(sql`nextval('orders_seq')`),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('orders_user_client_order_id_key').on(t.userId, t.clientOrderId),
    index('orders_user_seq_idx').on(t.userId, t.seq),
    index('orders_wallet_journal_idx').on(t.walletId, t.journalId),
    index('orders_open_symbol_idx').on(t.symbol).where(sql`${t.status} = 'new'`),
    index('orders_open_wallet_idx').on(t.walletId, t.symbol).where(sql`${t.status} = 'new'`),
    index('orders_open_position_idx').on(t.positionId).where(sql`${t.status} = 'new'`),
    check('orders_side_check', sql`${t.side} in ('buy', 'sell', 'short', 'close_short')`),
    check(
      'orders_type_check',
      sql`${t.type} in ('market', 'limit', 'limit_maker', 'stop_loss', 'stop_loss_limit', 'take_profit', 'take_profit_limit')`,
    ),
    check('orders_status_check', sql`${t.status} in ('new', 'filled', 'canceled', 'expired', 'rejected')`),
    check(
      'orders_prices_check',
      sql`(${t.type} in ('limit', 'limit_maker', 'stop_loss_limit', 'take_profit_limit')) = (${t.price} is not null)
        and (${t.type} in ('stop_loss', 'stop_loss_limit', 'take_profit', 'take_profit_limit')) = (${t.stopPrice} is not null)
        and (${t.type} in ('limit', 'stop_loss_limit', 'take_profit_limit')) = (${t.timeInForce} is not null)
        and (${t.price} is null or ${t.price} > 0) and (${t.stopPrice} is null or ${t.stopPrice} > 0)`,
    ),
    check(
      'orders_fill_check',
      sql`(${t.status} = 'filled') = (${t.journalId} is not null)
        and (${t.status} = 'filled') = (${t.avgFillPrice} is not null and ${t.notional} is not null and ${t.fee} is not null and ${t.liquidity} is not null)`,
    ),
    check('orders_quantity_positive_check', sql`${t.quantity} > 0`),
    check('orders_avg_fill_price_positive_check', sql`${t.avgFillPrice} > 0`),
    check('orders_notional_positive_check', sql`${t.notional} > 0`),
    check('orders_fee_non_negative_check', sql`${t.fee} >= 0`),
    check(
      'orders_reserved_check',
      sql`${t.reserved} >= 0 and (${t.status} = 'new' or ${t.reserved} = 0)
        and (${t.reserved} = 0 or ${t.reserveAsset} is not null)`,
    ),
    check(
      'orders_position_check',
      sql`(${t.side} = 'close_short' or (${t.side} = 'short' and ${t.status} = 'filled')) = (${t.positionId} is not null)`,
    ),
    check(
      'orders_close_fields_check',
      sql`(${t.side} = 'close_short' and ${t.status} = 'filled') = (${t.realizedPnl} is not null) and (not ${t.liquidation} or ${t.side} = 'close_short')`,
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
