import { DelayedError, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import { RedisCache } from '../../platform/cache/redis.js';

/**
 * Runs the settlement of one bet. Resolves with a time (ms since epoch) to run it again at when the
 * bet is not due yet, undefined when there is nothing more to do; rejects when it should be retried
 * later (no fresh price).
 */
/** A bet id: a UUID in any case. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type SettleHandler = (betId: string) => Promise<number | undefined>;

/**
 * When bets get settled. The API side calls `schedule` once a bet is committed; the worker side
 * calls `start` with the settlement to run at each due time. A lost or duplicated schedule is
 * harmless: settlement is exactly-once in SQL, and the sweeper settles whatever is overdue.
 */
export interface SettlementScheduler {
  /** Arranges for the bet to be settled at `dueAtMs` (ms since epoch); repeating it changes nothing. */
  schedule(betId: string, dueAtMs: number): Promise<void>;
  /** Starts running `handler` for the bets that come due (the worker role). */
  start(handler: SettleHandler): Promise<void>;
  /** Stops; waits for settlements in progress. */
  close(): Promise<void>;
}

/** First retry of a settlement that failed (ms); doubled each time up to `RETRY_DELAY_MS_MAX`. */
const RETRY_DELAY_MS_FIRST = 500;
const RETRY_DELAY_MS_MAX = 30_000;
/** setTimeout's longest delay (≈ 24.8 days); a longer wait is re-armed when it ends. */
const TIMER_DELAY_MS_MAX = 2 ** 31 - 1;

/**
 * The scheduler of one process without Redis: a timer per pending bet. Timers do not keep the process
 * alive and die with it; on start-up the bet jobs re-arm every pending bet and the sweeper settles
 * those that came due meanwhile. Timers armed before `start` (the API built before the jobs) fire
 * into the handler once it is there; without one (a `serve` process) they do nothing.
 */
export class InProcessSettlementScheduler implements SettlementScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private handler: SettleHandler | undefined;
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async schedule(betId: string, dueAtMs: number): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.timers.get(betId));
    const delayMs = Math.min(Math.max(0, dueAtMs - this.nowMs()), TIMER_DELAY_MS_MAX);
    const timer = setTimeout(() => this.fire(betId), delayMs);
    timer.unref();
    this.timers.set(betId, timer);
  }

  async start(handler: SettleHandler): Promise<void> {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running);
  }

  private fire(betId: string): void {
    this.timers.delete(betId);
    const handler = this.handler;
    if (!handler || this.closed) return;
    const run = handler(betId).then(
      async (againAtMs) => {
        this.attempts.delete(betId);
        if (againAtMs !== undefined) await this.schedule(betId, againAtMs);
      },
      async (err: unknown) => {
        const attempt = (this.attempts.get(betId) ?? 0) + 1;
        this.attempts.set(betId, attempt);
        const delayMs = Math.min(RETRY_DELAY_MS_FIRST * 2 ** (attempt - 1), RETRY_DELAY_MS_MAX);
        this.logger.warn({ err, betId, attempt, delayMs }, 'bet settlement failed, retrying');
        await this.schedule(betId, this.nowMs() + delayMs);
      },
    );
    const tracked = run.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }
}

/** The BullMQ queue of bet settlements. */
const QUEUE_NAME = 'bet-settlement';
/** Attempts of one settlement job (a failed one waits 0.5 s, 1 s, 2 s, …: about 4 min in all); the sweeper goes on after. */
const JOB_ATTEMPTS_MAX = 10;
/** Settlement jobs one worker process runs at a time. */
const WORKER_CONCURRENCY = 100;
/** How long a failed job is kept for inspection (s). */
const FAILED_JOB_AGE_S = 7 * 24 * 3600;

/**
 * BullMQ on Redis: one delayed job per bet (jobId = bet id, so a second `schedule` of a bet is
 * ignored while its job exists), consumed by the `Worker` of whichever worker process takes it.
 * Jobs outlive every process. A failed settlement (no fresh price) is retried with exponential
 * backoff; a bet not due yet (a clock ahead of ours) is moved back to the delayed set.
 */
export class BullMqSettlementScheduler implements SettlementScheduler {
  private readonly connection: Redis;
  private readonly queue: Queue;
  private worker: Worker | undefined;

  /** @param prefix BullMQ's key prefix (the cache's, so tests and tenants never collide) */
  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
    // BullMQ needs `maxRetriesPerRequest: null` (its blocking commands wait indefinitely).
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, prefix });
    this.queue.on('error', (err) => this.logger.warn({ err }, 'bet queue error'));
  }

  async schedule(betId: string, dueAtMs: number): Promise<void> {
    await this.queue.add(
      'settle',
      { betId },
      {
        jobId: betId,
        delay: Math.max(0, dueAtMs - this.nowMs()),
        attempts: JOB_ATTEMPTS_MAX,
        backoff: { type: 'exponential', delay: RETRY_DELAY_MS_FIRST },
        removeOnComplete: true,
        removeOnFail: { age: FAILED_JOB_AGE_S },
      },
    );
  }

  async start(handler: SettleHandler): Promise<void> {
    const worker = new Worker<{ betId: string }>(
      QUEUE_NAME,
      async (job, token) => {
        // A job whose data is not a bet id (a foreign or corrupt job) is dropped, not retried.
        const betId = job.data?.betId;
        if (typeof betId !== 'string' || !UUID_PATTERN.test(betId)) return;
        const againAtMs = await handler(betId);
        if (againAtMs === undefined) return;
        await job.moveToDelayed(againAtMs, token);
        throw new DelayedError();
      },
      { connection: this.connection, prefix: this.prefix, concurrency: WORKER_CONCURRENCY },
    );
    worker.on('error', (err) => this.logger.warn({ err }, 'bet worker error'));
    worker.on('failed', (job, err) =>
      this.logger.warn({ err, betId: job?.data.betId, attempts: job?.attemptsMade }, 'bet settlement failed'),
    );
    this.worker = worker;
    await worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

/**
 * BullMQ when the cache is Redis (jobs shared by every process, under the cache's key prefix), the
 * in-process timers otherwise.
 */
export function createSettlementScheduler(
  redisUrl: string | undefined,
  cache: KeyValueCache,
  logger: Logger,
): SettlementScheduler {
  if (redisUrl && cache instanceof RedisCache) {
    return new BullMqSettlementScheduler(redisUrl, `${cache.keyPrefix}bull`, logger);
  }
  return new InProcessSettlementScheduler(logger);
}
