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

/**
 * What a wallet's locked money is held for. Each purpose has accounts of its own, as pgledger and
 * Formance keep one account per commitment, so that every locked balance can be checked against
 * the rows that explain it (a pending bet's stake, an open short's collateral) and no commitment
 * can spend another's money.
 */
export type LockPurpose =
  /** the stakes of the wallet's pending bets, one account per wallet and asset */
  | 'bet_escrow'
  /** one open short's sale proceeds and margin, one account per position */
  | 'short_collateral'
  /** what resting orders reserve, one account per wallet and asset (none rest yet: always 0) */
  | 'order_reserve';

/**
 * A purpose as `ledger_accounts.purpose` stores it: a lock purpose, or `legacy` for the single
 * locked account per wallet and asset that the ledger had before migration 0008. Those keep their
 * history but hold 0 for ever (a CHECK says so), and no `AccountRef` can name them.
 */
export type AccountPurpose = LockPurpose | 'legacy';

/** Where a posting takes money from or puts it to. */
export type AccountRef =
  | { walletId: string; bucket: 'available' }
  | { walletId: string; bucket: 'locked'; purpose: 'bet_escrow' | 'order_reserve' }
  /** `reference` is the position id */
  | { walletId: string; bucket: 'locked'; purpose: 'short_collateral'; reference: string }
  | { system: SystemAccountName };

/** A wallet's account: every `AccountRef` but a system one. */
export type WalletAccountRef = Exclude<AccountRef, { system: SystemAccountName }>;

/**
 * Stable account code: `wallet:<uuid>:USDT:available`, `wallet:<uuid>:USDT:locked:bet_escrow`,
 * `wallet:<uuid>:USDT:locked:short_collateral:<position uuid>` or `system:fees:USDT`.
 */
export function accountCode(ref: AccountRef, asset: string): string {
  if ('system' in ref) return `system:${ref.system}:${asset}`;
  const wallet = `wallet:${ref.walletId}:${asset}`;
  if (ref.bucket === 'available') return `${wallet}:available`;
  return `${wallet}:locked:${ref.purpose}${ref.purpose === 'short_collateral' ? `:${ref.reference}` : ''}`;
}

/** A wallet's spendable account of one asset. */
export function available(walletId: string): AccountRef {
  return { walletId, bucket: 'available' };
}

/** A wallet's escrow of one asset: the stakes of its pending bets. */
export function betEscrow(walletId: string): AccountRef {
  return { walletId, bucket: 'locked', purpose: 'bet_escrow' };
}

/** The collateral (sale proceeds and margin) of one short position of the wallet. */
export function shortCollateral(walletId: string, positionId: string): AccountRef {
  return { walletId, bucket: 'locked', purpose: 'short_collateral', reference: positionId };
}

/** A wallet's reserve of one asset for its resting orders. */
export function orderReserve(walletId: string): AccountRef {
  return { walletId, bucket: 'locked', purpose: 'order_reserve' };
}

/** A system account. */
export function system(name: SystemAccountName): AccountRef {
  return { system: name };
}
