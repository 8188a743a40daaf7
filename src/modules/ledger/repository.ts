import { sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import type { AccountPurpose } from './accounts.js';

/** One asset's balances in a wallet, as decimal strings from NUMERIC(38,8). */
export interface AssetBalance {
  asset: string;
  available: string;
  locked: string;
}

/**
 * Balances per asset of each wallet, read from the wallet accounts' stored balances: `locked` is
 * the sum of the wallet's locked accounts of that asset, whatever their purpose (bet escrow, each
 * short's collateral, order reserve; the emptied pre-0008 account adds 0).
 * @returns a map from wallet id to its balances, sorted by asset; wallets with no account map to []
 */
export async function readWalletBalances(
  db: Queryable,
  walletIds: string[],
): Promise<Map<string, AssetBalance[]>> {
  const result = new Map<string, AssetBalance[]>(walletIds.map((id) => [id, []]));
  if (walletIds.length === 0) return result;
  const rows = await db.execute<{ wallet_id: string; asset: string; available: string; locked: string }>(sql`
    select wallet_id, asset,
           coalesce(sum(balance) filter (where bucket = 'available'), 0)::numeric(38, 8)::text as available,
           coalesce(sum(balance) filter (where bucket = 'locked'), 0)::numeric(38, 8)::text as locked
      from ledger_accounts
     where wallet_id = any(${sql.param(walletIds)}::uuid[])
     group by wallet_id, asset
     order by wallet_id, asset`);
  for (const row of rows.rows) {
    result.get(row.wallet_id)?.push({ asset: row.asset, available: row.available, locked: row.locked });
  }
  return result;
}

/** The stored balance of one locked account of one purpose, as a decimal string from NUMERIC(38,8). */
export interface PurposeBalance {
  walletId: string;
  asset: string;
  /** the position id of a `short_collateral` account; null for per-wallet purposes */
  reference: string | null;
  balance: string;
}

/**
 * Every wallet account of `purpose` with its stored balance, for the modules that own the rows a
 * purpose's money stands for (bets, positions) to check them against the ledger. Reads the whole
 * purpose: meant for reconcile, not for requests.
 */
export async function readPurposeBalances(db: Queryable, purpose: AccountPurpose): Promise<PurposeBalance[]> {
  const rows = await db.execute<{
    wallet_id: string;
    asset: string;
    reference: string | null;
    balance: string;
  }>(sql`
    select wallet_id, asset, reference, balance::text as balance
      from ledger_accounts
     where bucket = 'locked' and purpose = ${purpose}
     order by wallet_id, asset, reference`);
  return rows.rows.map((r) => ({
    walletId: r.wallet_id,
    asset: r.asset,
    reference: r.reference,
    balance: r.balance,
  }));
}

/** One line of a journal as the history shows it; amounts are decimal strings. */
export interface HistoryEntry {
  accountId: string;
  /** null for system accounts */
  walletId: string | null;
  /**
   * what the account is: `available` or `locked` for a wallet's own (`locked` whatever the
   * account's purpose), else the system account's name (`funding`, `exchange`, `fees`, …: the
   * second part of its code)
   */
  account: string;
  asset: string;
  /** signed: negative leaves the account, positive enters it */
  amount: string;
  /** null for system accounts, which keep no stored balance */
  balanceAfter: string | null;
}

/** One journal transaction with all of its entries. */
export interface HistoryJournal {
  journalId: number;
  kind: string;
  metadata: Record<string, string> | null;
  createdAt: Date;
  entries: HistoryEntry[];
}

/**
 * Journal transactions that touched any account of `walletId`, newest first, with all their
 * entries in the order they were written. Each account's entries are read from the
 * (account_id, journal_id) index, at most `limit` per account, so a long history costs no more
 * than a short one.
 * @param beforeJournalId only journals with a smaller id (the page cursor)
 */
export async function readWalletHistory(
  db: Queryable,
  walletId: string,
  limit: number,
  beforeJournalId: number | undefined,
): Promise<HistoryJournal[]> {
  const before = beforeJournalId ?? null;
  const rows = await db.execute<{
    journal_id: string;
    kind: string;
    metadata: Record<string, string> | null;
    created_at: Date;
    account_id: string;
    wallet_id: string | null;
    bucket: string;
    code: string;
    asset: string;
    amount: string;
    balance_after: string | null;
  }>(sql`
    with page as (
      select distinct x.journal_id
        from ledger_accounts a
        cross join lateral (
          select e.journal_id from ledger_entries e
           where e.account_id = a.id and (${before}::bigint is null or e.journal_id < ${before}::bigint)
           order by e.journal_id desc
           limit ${limit}
        ) x
       where a.wallet_id = ${walletId}
       order by x.journal_id desc
       limit ${limit}
    )
    select j.id::text as journal_id, j.kind, j.metadata, j.created_at,
           e.account_id::text, a.wallet_id, a.bucket, a.code, e.asset, e.amount::text, e.balance_after::text
      from page p
      join journal_transactions j on j.id = p.journal_id
      join ledger_entries e on e.journal_id = j.id
      join ledger_accounts a on a.id = e.account_id
     order by j.id desc, e.id`);
  const journals: HistoryJournal[] = [];
  for (const row of rows.rows) {
    const journalId = Number(row.journal_id);
    let journal = journals[journals.length - 1];
    if (!journal || journal.journalId !== journalId) {
      journal = {
        journalId,
        kind: row.kind,
        metadata: row.metadata,
        createdAt: new Date(row.created_at),
        entries: [],
      };
      journals.push(journal);
    }
    journal.entries.push({
      accountId: row.account_id,
      walletId: row.wallet_id,
      account: row.bucket === 'system' ? (row.code.split(':')[1] ?? row.code) : row.bucket,
      asset: row.asset,
      amount: row.amount,
      balanceAfter: row.balance_after,
    });
  }
  return journals;
}
