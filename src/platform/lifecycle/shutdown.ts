import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ReadinessCheck } from '../observability/health.js';

/**
 * Signals that arrive within this long of the first one are that same signal (ms). One Ctrl-C on
 * `npm start` reaches the process several times: the terminal signals npm, sh, tsx and the server
 * alike, and tsx relays it again about 30 ms later when the child has not answered yet. A signal
 * after this window is an operator asking again: the process then exits at once.
 */
export const SIGNAL_REPEAT_WINDOW_MS = 1_000;

/** What a stop does: resolves once that part of the process is closed. */
export type Stop = () => Promise<void>;

export interface ShutdownOptions {
  /** longest the whole shutdown may take, drain included (ms); then the process exits with code 1 */
  timeoutMs: number;
  /** how long `/health/ready` answers 503 before the HTTP servers stop accepting (ms) */
  drainMs: number;
  logger: Logger;
  /** ends the process (tests pass a spy) */
  exit?: (code: number) => void;
  /** the clock signals are timed by (ms) */
  nowMs?: () => number;
}

/**
 * The graceful shutdown of one process, in this order:
 * 1. from the first signal on, {@link readinessCheck} fails, so `/health/ready` answers 503 and load
 *    balancers stop sending requests, while the server still answers everything for `drainMs`
 *    (only when a stop {@link addFront}ed with `servesTraffic` exists);
 * 2. the front stops run together: the HTTP servers stop accepting and finish the requests in flight
 *    (and the group-commit batches those wait for), streams close with 1001, the jobs finish the runs
 *    in progress (BullMQ hands the jobs not started back to the queue);
 * 3. the back stops run one at a time, in the reverse order of registration: the bet queue, the event
 *    bus, the cache, the database pool (and the embedded PostgreSQL);
 * 4. exit code 0.
 * The whole of it is bounded by `timeoutMs` (then exit code 1). A signal more than
 * {@link SIGNAL_REPEAT_WINDOW_MS} after the first exits at once with 128 + the signal's number.
 */
export class Shutdown {
  private readonly front: Stop[] = [];
  private readonly back: Stop[] = [];
  private servesTraffic = false;
  private firstSignalAtMs: number | undefined;
  private begun = false;
  private readonly exit: (code: number) => void;
  private readonly nowMs: () => number;

  constructor(private readonly options: ShutdownOptions) {
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Whether the shutdown has begun (readiness answers 503 from then on). */
  get isStopping(): boolean {
    return this.begun;
  }

  /** A readiness check that fails from the moment the shutdown begins, before anything closes. */
  readonly readinessCheck: ReadinessCheck = async () => {
    if (this.begun) throw new Error('shutting down');
  };

  /**
   * Adds a stop of the front: what takes work in (an HTTP server, the jobs). `servesTraffic` marks an
   * HTTP server behind a load balancer, which gets the drain delay before it stops accepting.
   */
  addFront(stop: Stop, options: { servesTraffic?: boolean } = {}): void {
    this.front.push(stop);
    if (options.servesTraffic) this.servesTraffic = true;
  }

  /** Adds a stop of the back: what the front uses; closed after it, the last added first. */
  addBack(stop: Stop): void {
    this.back.push(stop);
  }

  /** Shuts down on SIGTERM and SIGINT (`on`, not `once`: a repeat must meet our handler, see above). */
  installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => this.onSignal(signal));
  }

  /** A signal: the first begins the shutdown, a repeat within the window is ignored, a later one exits. */
  onSignal(signal: NodeJS.Signals): void {
    const nowMs = this.nowMs();
    if (this.firstSignalAtMs === undefined) {
      this.firstSignalAtMs = nowMs;
      void this.run(signal);
      return;
    }
    const sinceFirstMs = nowMs - this.firstSignalAtMs;
    if (sinceFirstMs < SIGNAL_REPEAT_WINDOW_MS) {
      this.options.logger.debug({ signal, sinceFirstMs }, 'the same signal again: ignored');
      return;
    }
    this.options.logger.warn({ signal, sinceFirstMs }, 'second signal: exiting at once');
    this.exit(128 + (os.constants.signals[signal] ?? 0));
  }

  /**
   * Runs the shutdown (once; later calls return at once) and exits the process.
   * @param reason the signal, or why the process is done (`migrate done`)
   */
  async run(reason: string): Promise<void> {
    if (this.begun) return;
    this.begun = true;
    const { logger, timeoutMs, drainMs } = this.options;
    const startedAtMs = this.nowMs();
    logger.info({ signal: reason, shutdownTimeoutMs: timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ shutdownTimeoutMs: timeoutMs }, 'shutdown took too long: exiting');
      this.exit(1);
    }, timeoutMs);
    timer.unref();
    if (this.servesTraffic && drainMs > 0) {
      logger.info({ drainMs }, 'draining: /health/ready answers 503 while requests are still served');
      await sleep(drainMs);
    }
    const failed = (err: unknown) => logger.error({ err }, 'error while stopping');
    await Promise.all(this.front.map((stop) => stop().catch(failed)));
    for (const stop of [...this.back].reverse()) await stop().catch(failed);
    clearTimeout(timer);
    logger.info({ shutdownMs: this.nowMs() - startedAtMs }, 'stopped');
    this.exit(0);
  }
}
