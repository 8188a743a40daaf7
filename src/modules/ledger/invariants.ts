import { sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { Decimal } from '../../shared/decimal.js';

/** What `reconcile` found wrong; every list empty means the ledger is sound. */
export interface ReconcileReport {
  /** journals whose entries do not sum to zero in some asset */
  unbalancedJournals: { journalId: string; asset: string; total: string }[];
  /** wallet accounts whose stored balance differs from the sum of their entries */
  balanceMismatches: { accountId: string; code: string; stored: string; fromEntries: string }[];
  /** wallet accounts whose entry chain (before/after/version) is broken */
  brokenChains: { accountId: string; code: string }[];
  /** total of all entries per asset across the whole ledger: must be zero */
  assetTotals: { asset: string; total: string }[];
}

/**
 * Recomputes every balance from the entries and checks each rule of the ledger: journals balance
 * per asset, stored balances equal their entries, each account's entries chain
 * (balance_before of one = balance_after of the previous, versions 1, 2, 3 …).
 */
export async function reconcile(db: Queryable): Promise<ReconcileReport> {
  const unbalanced = await db.execute<{ journal_id: string; asset: string; total: string }>(sql`
    select journal_id::text, asset, sum(amount)::text as total
      from ledger_entries group by journal_id, asset having sum(amount) <> 0 limit 100`);
  const mismatches = await db.execute<{ id: string; code: string; stored: string; from_entries: string }>(sql`
    select a.id::text, a.code, a.balance::text as stored, coalesce(sum(e.amount), 0)::numeric(38, 8)::text as from_entries
      from ledger_accounts a left join ledger_entries e on e.account_id = a.id
     where a.balance is not null
     group by a.id
    having a.balance <> coalesce(sum(e.amount), 0)
     limit 100`);
  const broken = await db.execute<{ id: string; code: string }>(sql`
    select distinct a.id::text, a.code
      from ledger_accounts a
      join lateral (
        select balance_before, balance_after, account_version,
               lag(balance_after) over (order by account_version) as previous_after,
               row_number() over (order by account_version) as n
          from ledger_entries where account_id = a.id
      ) c on true
     where a.balance is not null
       and (c.account_version <> c.n
            or (c.n = 1 and c.balance_before <> 0)
            or (c.n > 1 and c.balance_before <> c.previous_after))
     limit 100`);
  const totals = await db.execute<{ asset: string; total: string }>(sql`
    select asset, sum(amount)::text as total from ledger_entries group by asset order by asset`);
  return {
    unbalancedJournals: unbalanced.rows.map((r) => ({
      journalId: r.journal_id,
      asset: r.asset,
      total: r.total,
    })),
    balanceMismatches: mismatches.rows.map((r) => ({
      accountId: r.id,
      code: r.code,
      stored: r.stored,
      fromEntries: r.from_entries,
    })),
    brokenChains: broken.rows.map((r) => ({ accountId: r.id, code: r.code })),
    assetTotals: totals.rows.map((r) => ({ asset: r.asset, total: r.total })),
  };
}

/** True when `reconcile` found nothing wrong: every list empty and every asset summing to zero. */
export function isReconciled(report: ReconcileReport): boolean {
  return (
    report.unbalancedJournals.length === 0 &&
    report.balanceMismatches.length === 0 &&
    report.brokenChains.length === 0 &&
    report.assetTotals.every((t) => new Decimal(t.total).isZero())
  );
}
