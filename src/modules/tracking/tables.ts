import { sql } from 'drizzle-orm';
import { bigserial, check, index, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The global list of tracked cryptocurrencies (SPEC C9: one list for every user, as seed 004 has
 * it). `symbol` is the base asset in upper case (`BTC`), unique; `coingecko_id` and `name` come from
 * CoinGecko when the symbol is added. `current_price` and `last_updated` are the newest row of its
 * history, written in the same transaction as that row.
 */
export const trackedCryptos = pgTable(
  'tracked_cryptos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    symbol: text('symbol').notNull().unique('tracked_cryptos_symbol_key'),
    coingeckoId: text('coingecko_id').notNull(),
    name: text('name').notNull(),
    currentPrice: numeric('current_price', { precision: 38, scale: 8 }).notNull(),
    lastUpdated: timestamp('last_updated', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('tracked_cryptos_symbol_check', sql`${t.symbol} ~ '^[A-Z0-9]{1,20}$'`),
    check('tracked_cryptos_current_price_positive_check', sql`${t.currentPrice} > 0`),
  ],
);

/**
 * Prices of a tracked crypto, at most `PRICE_HISTORY_LIMIT` per crypto (trimmed in the transaction
 * that appends); gone with the tracked row (ON DELETE CASCADE). `recorded_at` is when the price was
 * true upstream.
 */
export const trackedPriceHistory = pgTable(
  'tracked_price_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    trackedId: uuid('tracked_id')
      .notNull()
      .references(() => trackedCryptos.id, { onDelete: 'cascade' }),
    price: numeric('price', { precision: 38, scale: 8 }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('tracked_price_history_newest_idx').on(t.trackedId, t.recordedAt.desc(), t.id.desc()),
    check('tracked_price_history_price_positive_check', sql`${t.price} > 0`),
  ],
);
