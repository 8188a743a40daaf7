/** Counterparty accounts owned by the broker itself; they store no balance and are never locked. */
export type SystemAccountName =
  /** source of paper money: registration grants and deposits */
  | 'funding'
  /** the market counterparty of every fill, one per asset (pgledger's "liquidity" account) */
  | 'exchange'
  /** taker fees collected */
  | 'fees'
  /** absorbs a liquidated short's loss beyond its collateral, so no user balance goes below zero */
  | 'insurance'
  /** the other side of every price bet: pays profits above the stake, receives losses */
  | 'house';

/** Where a posting takes money from or puts it to. */
export type AccountRef = { walletId: string; bucket: 'available' | 'locked' } | { system: SystemAccountName };

/** Stable account code, e.g. `wallet:<uuid>:USDT:available` or `system:fees:USDT`. */
export function accountCode(ref: AccountRef, asset: string): string {
  return 'system' in ref ? `system:${ref.system}:${asset}` : `wallet:${ref.walletId}:${asset}:${ref.bucket}`;
}

/** A wallet's spendable account of one asset. */
export function available(walletId: string): AccountRef {
  return { walletId, bucket: 'available' };
}

/** A wallet's account of one asset held for an open commitment (short margin, bet escrow). */
export function locked(walletId: string): AccountRef {
  return { walletId, bucket: 'locked' };
}

/** A system account. */
export function system(name: SystemAccountName): AccountRef {
  return { system: name };
}
