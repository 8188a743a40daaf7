import type { Queryable } from '../../platform/db/client.js';
import { formatDecimal } from '../../shared/decimal.js';
import { NotFoundError } from '../../shared/errors.js';
import { type AssetBalance, readWalletBalances } from '../ledger/index.js';
import { findDefaultWallet, findUserWallet, listUserWallets, type WalletRow } from './repository.js';

/** Wallets a user may hold at most. */
export const WALLET_COUNT_MAX = 100;

/** A wallet with its balances: what the wallet routes answer (amounts are decimal strings). */
export interface WalletView {
  id: string;
  name: string;
  is_default: boolean;
  /** available balance of the quote asset */
  balance: string;
  balances: AssetBalance[];
  created_at: string;
}

function toView(wallet: WalletRow, balances: AssetBalance[], quoteAsset: string): WalletView {
  const shown = balances
    .map((b) => ({ asset: b.asset, available: formatDecimal(b.available), locked: formatDecimal(b.locked) }))
    .filter((b) => b.available !== '0' || b.locked !== '0' || b.asset === quoteAsset);
  const quote = shown.find((b) => b.asset === quoteAsset);
  return {
    id: wallet.id,
    name: wallet.name,
    is_default: wallet.isDefault,
    balance: quote?.available ?? '0',
    balances: shown,
    created_at: wallet.createdAt.toISOString(),
  };
}

/** The caller's wallets with balances, the default one first. */
export async function listWallets(db: Queryable, userId: string, quoteAsset: string): Promise<WalletView[]> {
  const rows = await listUserWallets(db, userId, WALLET_COUNT_MAX);
  const balances = await readWalletBalances(
    db,
    rows.map((w) => w.id),
  );
  return rows.map((w) => toView(w, balances.get(w.id) ?? [], quoteAsset));
}

/**
 * One of the caller's wallets. `walletId` undefined means the default wallet.
 * @throws {NotFoundError} when it does not exist or is another user's (answered alike)
 */
export async function getWallet(
  db: Queryable,
  userId: string,
  walletId: string | undefined,
  quoteAsset: string,
): Promise<WalletView> {
  const wallet = await requireWallet(db, userId, walletId);
  const balances = await readWalletBalances(db, [wallet.id]);
  return toView(wallet, balances.get(wallet.id) ?? [], quoteAsset);
}

/**
 * The caller's wallet row (`walletId` undefined → the default wallet).
 * @throws {NotFoundError} when it does not exist or is another user's
 */
export async function requireWallet(
  db: Queryable,
  userId: string,
  walletId: string | undefined,
): Promise<WalletRow> {
  const wallet = walletId ? await findUserWallet(db, userId, walletId) : await findDefaultWallet(db, userId);
  if (!wallet) throw new NotFoundError(walletId ? `wallet ${walletId} not found` : 'no default wallet');
  return wallet;
}
