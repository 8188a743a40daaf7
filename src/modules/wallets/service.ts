import type { Db, Queryable, Tx } from '../../platform/db/client.js';
import { GroupCommit, type Settled } from '../../platform/db/group-commit.js';
import type { AccountEventSink } from '../../platform/events/bus.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import {
  type BatchItemOutcome,
  type FinalResponse,
  type IdempotencyScope,
  runIdempotent,
  runIdempotentBatch,
} from '../../platform/http/idempotency.js';
import { assert, defined } from '../../shared/assert.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { type Decimal, formatDecimal } from '../../shared/decimal.js';
import { NotFoundError } from '../../shared/errors.js';
import {
  type AssetBalance,
  available,
  isRefusal,
  type JournalRequest,
  type Ledger,
  type PostedJournal,
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
 * A wallet the caller may read (their own; anyone's for an admin).
 * @throws {NotFoundError} (404) when it does not exist or the caller may not read it (answered alike)
 */
export async function getWallet(
  db: Queryable,
  viewer: Principal,
  walletId: string,
  quoteAsset: string,
): Promise<WalletView> {
  const wallet = await readableWallet(db, viewer, walletId);
  const balances = await readWalletBalances(db, [wallet.id]);
  return toView(wallet, balances.get(wallet.id) ?? [], quoteAsset);
}

async function readableWallet(db: Queryable, viewer: Principal, walletId: string): Promise<WalletRow> {
  const wallet = await findWalletById(db, walletId);
  if (!wallet || !mayRead(viewer, wallet.userId)) throw new NotFoundError(`wallet ${walletId} not found`);
  return wallet;
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
 * @throws {BalanceLimitError} (422) a deposit would take the balance beyond NUMERIC(38,8)
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
  return operationView(wallet.id, input, await ledger.post(tx, operationJournal(wallet.id, input)));
}

/** The journal of an operation: between the wallet's available account and `system:funding`. */
function operationJournal(walletId: string, input: OperationInput): JournalRequest {
  const own = available(walletId);
  const funding = system('funding');
  return {
    kind: input.type === 'DEPOSIT' ? 'deposit' : 'withdrawal',
    postings: [
      input.type === 'DEPOSIT'
        ? { source: funding, destination: own, asset: input.asset, amount: input.amount }
        : { source: own, destination: funding, asset: input.asset, amount: input.amount },
    ],
    metadata: { operation_type: input.type, wallet_id: walletId },
  };
}

function operationView(walletId: string, input: OperationInput, journal: PostedJournal): OperationView {
  return {
    id: journal.journalId,
    wallet_id: walletId,
    operation_type: input.type,
    asset: input.asset,
    amount: formatDecimal(input.amount),
    created_at: journal.createdAt.toISOString(),
  };
}

/** Operations run in one database transaction at most (one group commit). */
const OPERATION_BATCH_SIZE_MAX = 256;
/** Wallet owners remembered by one process at most. */
const WALLET_OWNER_CACHE_SIZE_MAX = 100_000;
/** Operations waiting for one wallet at most before new ones are refused with 503. */
const OPERATION_QUEUE_LENGTH_MAX = 10_000;

interface QueuedOperation {
  userId: string;
  input: OperationInput;
  scope: IdempotencyScope | undefined;
}

/**
 * Deposits and withdrawals, each answered exactly as if it ran alone, with concurrent operations on
 * one existing wallet grouped into one database transaction (group commit). Each operation keeps its
 * own journal, its own accept/reject decision in arrival order, its own idempotency record and its
 * own answer, sent only after its batch has committed. SPEC §6: one operation per transaction tops
 * out near 1,000/s on one row, because the row lock is held across each commit.
 */
export class WalletOperations {
  private readonly groups: GroupCommit<QueuedOperation, FinalResponse>;
  /**
   * Owner of each wallet seen: a wallet never changes owner and is never deleted, so this saves a
   * query per operation on the hot path. Bounded: cleared when full.
   */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly accountEvents?: AccountEventSink,
  ) {
    this.groups = new GroupCommit((walletId, items) => this.runBatch(walletId, items), {
      batchSizeMax: OPERATION_BATCH_SIZE_MAX,
      queueLengthMax: OPERATION_QUEUE_LENGTH_MAX,
    });
  }

  /**
   * Applies one operation for `userId`, once per idempotency key (`scope`), and announces it as
   * `wallet.operation` on the owner's account stream.
   * @returns the answer to send: 201 with the operation, a replayed answer, or a stored final error
   * @throws {NotFoundError} (404), {WalletLimitError} (409), {InsufficientFundsError} (400) when the
   *   request has no idempotency key (with one, these are stored and returned as the answer);
   *   {IdempotencyInProgressError}, {IdempotencyKeyReusedError} (409); {TransactionContentionError} (503)
   */
  async submit(
    userId: string,
    input: OperationInput,
    scope: IdempotencyScope | undefined,
  ): Promise<FinalResponse> {
    const response = await this.apply(userId, input, scope);
    // Announced once, when it happened now (not for a replayed answer).
    if (response.status === 201 && !response.replayed)
      this.accountEvents?.(userId, 'wallet.operation', JSON.parse(response.body));
    return response;
  }

  private async apply(
    userId: string,
    input: OperationInput,
    scope: IdempotencyScope | undefined,
  ): Promise<FinalResponse> {
    // Ledger account codes contain the wallet id as text: one spelling per wallet.
    assert(input.walletId === input.walletId.toLowerCase(), 'wallet ids are lower-case');
    let ownerId = this.owners.get(input.walletId);
    if (ownerId === undefined) {
      ownerId = (await findWalletById(this.db, input.walletId))?.userId;
      if (ownerId !== undefined) {
        if (this.owners.size >= WALLET_OWNER_CACHE_SIZE_MAX) this.owners.clear();
        this.owners.set(input.walletId, ownerId);
      }
    }
    if (ownerId !== undefined && ownerId !== userId)
      throw new NotFoundError(`wallet ${input.walletId} not found`);
    if (ownerId === undefined) {
      // A wallet to create (or a 404): the rare path, one transaction of its own.
      return await runIdempotent(this.db, scope, async (tx) => ({
        status: 201,
        body: await applyOperation(tx, this.ledger, userId, input),
      }));
    }
    return await this.groups.submit(input.walletId, { userId, input, scope });
  }

  private async runBatch(walletId: string, items: QueuedOperation[]): Promise<Settled<FinalResponse>[]> {
    return await runIdempotentBatch(
      this.db,
      items,
      (item) => item.scope,
      async (tx, toRun): Promise<BatchItemOutcome[]> => {
        const posted = await this.ledger.postBatch(
          tx,
          toRun.map((item) => operationJournal(walletId, item.input)),
        );
        return toRun.map((item, n) => {
          const journal = defined(posted[n]);
          if (isRefusal(journal)) return { ok: false, error: journal };
          const view = operationView(walletId, item.input, journal);
          return { ok: true, status: 201, body: JSON.stringify(view) };
        });
      },
    );
  }
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
    account: string;
    asset: string;
    amount: string;
    balance_after: string | null;
  }[];
}

/**
 * The journals that touched a wallet the caller may read, newest first, `limit` per page.
 * @throws {NotFoundError} (404) the wallet does not exist or the caller may not read it
 * @throws {ValidationError} (422) a cursor this server did not issue
 */
export async function listWalletTransactions(
  db: Queryable,
  viewer: Principal,
  walletId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: HistoryView[]; next_cursor: string | null }> {
  const before = decodeCursor('j', cursor);
  const wallet = await readableWallet(db, viewer, walletId);
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
        account: e.account,
        asset: e.asset,
        amount: formatDecimal(e.amount),
        balance_after: e.balanceAfter === null ? null : formatDecimal(e.balanceAfter),
      })),
    })),
    next_cursor: nextCursor,
  };
}
