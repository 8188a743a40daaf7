import { CommitOutcomeUnknownError, TransactionContentionError } from '../db/tx.js';

/** The outcome of one item of a batch: its value, or the error its caller gets. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Limits of one command's group commit (TigerBeetle: "put a limit on everything"). */
export interface LaneLimits {
  /** items run in one batch (one database transaction) at most */
  batchSizeMax: number;
  /** items waiting on one lane at most; more are refused with 503 rather than queued without end */
  queueLengthMax: number;
  /**
   * how long the first item of a batch waits for company before the batch starts (ms); 0 (the
   * default) starts it at once, so an idle lane adds no latency. A window suits work that arrives
   * in bursts with no one waiting on it (bets due in the same second)
   */
  windowMs?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

interface Lane<I, O> {
  queue: Pending<I, O>[];
  /** ends the gathering window early (the queue holds a full batch) */
  wake?: () => void;
}

/**
 * Group commit per lane (a hot wallet, all fills): while a batch of a lane is running, the items
 * that arrive wait, and the next batch takes all of them, in arrival order, into one database
 * transaction. One lock and one commit per batch instead of per item. Within one process only:
 * across processes the database row locks still serialise batches.
 *
 * When a batch fails, what happens next depends on what is known of it: contention (503) and a
 * COMMIT of unknown outcome (503, it may have committed) fail every item of it, never re-run; any
 * other error rolled it back for sure, so each item runs again alone and one bad item fails only
 * itself.
 */
export class Lanes<I, O> {
  private readonly lanes = new Map<string, Lane<I, O>>();
  private readonly draining = new Set<Promise<void>>();

  /**
   * @param runBatch runs the items of one lane together and settles each in order; if it throws,
   *   see the class comment
   */
  constructor(
    private readonly runBatch: (items: I[]) => Promise<Settled<O>[]>,
    private readonly limits: LaneLimits,
  ) {}

  /**
   * Queues `item` on `lane` and resolves with its own outcome once its batch has committed.
   * @throws {TransactionContentionError} (503) when `queueLengthMax` items already wait on the lane
   */
  submit(lane: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const existing = this.lanes.get(lane);
      if (existing) {
        if (existing.queue.length >= this.limits.queueLengthMax) {
          reject(new TransactionContentionError());
          return;
        }
        existing.queue.push({ item, resolve, reject });
        if (existing.queue.length >= this.limits.batchSizeMax) existing.wake?.();
        return;
      }
      // Nothing runs on this lane: this item starts a batch.
      const created: Lane<I, O> = { queue: [{ item, resolve, reject }] };
      this.lanes.set(lane, created);
      const run = this.drain(lane, created).finally(() => this.draining.delete(run));
      this.draining.add(run);
    });
  }

  /** Waits until every batch queued or running now has settled (before the database closes). */
  async close(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining);
  }

  private async gather(lane: Lane<I, O>): Promise<void> {
    const windowMs = this.limits.windowMs ?? 0;
    if (windowMs <= 0 || lane.queue.length >= this.limits.batchSizeMax) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, windowMs);
      lane.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    lane.wake = undefined;
  }

  private async drain(key: string, lane: Lane<I, O>): Promise<void> {
    try {
      // Without a window the first batch starts in this very tick, with this one item.
      if ((this.limits.windowMs ?? 0) > 0) await this.gather(lane);
      while (lane.queue.length > 0) {
        const batch = lane.queue.splice(0, this.limits.batchSizeMax);
        await this.runAndSettle(batch);
      }
    } finally {
      // No await between the empty-queue check and this line, so no item can slip in unseen; the
      // next submit on this lane starts a new batch.
      this.lanes.delete(key);
    }
  }

  private async runAndSettle(batch: Pending<I, O>[]): Promise<void> {
    try {
      settle(batch, await this.runBatch(batch.map((p) => p.item)));
    } catch (error) {
      const outcomeKnown = !(error instanceof CommitOutcomeUnknownError);
      if (batch.length === 1 || error instanceof TransactionContentionError || !outcomeKnown) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // Rolled back for sure: one item's fault (a constraint it breaks) must not fail the others.
      for (const pending of batch) {
        try {
          settle([pending], await this.runBatch([pending.item]));
        } catch (itemError) {
          pending.reject(itemError);
        }
      }
    }
  }
}

function settle<I, O>(batch: Pending<I, O>[], outcomes: Settled<O>[]): void {
  batch.forEach((pending, i) => {
    const outcome = outcomes[i];
    if (!outcome) pending.reject(new Error('group commit: a batch returned too few outcomes'));
    else if (outcome.ok) pending.resolve(outcome.value);
    else pending.reject(outcome.error);
  });
}
