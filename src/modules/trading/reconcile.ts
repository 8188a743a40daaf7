import type { Queryable } from '../../platform/db/client.js';
import {
  comparePurposeBalances,
  type PurposeCheck,
  type PurposeMismatch,
  readPurposeBalances,
} from '../ledger/index.js';
import { listOpenPositionsOf } from './repository.js';

/**
 * Each short's collateral account against its position: an open position's account holds its
 * `collateral` (sale proceeds plus margin, less what closes released), the account of a closed
 * position — or of no position at all — holds 0. Reads every open position: for reconcile, not
 * for requests.
 */
export async function reconcileShortCollateral(db: Queryable): Promise<PurposeMismatch[]> {
  const open = await listOpenPositionsOf(db);
  return comparePurposeBalances(
    'short_collateral',
    open.map((p) => ({ walletId: p.walletId, asset: p.quoteAsset, reference: p.id, amount: p.collateral })),
    await readPurposeBalances(db, 'short_collateral'),
  );
}

/** The short collateral's check, for `reconcile`. */
export const shortCollateralCheck: PurposeCheck = {
  purpose: 'short_collateral',
  run: reconcileShortCollateral,
};
