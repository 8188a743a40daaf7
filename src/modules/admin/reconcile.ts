import type { Db } from '../../platform/db/client.js';
import { withTransaction } from '../../platform/db/tx.js';
import { betEscrowCheck } from '../bets/index.js';
import { type PurposeCheck, type ReconcileReport, reconcile } from '../ledger/index.js';
import { orderReserveCheck, shortCollateralCheck } from '../trading/index.js';

/** The locked purposes whose source rows live in other modules than the ledger. */
export const PURPOSE_CHECKS: readonly PurposeCheck[] = [
  betEscrowCheck,
  shortCollateralCheck,
  orderReserveCheck,
];

/**
 * The whole ledger's reconcile, as operators run it (`npm run reconcile`, `GET /api/v1/admin/reconcile`)
 * and the tests and the benchmark check it: the ledger's own rules and every locked purpose against
 * its rows (pending bets' stakes, open shorts' collateral). All of it is read in one REPEATABLE READ
 * transaction, so on a running system a bet placed between two reads cannot show as a mismatch.
 */
export async function reconcileAll(db: Db): Promise<ReconcileReport> {
  return await withTransaction(db, (tx) => reconcile(tx, PURPOSE_CHECKS), {
    isolationLevel: 'repeatable read',
  });
}
