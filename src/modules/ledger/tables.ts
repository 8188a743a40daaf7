import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { wallets } from '../wallets/tables.js';

/**
 * One balance of one asset. Wallet accounts store their balance, which a CHECK keeps ≥ 0: one
 * `available` account per asset (`wallet:<id>:<asset>:available`) and `locked` accounts, one per
 * purpose (`wallet:<id>:<asset>:locked:bet_escrow`, `…:locked:order_reserve`) or, for a short's
 * collateral, per position (`…:locked:short_collateral:<position id>`, the id in `reference`).
 * Accounts of purpose `legacy` are the one locked account per asset of the ledger before migration
 * 0008: their history stays, their balance is 0 for ever. System accounts (`system:<name>:<asset>`: funding, exchange, fees) are
 * counterparties touched by every fill; they store no balance (NULL) and are never locked, so that
 * orders on different wallets do not queue behind one hot system row. Their balance is the sum of
 * their entries.
 */
export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    code: text('code').notNull().unique(),
    walletId: uuid('wallet_id').references(() => wallets.id),
    asset: text('asset').notNull(),
    bucket: text('bucket', { enum: ['available', 'locked', 'system'] }).notNull(),
    /** what a `locked` account holds money for; null for the other buckets */
    purpose: text('purpose', {
      enum: ['bet_escrow', 'short_collateral', 'order_reserve', 'legacy'],
    }),
    /** the commitment a per-commitment account belongs to: the position id of a `short_collateral` account */
    reference: text('reference'),
    balance: numeric('balance', { precision: 38, scale: 8 }),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('ledger_accounts_id_asset_key').on(t.id, t.asset),
    index('ledger_accounts_wallet_id_idx').on(t.walletId),
    check('ledger_accounts_balance_non_negative_check', sql`${t.balance} >= 0`),
    check(
      'ledger_accounts_kind_check',
      sql`(${t.bucket} = 'system' and ${t.walletId} is null and ${t.balance} is null)
        or (${t.bucket} in ('available', 'locked') and ${t.walletId} is not null and ${t.balance} is not null)`,
    ),
    // Every locked account says what it is for, and only locked accounts have a purpose.
    check(
      'ledger_accounts_purpose_check',
      sql`(${t.bucket} = 'locked') = (${t.purpose} is not null)
        and (${t.purpose} is null or ${t.purpose} in ('bet_escrow', 'short_collateral', 'order_reserve', 'legacy'))`,
    ),
    // Per-position accounts name their position; per-wallet ones name nothing.
    check(
      'ledger_accounts_reference_check',
      sql`(${t.reference} is not null) = (${t.purpose} is not distinct from 'short_collateral')`,
    ),
    // The pre-0008 locked accounts were emptied into the purpose accounts and take no money again.
    check(
      'ledger_accounts_legacy_empty_check',
      sql`${t.purpose} is distinct from 'legacy' or ${t.balance} = 0`,
    ),
  ],
);

/** One atomic movement of money (a "journal"): its entries sum to zero per asset. Append-only. */
export const journalTransactions = pgTable('journal_transactions', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  kind: text('kind').notNull(),
  metadata: jsonb('metadata').$type<Record<string, string>>(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * One signed line of a journal on one account. For wallet accounts it carries the balance before
 * and after and the account version, so history is self-checking. Append-only; a trigger checks
 * that every journal's entries sum to zero per asset.
 */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    journalId: bigint('journal_id', { mode: 'number' })
      .notNull()
      .references(() => journalTransactions.id),
    accountId: bigint('account_id', { mode: 'number' }).notNull(),
    asset: text('asset').notNull(),
    amount: numeric('amount', { precision: 38, scale: 8 }).notNull(),
    balanceBefore: numeric('balance_before', { precision: 38, scale: 8 }),
    balanceAfter: numeric('balance_after', { precision: 38, scale: 8 }),
    accountVersion: bigint('account_version', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      name: 'ledger_entries_account_asset_fk',
      columns: [t.accountId, t.asset],
      foreignColumns: [ledgerAccounts.id, ledgerAccounts.asset],
    }),
    index('ledger_entries_journal_id_idx').on(t.journalId),
    index('ledger_entries_account_id_idx').on(t.accountId, t.id),
    // A wallet's history, newest journal first (GET /wallets/{id}/transactions).
    index('ledger_entries_account_journal_idx').on(t.accountId, t.journalId),
    check('ledger_entries_amount_non_zero_check', sql`${t.amount} <> 0`),
    check(
      'ledger_entries_balance_chain_check',
      sql`(${t.balanceBefore} is null and ${t.balanceAfter} is null and ${t.accountVersion} is null)
        or (${t.balanceAfter} = ${t.balanceBefore} + ${t.amount} and ${t.accountVersion} is not null)`,
    ),
  ],
);
