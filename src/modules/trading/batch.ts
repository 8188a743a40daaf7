import type { Db, Queryable } from '../../platform/db/client.js';
import { GroupCommit, type Settled } from '../../platform/db/group-commit.js';
import {
  type BatchItemOutcome,
  type FinalResponse,
  type IdempotencyScope,
  runIdempotentBatch,
} from '../../platform/http/idempotency.js';
import { defined } from '../../shared/assert.js';
import { isRefusal, type Ledger } from '../ledger/index.js';
import { requireWallet } from '../wallets/index.js';
import { applyFillsToBooks } from './cost-basis.js';
import { fillPostings, orderRowOf, type PricedOrder } from './fills.js';
import { insertOrders } from './repository.js';
import { toOrderView } from './views.js';

/** Fills run in one database transaction at most. */
const FILL_BATCH_SIZE_MAX = 128;
/** Fills waiting at most before new ones are refused with 503. */
const FILL_QUEUE_LENGTH_MAX = 10_000;
/**
 * The one group-commit key of fills: one batch at a time. Measured on 2 cores (`npm run bench`,
 * orders on 1,000 wallets): one lane gave p99 35–49 ms at 2,100–2,650 orders/s on PostgreSQL 15 and
 * 18, two lanes p99 40–88 ms at about the same rate, four worse again. Every fill's entries
 * reference the same system accounts, so batches side by side mostly wait on each other.
 */
const FILL_LANE = 'fills';
/** Wallet ids remembered by one process at most. */
const WALLET_CACHE_SIZE_MAX = 100_000;

interface QueuedFill {
  order: PricedOrder & { side: 'buy' | 'sell' };
  scope: IdempotencyScope | undefined;
}

/**
 * Group commit of buy and sell fills across wallets: while a batch is running, the fills that
 * arrive wait, and the next batch writes all of them in one database transaction — their journals
 * by one ledger batch (each decided on its own, in arrival order, so a refused fill moves nothing
 * and the others go ahead), their order rows by one statement, their idempotency records by one
 * more. One batch runs at a time (see `FILL_LANE`); the ledger's
 * ascending-id locking keeps it from deadlocking with other writers.
 */
export class FillCommits {
  private readonly groups: GroupCommit<QueuedFill, FinalResponse>;
  /** `<user id>:<wallet id or "">` → the wallet id it resolves to (wallets never change owner) */
  private readonly wallets = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly quoteAsset: string,
  ) {
    this.groups = new GroupCommit((_key, items) => this.runBatch(items), {
      batchSizeMax: FILL_BATCH_SIZE_MAX,
      queueLengthMax: FILL_QUEUE_LENGTH_MAX,
    });
  }

  /**
   * The caller's wallet id (`walletId` undefined → the default wallet), remembered after the first lookup.
   * @throws {NotFoundError} (404) when it does not exist or is another user's
   */
  async resolveWallet(db: Queryable, userId: string, walletId: string | undefined): Promise<string> {
    const key = `${userId}:${walletId ?? ''}`;
    const known = this.wallets.get(key);
    if (known) return known;
    const wallet = await requireWallet(db, userId, walletId);
    if (this.wallets.size >= WALLET_CACHE_SIZE_MAX) this.wallets.clear();
    this.wallets.set(key, wallet.id);
    return wallet.id;
  }

  /**
   * Writes a priced buy or sell with the next batch, once per idempotency key.
   * @returns the answer: 201 with the order, a replayed answer, or a stored final error
   * @throws {InsufficientFundsError} (400) without an idempotency key (with one it is the stored
   *   answer); {IdempotencyInProgressError}, {IdempotencyKeyReusedError} (409); {TransactionContentionError} (503)
   */
  submit(
    order: PricedOrder & { side: 'buy' | 'sell' },
    scope: IdempotencyScope | undefined,
  ): Promise<FinalResponse> {
    return this.groups.submit(FILL_LANE, { order, scope });
  }

  private async runBatch(items: QueuedFill[]): Promise<Settled<FinalResponse>[]> {
    return await runIdempotentBatch(
      this.db,
      items,
      (item) => item.scope,
      async (tx, toRun): Promise<BatchItemOutcome[]> => {
        const journals = await this.ledger.postBatch(
          tx,
          toRun.map(({ order }) => ({
            kind: 'order_fill',
            postings: fillPostings(order.walletId, order.side, order.baseAsset, this.quoteAsset, order.fill),
            metadata: { symbol: order.symbol, side: order.side },
          })),
        );
        const filled = toRun.flatMap(({ order }, n) => {
          const journal = defined(journals[n]);
          return isRefusal(journal)
            ? []
            : [{ ...orderRowOf(order, this.quoteAsset), journalId: journal.journalId }];
        });
        await applyFillsToBooks(tx, filled);
        const rows = new Map((await insertOrders(tx, filled)).map((row) => [row.journalId, row]));
        return journals.map((journal) => {
          if (isRefusal(journal)) return { ok: false, error: journal };
          return {
            ok: true,
            status: 201,
            body: JSON.stringify(toOrderView(defined(rows.get(journal.journalId)))),
          };
        });
      },
    );
  }
}
