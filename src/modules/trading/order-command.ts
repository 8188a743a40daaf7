import { eq } from 'drizzle-orm';
import type { MoneyCommand } from '../../platform/commands/runner.js';
import type { Queryable, Tx } from '../../platform/db/client.js';
import { withSavepoint } from '../../platform/db/tx.js';
import { defined } from '../../shared/assert.js';
import { Decimal } from '../../shared/decimal.js';
import { DomainError } from '../../shared/errors.js';
import { isRefusal, type Ledger } from '../ledger/index.js';
import { requireWallet } from '../wallets/index.js';
import { applyFillsToBooks, bookedFillOf } from './cost-basis.js';
import { fillPostings, orderRowOf, type PricedOrder } from './fills.js';
import { checkCloseBelowMinQty } from './filters.js';
import { insertOrder, insertOrders, type OrderRow } from './repository.js';
import { endOpenOrders } from './resting-command.js';
import { closeShort, type MarginRates, openShort, requireOpenShort } from './shorts.js';
import { orders } from './tables.js';

/** Fills run in one database transaction at most. */
const FILL_BATCH_SIZE_MAX = 128;
/** Fills waiting at most before new ones are refused with 503. */
const FILL_QUEUE_LENGTH_MAX = 10_000;
/**
 * The one lane of fills: one batch at a time. Measured on 2 cores (`npm run bench`, orders on 1,000
 * wallets): one lane gave p99 35–49 ms at 2,100–2,650 orders/s on PostgreSQL 15 and 18, two lanes
 * p99 40–88 ms at about the same rate, four worse again. Every fill's entries reference the same
 * system accounts, so batches side by side mostly wait on each other.
 */
const FILL_LANE = 'fills';
/** Wallet ids remembered by one process at most. */
const WALLET_CACHE_SIZE_MAX = 100_000;

/** What writing an order needs besides the order. */
export interface OrderCommandDeps {
  ledger: Ledger;
  quoteAsset: string;
  margin: MarginRates;
}

/**
 * The money command of market orders on all four sides, one lane for all: the orders that arrive
 * while a batch runs are written by the next one, in one database transaction, each decided in
 * arrival order. A run of buys and sells is written by one ledger batch and one insert (a refused
 * fill moves nothing and the others go ahead), and the wallets' average-cost books are updated
 * with them; a short or a close_short locks its position and
 * writes in a savepoint of its own, so a refused one leaves nothing behind. The ledger's ascending-id
 * locking keeps it from deadlocking with other writers (and a deadlock is retried).
 */
export class OrderCommand implements MoneyCommand<PricedOrder, OrderRow> {
  readonly name = 'order_fill';
  readonly limits = { batchSizeMax: FILL_BATCH_SIZE_MAX, queueLengthMax: FILL_QUEUE_LENGTH_MAX };
  /** `<user id>:<wallet id or "">` → the wallet id it resolves to (wallets never change owner) */
  private readonly wallets = new Map<string, string>();

  constructor(private readonly deps: OrderCommandDeps) {}

  laneOf(): string {
    return FILL_LANE;
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

  async apply(tx: Tx, items: readonly PricedOrder[]): Promise<(OrderRow | DomainError)[]> {
    const results: (OrderRow | DomainError)[] = [];
    let run: PricedOrder[] = [];
    const flush = async () => {
      if (run.length > 0) results.push(...(await this.writeFills(tx, run)));
      run = [];
    };
    for (const order of items) {
      if (order.side === 'buy' || order.side === 'sell') {
        run.push(order);
        continue;
      }
      await flush();
      results.push(
        await withSavepoint(tx, (sp) => this.writeShortSide(sp, order)).catch((error: unknown) => {
          if (error instanceof DomainError) return error;
          throw error;
        }),
      );
    }
    await flush();
    // The wallets' books take the whole batch in two statements.
    await applyFillsToBooks(
      tx,
      results.filter((r): r is OrderRow => !(r instanceof DomainError)).map(bookedFillOf),
    );
    return results;
  }

  /** Buys and sells: one ledger batch, one insert of their order rows. */
  private async writeFills(tx: Tx, orders: PricedOrder[]): Promise<(OrderRow | DomainError)[]> {
    const { ledger, quoteAsset } = this.deps;
    const journals = await ledger.postBatch(
      tx,
      orders.map((order) => ({
        kind: 'order_fill',
        postings: fillPostings(
          order.walletId,
          order.side === 'buy' ? 'buy' : 'sell',
          order.baseAsset,
          quoteAsset,
          order.fill,
        ),
        metadata: { symbol: order.symbol, side: order.side },
      })),
    );
    const filled = orders.flatMap((order, n) => {
      const journal = defined(journals[n]);
      return isRefusal(journal) ? [] : [{ ...orderRowOf(order, quoteAsset), journalId: journal.journalId }];
    });
    const rows = new Map((await insertOrders(tx, filled)).map((row) => [row.journalId, row]));
    return journals.map((journal) => (isRefusal(journal) ? journal : defined(rows.get(journal.journalId))));
  }

  /** A short or a close_short: its position change, its journal, its order row. */
  private async writeShortSide(tx: Tx, order: PricedOrder): Promise<OrderRow> {
    const { ledger, quoteAsset, margin } = this.deps;
    const { fill } = order;
    const row = orderRowOf(order, quoteAsset);
    if (order.side === 'short') {
      const opened = await openShort(tx, ledger, { ...order, quoteAsset }, fill, margin);
      return await insertOrder(tx, { ...row, positionId: opened.position.id, journalId: opened.journalId });
    }
    const position = await requireOpenShort(tx, order.walletId, order.symbol, fill.quantity);
    if (order.belowMinQty)
      checkCloseBelowMinQty(fill.quantity, new Decimal(position.quantity), order.symbol, order.belowMinQty);
    const closed = await closeShort(tx, ledger, position, fill, false);
    // A short closed whole leaves its resting closes nothing to buy back: they expire.
    if (closed.position.status === 'closed')
      await endOpenOrders(tx, ledger, eq(orders.positionId, position.id), 'expired');
    return await insertOrder(tx, {
      ...row,
      positionId: position.id,
      realizedPnl: closed.realizedPnl.toFixed(),
      journalId: closed.journalId,
    });
  }
}
