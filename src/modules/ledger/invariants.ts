import { sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import { Decimal } from '../../shared/decimal.js';
import type { AccountPurpose, LockPurpose } from './accounts.js';
import { type PurposeBalance, readPurposeBalances } from './repository.js';

/** Most mismatches one purpose reports (as each SQL check of the entries reports at most 100 rows). */
const PURPOSE_MISMATCHES_MAX = 100;

/** A locked account whose balance is not what the rows it stands for say it should be. */
export interface PurposeMismatch {
  purpose: AccountPurpose;
  walletId: string;
  asset: string;
  /** the position id of a `short_collateral` account; null for per-wallet purposes */
  reference: string | null;
  /** the account's stored balance ("0" when there is no such account) */
  balance: string;
  /** what the purpose's own rows say it holds (the pending bets' stakes, the position's collateral) */
  expected: string;
}

/**
 * A check of one lock purpose against the rows of the module that owns it. Whoever composes the
 * modules hands it to `reconcile` (modules/admin's `reconcileAll`): the ledger knows no bets or
 * positions.
 */
export interface PurposeCheck {
  purpose: LockPurpose;
  /** the accounts of `purpose`, and the owner's rows without one, whose amounts differ */
  run(db: Queryable): Promise<PurposeMismatch[]>;
}

/** What a purpose's owner says one of its accounts should hold. */
export interface PurposeExpectation {
  walletId: string;
  asset: string;
  /** the position id for `short_collateral`, else null */
  reference: string | null;
  amount: Decimal | string;
}

/**
 * Compares the accounts of `purpose` with what their owner expects: an account nobody expects must
 * hold 0, an expectation without an account must be 0. At most `PURPOSE_MISMATCHES_MAX` mismatches.
 */
export function comparePurposeBalances(
  purpose: AccountPurpose,
  expected: readonly PurposeExpectation[],
  accounts: readonly PurposeBalance[],
): PurposeMismatch[] {
  const key = (r: { walletId: string; asset: string; reference: string | null }) =>
    `${r.walletId}|${r.asset}|${r.reference ?? ''}`;
  type Row = {
    walletId: string;
    asset: string;
    reference: string | null;
    balance: Decimal;
    expected: Decimal;
  };
  const rows = new Map<string, Row>();
  for (const a of accounts) {
    const { walletId, asset, reference } = a;
    rows.set(key(a), {
      walletId,
      asset,
      reference,
      balance: new Decimal(a.balance),
      expected: new Decimal(0),
    });
  }
  for (const e of expected) {
    const row = rows.get(key(e));
    if (row) row.expected = row.expected.plus(e.amount);
    else {
      const { walletId, asset, reference } = e;
      rows.set(key(e), {
        walletId,
        asset,
        reference,
        balance: new Decimal(0),
        expected: new Decimal(e.amount),
      });
    }
  }
  const mismatches: PurposeMismatch[] = [];
  for (const row of rows.values()) {
    if (row.balance.eq(row.expected)) continue;
    mismatches.push({
      purpose,
      walletId: row.walletId,
      asset: row.asset,
      reference: row.reference,
      balance: row.balance.toFixed(),
      expected: row.expected.toFixed(),
    });
    if (mismatches.length === PURPOSE_MISMATCHES_MAX) break;
  }
  return mismatches;
}

/**
 * The purposes that hold nothing by rule, checked by the ledger itself: the pre-0008 locked
 * accounts were emptied by that migration.
 */
const EMPTY_PURPOSES: readonly AccountPurpose[] = ['legacy'];

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
  /**
   * the purposes whose locked accounts were compared with what they stand for: always `legacy`
   * (it must hold 0), then those of the checks `reconcile` was given
   */
  purposesChecked: AccountPurpose[];
  /** locked accounts whose balance differs from the rows of their purpose */
  purposeMismatches: PurposeMismatch[];
}

/** The rules of the entries alone: the part of a `ReconcileReport` that reads no purpose. */
export type EntriesReport = Omit<ReconcileReport, 'purposesChecked' | 'purposeMismatches'>;

/**
 * Recomputes every balance from the entries and checks each rule of the ledger (`reconcileEntries`),
 * then each locked purpose against what it stands for: the ledger's own empty purposes, and every
 * one of `purposeChecks` (the bets' escrow, the shorts' collateral).
 */
export async function reconcile(
  db: Queryable,
  purposeChecks: readonly PurposeCheck[] = [],
): Promise<ReconcileReport> {
  const entries = await reconcileEntries(db);
  const purposeMismatches: PurposeMismatch[] = [];
  for (const purpose of EMPTY_PURPOSES)
    purposeMismatches.push(...comparePurposeBalances(purpose, [], await readPurposeBalances(db, purpose)));
  for (const check of purposeChecks) purposeMismatches.push(...(await check.run(db)));
  return {
    ...entries,
    purposesChecked: [...EMPTY_PURPOSES, ...purposeChecks.map((c) => c.purpose)],
    purposeMismatches,
  };
}

/**
 * Checks the rules of the entries: journals balance per asset, stored balances equal their
 * entries, each account's entries chain (balance_before of one = balance_after of the previous,
 * versions 1, 2, 3 …). Reads no column of migration 0008, so it checks a database of an earlier
 * version too (the migration test does).
 */
export async function reconcileEntries(db: Queryable): Promise<EntriesReport> {
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

/**
 * True when `reconcile` found nothing wrong: every list empty and every asset summing to zero. A
 * purpose is vouched for only if the report lists it in `purposesChecked`.
 */
export function isReconciled(report: ReconcileReport): boolean {
  return (
    report.unbalancedJournals.length === 0 &&
    report.balanceMismatches.length === 0 &&
    report.brokenChains.length === 0 &&
    report.assetTotals.every((t) => new Decimal(t.total).isZero()) &&
    report.purposeMismatches.length === 0
  );
}
