import { TransactionContentionError } from './tx.js';

/** The outcome of one item of a batch: its value, or the error its caller gets. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Limits of a group commit (TigerBeetle: "put a limit on everything"). */
export interface GroupCommitOptions {
  /** items run in one batch at most */
  batchSizeMax: number;
  /** items waiting for one key at most; more are refused with 503 rather than queued without end */
  queueLengthMax: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit per key: while a batch for a key (a hot wallet) is running, requests for that key
 * wait, and the next batch takes all of them, in arrival order, into one database transaction. A
 * request that finds no batch running starts one at once, so an idle key adds no latency; a busy one
 * pays one lock and one commit per batch instead of per request. Within one process only: across
 * processes, the database row locks still serialise batches. When a batch fails for another reason
 * than contention, its items are run again one by one, so one bad item fails only itself.
 */
export class GroupCommit<I, O> {
  private readonly queues = new Map<string, Pending<I, O>[]>();

  /**
   * @param runBatch runs the items of one key together and settles each in order; if it throws,
   *   every item of the batch gets that error
   */
  constructor(
    private readonly runBatch: (key: string, items: I[]) => Promise<Settled<O>[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  /**
   * Queues `item` for `key` and resolves with its own outcome once its batch has committed.
   * @throws {TransactionContentionError} (503) when `queueLengthMax` items already wait for `key`
   */
  submit(key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        if (queue.length >= this.options.queueLengthMax) {
          reject(new TransactionContentionError());
          return;
        }
        queue.push({ item, resolve, reject });
        return;
      }
      // No batch is running for this key: this item starts one.
      this.queues.set(key, [{ item, resolve, reject }]);
      void this.drain(key);
    });
  }

  private settle(batch: Pending<I, O>[], outcomes: Settled<O>[]): void {
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (!outcome) pending.reject(new Error('group commit: a batch returned too few outcomes'));
      else if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key);
    if (!queue) return;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, this.options.batchSizeMax);
        try {
          this.settle(
            batch,
            await this.runBatch(
              key,
              batch.map((p) => p.item),
            ),
          );
        } catch (error) {
          if (batch.length === 1 || error instanceof TransactionContentionError) {
            for (const pending of batch) pending.reject(error);
            continue;
          }
          // One item's fault (a constraint it breaks) must not fail the others: each runs alone.
          for (const pending of batch) {
            try {
              this.settle([pending], await this.runBatch(key, [pending.item]));
            } catch (itemError) {
              pending.reject(itemError);
            }
          }
        }
      }
    } finally {
      // No await between the empty-queue check and this line, so no item can slip in unseen; the
      // next submit for this key starts a new batch.
      this.queues.delete(key);
    }
  }
}
