/**
 * Correctness checks: what a scenario verifies in the database once its server is closed and its
 * last request has finished, and the ledger's reconcile at the end of the run. A failed check makes
 * the run exit 1; a missed goal does not.
 */
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { isReconciled, type ReconcileReport } from '../../src/modules/ledger/invariants.js';
import type { Db } from '../../src/platform/db/client.js';
import { Decimal } from '../../src/shared/decimal.js';
import type { LoadResult } from '../load.js';
import { QUOTE_ASSET } from './users.js';

/** A correctness check made after a scenario; a failed one makes the run exit 1. */
export interface Check {
  /** the id of the scenario that made it */
  scenario: string;
  name: string;
  ok: boolean;
  /** the figures it compared, for the printed line and the JSON results */
  detail: string;
}

/**
 * The bounds of what a timed run may have stored: the 201 answers received (each was stored), and
 * the requests sent minus those answered with another status (a request cut off in flight at the
 * end may have been stored or not). Warm-up included.
 */
export function answeredBounds(result: LoadResult): { created: number; atMost: number } {
  const runs = result.warmup ? [result.warmup, result] : [result];
  let created = 0;
  let atMost = 0;
  for (const run of runs) {
    const ok = run.statusCodes['201'] ?? 0;
    created += ok;
    atMost += run.sent - (run.responses - ok);
  }
  return { created, atMost };
}

/**
 * One wallet's available balance in the quote asset and the number of its journals of `kind`,
 * read in one statement (one snapshot).
 * @throws {Error} when the wallet has no account in the quote asset
 */
export async function walletLedgerState(
  db: Db,
  walletId: string,
  kind: string,
): Promise<{ balance: Decimal; journals: number }> {
  const result = await db.$client.query<{ balance: string; journals: string }>(
    `SELECT a.balance::text AS balance,
            (SELECT count(DISTINCT e.journal_id) FROM ledger_entries e
               JOIN journal_transactions j ON j.id = e.journal_id
              WHERE e.account_id = a.id AND j.kind = $3)::text AS journals
       FROM ledger_accounts a
      WHERE a.wallet_id = $1 AND a.asset = $2 AND a.bucket = 'available'`,
    [walletId, QUOTE_ASSET, kind],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`wallet ${walletId} has no ${QUOTE_ASSET} account`);
  return { balance: new Decimal(row.balance), journals: Number(row.journals) };
}

/** The ledger's verdict at the end of the run. */
export interface LedgerCheck {
  ok: boolean;
  report: ReconcileReport;
}

/**
 * Reconciles the whole ledger, once every app is closed and its requests finished: every stored
 * balance equals the sum of its entries, every journal balances, every entry chain is intact,
 * every asset sums to zero, and every locked account holds what its pending bets or open short say.
 */
export async function checkLedger(db: Db): Promise<LedgerCheck> {
  const report = await reconcileAll(db);
  return { ok: isReconciled(report), report };
}

/** The printed line of {@link checkLedger}'s verdict. */
export function ledgerLine({ ok, report }: LedgerCheck): string {
  return (
    `reconcile: ${ok ? 'OK' : 'FAIL'} (${report.unbalancedJournals.length} unbalanced journals, ` +
    `${report.balanceMismatches.length} balance mismatches, ${report.brokenChains.length} broken chains, ` +
    `${report.purposeMismatches.length} locked purpose mismatches; ` +
    `asset totals ${report.assetTotals.map((t) => `${t.asset}=${t.total}`).join(', ') || 'none'})`
  );
}
