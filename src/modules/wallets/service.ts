import type { Queryable, Tx } from '../../platform/db/client.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { type Decimal, formatDecimal } from '../../shared/decimal.js';
import { NotFoundError } from '../../shared/errors.js';
import {
  type AssetBalance,
  available,
  type Ledger,
  readWalletBalances,
  readWalletHistory,
  system,
} from '../ledger/index.js';
import { WalletLimitError } from './errors.js';
import {
  countUserWallets,
  findDefaultWallet,
  findUserWallet,
  findWalletById,
  insertWallet,
  insertWalletIfAbsent,
  listUserWallets,
  lockUserForWalletCreation,
  type WalletRow,
} from './repository.js';

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
  let quote = shown.find((b) => b.asset === quoteAsset);
  if (!quote) {
    // A wallet always shows its cash asset, even before its first entry.
    quote = { asset: quoteAsset, available: '0', locked: '0' };
    shown.unshift(quote);
  }
  return {
    id: wallet.id,
    name: wallet.name,
    is_default: wallet.isDefault,
    balance: quote.available,
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

/**
 * Creates a named wallet for the caller.
 * @throws {WalletLimitError} (409) when the caller already holds `WALLET_COUNT_MAX` wallets
 */
export async function createWallet(
  tx: Tx,
  userId: string,
  name: string,
  quoteAsset: string,
): Promise<WalletView> {
  await lockUserForWalletCreation(tx, userId);
  if ((await countUserWallets(tx, userId)) >= WALLET_COUNT_MAX) throw new WalletLimitError(WALLET_COUNT_MAX);
  const wallet = await insertWallet(tx, { userId, name, isDefault: false });
  return toView(wallet, [], quoteAsset);
}

/** A paper funding operation (seed 003): money in from, or out to, the broker's funding account. */
export type OperationType = 'DEPOSIT' | 'WITHDRAW';

/** An operation as `POST /wallets/{id}/operation` answers it. */
export interface OperationView {
  /** the journal transaction's id */
  id: number;
  wallet_id: string;
  operation_type: OperationType;
  asset: string;
  /** decimal string in `asset` */
  amount: string;
  created_at: string;
}

/** An operation to apply: `amount` > 0 of `asset`, at most 8 decimals (checked by the route). */
export interface OperationInput {
  walletId: string;
  type: OperationType;
  asset: string;
  amount: Decimal;
}

/**
 * Applies a deposit or a withdrawal in `tx`: one journal between the wallet's available account and
 * `system:funding`. A deposit to a wallet id that does not exist yet creates that wallet for the
 * caller (seed 003); the asset must have been checked by the caller (`PriceService.knowsAsset`).
 * @throws {NotFoundError} (404) the wallet is another user's, or a withdrawal names no wallet of the caller
 * @throws {WalletLimitError} (409) a deposit would create a wallet beyond the limit
 * @throws {InsufficientFundsError} (400) a withdrawal exceeds the available balance; nothing changes
 */
export async function applyOperation(
  tx: Tx,
  ledger: Ledger,
  userId: string,
  input: OperationInput,
): Promise<OperationView> {
  const wallet =
    input.type === 'DEPOSIT'
      ? await findOrCreateWalletForDeposit(tx, userId, input.walletId)
      : await requireWallet(tx, userId, input.walletId);
  const own = available(wallet.id);
  const funding = system('funding');
  const journal = await ledger.post(tx, {
    kind: input.type === 'DEPOSIT' ? 'deposit' : 'withdrawal',
    postings: [
      input.type === 'DEPOSIT'
        ? { source: funding, destination: own, asset: input.asset, amount: input.amount }
        : { source: own, destination: funding, asset: input.asset, amount: input.amount },
    ],
    metadata: { operation_type: input.type, wallet_id: wallet.id },
  });
  return {
    id: journal.journalId,
    wallet_id: wallet.id,
    operation_type: input.type,
    asset: input.asset,
    amount: formatDecimal(input.amount),
    created_at: journal.createdAt.toISOString(),
  };
}

async function findOrCreateWalletForDeposit(tx: Tx, userId: string, walletId: string): Promise<WalletRow> {
  const existing = await findWalletById(tx, walletId);
  if (existing) {
    if (existing.userId !== userId) throw new NotFoundError(`wallet ${walletId} not found`);
    return existing;
  }
  await lockUserForWalletCreation(tx, userId);
  if ((await countUserWallets(tx, userId)) >= WALLET_COUNT_MAX) throw new WalletLimitError(WALLET_COUNT_MAX);
  const wallet = await insertWalletIfAbsent(tx, { id: walletId, userId, name: 'Wallet' });
  // Another user may have created this id at the same instant: theirs, so "not found" for us.
  if (!wallet || wallet.userId !== userId) throw new NotFoundError(`wallet ${walletId} not found`);
  return wallet;
}

/** A journal of the wallet's history as the transactions route answers it. */
export interface HistoryView {
  id: number;
  kind: string;
  metadata: Record<string, string>;
  created_at: string;
  entries: {
    account_id: string;
    wallet_id: string | null;
    asset: string;
    amount: string;
    balance_after: string | null;
  }[];
}

/**
 * The journals that touched one of the caller's wallets, newest first, `limit` per page.
 * @throws {NotFoundError} (404) the wallet is not the caller's
 * @throws {ValidationError} (422) a cursor this server did not issue
 */
export async function listWalletTransactions(
  db: Queryable,
  userId: string,
  walletId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: HistoryView[]; next_cursor: string | null }> {
  const before = decodeCursor('j', cursor);
  const wallet = await requireWallet(db, userId, walletId);
  const journals = await readWalletHistory(db, wallet.id, limit + 1, before);
  const { page, nextCursor } = pageOf(journals, limit, 'j', (j) => j.journalId);
  return {
    items: page.map((j) => ({
      id: j.journalId,
      kind: j.kind,
      metadata: j.metadata ?? {},
      created_at: j.createdAt.toISOString(),
      entries: j.entries.map((e) => ({
        account_id: e.accountId,
        wallet_id: e.walletId,
        asset: e.asset,
        amount: formatDecimal(e.amount),
        balance_after: e.balanceAfter === null ? null : formatDecimal(e.balanceAfter),
      })),
    })),
    next_cursor: nextCursor,
  };
}
