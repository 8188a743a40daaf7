import type { IdempotencyScope } from '../../platform/commands/idempotency.js';
import type { Answered, CommandRunner, MoneyCommand, Rendering } from '../../platform/commands/runner.js';
import type { Db, Queryable, Tx } from '../../platform/db/client.js';
import { withSavepoint } from '../../platform/db/tx.js';
import type { AccountEventSink } from '../../platform/events/bus.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import { assert, defined } from '../../shared/assert.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { type Decimal, formatDecimal } from '../../shared/decimal.js';
import { DomainError, NotFoundError } from '../../shared/errors.js';
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

/** An operation checked outside the transaction. */
interface PreparedOperation {
  userId: string;
  input: OperationInput;
  /** the wallet exists and is the caller's; else it is created by a deposit (or the answer is 404) */
  walletKnown: boolean;
}

/**
 * The money command of deposits and withdrawals, one lane for all wallets: the operations that
 * arrive while a batch runs share the next transaction (group commit), each keeping its own
 * journal and its own decision in arrival order. One lane, not one per wallet: 64 requests on 64
 * wallets were 64 transactions with a lane each (`npm run bench`, spread: 0.19× the one-row
 * baseline), and are one or two batches with one lane (0.78×); the hot wallet gains the same.
 * SPEC §6: one operation per transaction tops out near 1,000/s on one row, because the row lock
 * is held across each commit.
 */
function operationCommand(ledger: Ledger): MoneyCommand<PreparedOperation, OperationView> {
  return {
    name: 'wallet_operation',
    limits: { batchSizeMax: OPERATION_BATCH_SIZE_MAX, queueLengthMax: OPERATION_QUEUE_LENGTH_MAX },
    laneOf: () => 'operations',
    async apply(tx, items) {
      const results: (OperationView | DomainError | undefined)[] = items.map(() => undefined);
      for (const [i, item] of items.entries()) {
        if (item.walletKnown) continue;
        // A wallet to create (or a 404): the rare path, in a savepoint so a refused deposit leaves
        // no wallet behind.
        results[i] = await withSavepoint(tx, (sp) =>
          applyOperation(sp, ledger, item.userId, item.input),
        ).catch((error: unknown) => {
          if (error instanceof DomainError) return error;
          throw error;
        });
      }
      const known = items.flatMap((item, i) => (item.walletKnown ? [{ i, item }] : []));
      if (known.length > 0) {
        const posted = await ledger.postBatch(
          tx,
          known.map(({ item }) => operationJournal(item.input.walletId, item.input)),
        );
        known.forEach(({ i, item }, n) => {
          const journal = defined(posted[n]);
          results[i] = isRefusal(journal) ? journal : operationView(item.input.walletId, item.input, journal);
        });
      }
      return results.map((r) => defined(r));
    },
  };
}

/**
 * Deposits and withdrawals through the command runner, each answered exactly as if it ran alone,
 * once per idempotency key.
 */
export class WalletOperations {
  private readonly command: MoneyCommand<PreparedOperation, OperationView>;
  /**
   * Owner of each wallet seen: a wallet never changes owner and is never deleted, so this saves a
   * query per operation on the hot path. Bounded: cleared when full.
   */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly db: Db,
    ledger: Ledger,
    private readonly runner: CommandRunner,
    private readonly accountEvents?: AccountEventSink,
  ) {
    this.command = operationCommand(ledger);
  }

  /**
   * Applies one operation for `userId`, once per idempotency key (`scope`), and announces it as
   * `wallet.operation` on the owner's account stream.
   * @returns the answer to send (`rendering`'s 201, a replayed answer, or a stored final error) and
   *   the operation when it happened now
   * @throws {NotFoundError} (404), {WalletLimitError} (409), {InsufficientFundsError} (400),
   *   {BalanceLimitError} (422) when the request has no idempotency key (with one, these are stored
   *   and returned as the answer); {IdempotencyInProgressError}, {IdempotencyKeyReusedError} (409);
   *   {TransactionContentionError}, {CommitOutcomeUnknownError} (503)
   */
  async submit(
    userId: string,
    input: OperationInput,
    scope: IdempotencyScope | undefined,
    rendering: Rendering<OperationView>,
  ): Promise<Answered<OperationView>> {
    const stored = await this.runner.storedAnswer(scope);
    if (stored) return { response: stored };
    const operation = await this.prepare(userId, input);
    const answered = await this.runner.execute(this.command, operation, { scope, ...rendering });
    // Announced once, when it happened now (not for a replayed answer).
    if (answered.result) this.accountEvents?.(userId, 'wallet.operation', answered.result);
    return answered;
  }

  /** @throws {NotFoundError} (404) the wallet is another user's */
  private async prepare(userId: string, input: OperationInput): Promise<PreparedOperation> {
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
    return { userId, input, walletKnown: ownerId !== undefined };
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
