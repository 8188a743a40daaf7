import type { Queryable } from '../../platform/db/client.js';
import {
  comparePurposeBalances,
  type PurposeCheck,
  type PurposeMismatch,
  readPurposeBalances,
} from '../ledger/index.js';
import { openReservations } from './open-orders.js';
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

/**
 * Each wallet's order reserve against its resting orders: the account of a wallet and asset holds
 * the sum of what its open orders and open OCOs reserve.
 */
export async function reconcileOrderReserves(db: Queryable): Promise<PurposeMismatch[]> {
  return comparePurposeBalances(
    'order_reserve',
    (await openReservations(db)).map((r) => ({ ...r, reference: null })),
    await readPurposeBalances(db, 'order_reserve'),
  );
}

/** The order reserves' check, for `reconcile`. */
export const orderReserveCheck: PurposeCheck = { purpose: 'order_reserve', run: reconcileOrderReserves };
