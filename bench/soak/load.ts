/**
 * The soak's load: the mixed load of the crash test (test/helpers/mixed-load.ts) sent without end
 * until a deadline, a fixed number of requests in flight, each answer's latency and status kept
 * for the sampler, which takes them interval by interval.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type MixedKind,
  type MixedRequest,
  type MixedUser,
  mixedBurst,
  sendMixed,
} from '../../test/helpers/mixed-load.js';
import { quantile } from './sample.js';

/** What the load saw during one sampling interval. */
export interface IntervalFigures {
  /** client-side latency of every answer (ms), in the order they came */
  latenciesMs: number[];
  /** answers by status class: `2xx`, `4xx`, `5xx`, … */
  statusClasses: Record<string, number>;
  /** requests that got no answer (connection failed, timeout) */
  transportErrors: number;
}

/** What the load saw over the whole run, the requests still in flight at the deadline included. */
export interface LoadTotals {
  requests: number;
  /** answers by exact status, e.g. `{"201": 900, "400": 80}` */
  statuses: Record<string, number>;
  transportErrors: number;
  /** the first few 5xx answers and transport errors, for the report */
  failures: string[];
}

/** The latency of one kind of request over the whole run (ms). */
export interface KindLatency {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Failures kept for the report (the count is in the totals). */
const FAILURES_KEPT_MAX = 10;
/** Pause of a lane after a transport error (ms): a dead server is not hammered in a tight loop. */
const ERROR_PAUSE_MS = 100;

/** Collects the answers of the load, interval by interval and in total. */
export class LoadRecorder {
  private interval: IntervalFigures = { latenciesMs: [], statusClasses: {}, transportErrors: 0 };
  readonly totals: LoadTotals = { requests: 0, statuses: {}, transportErrors: 0, failures: [] };
  private readonly latenciesMsByKind = new Map<MixedKind, number[]>();

  /** Notes one answer of `status` that took `latencyMs`. */
  answered(request: MixedRequest, status: number, latencyMs: number, body: string): void {
    const statusClass = `${Math.floor(status / 100)}xx`;
    this.interval.latenciesMs.push(latencyMs);
    const ofKind = this.latenciesMsByKind.get(request.kind) ?? [];
    ofKind.push(latencyMs);
    this.latenciesMsByKind.set(request.kind, ofKind);
    this.interval.statusClasses[statusClass] = (this.interval.statusClasses[statusClass] ?? 0) + 1;
    this.totals.requests += 1;
    this.totals.statuses[status] = (this.totals.statuses[status] ?? 0) + 1;
    if (status >= 500) this.fail(`${request.kind} ${request.key}: ${status} ${body.slice(0, 300)}`);
  }

  /** Notes a request that got no answer. */
  lost(request: MixedRequest, error: unknown): void {
    this.interval.transportErrors += 1;
    this.totals.requests += 1;
    this.totals.transportErrors += 1;
    const cause = error instanceof Error ? String(error.cause ?? error.message) : String(error);
    this.fail(`${request.kind} ${request.key}: no answer (${cause})`);
  }

  /** The figures since the previous call (or the start); the next interval starts empty. */
  takeInterval(): IntervalFigures {
    const taken = this.interval;
    this.interval = { latenciesMs: [], statusClasses: {}, transportErrors: 0 };
    return taken;
  }

  /** Each kind's latency over the run so far: where a slow p99 comes from. */
  latencyByKind(): Partial<Record<MixedKind, KindLatency>> {
    const byKind: Partial<Record<MixedKind, KindLatency>> = {};
    for (const [kind, latencies] of this.latenciesMsByKind) {
      const sorted = [...latencies].sort((a, b) => a - b);
      byKind[kind] = {
        count: sorted.length,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
        maxMs: sorted.at(-1) ?? null,
      };
    }
    return byKind;
  }

  private fail(line: string): void {
    if (this.totals.failures.length < FAILURES_KEPT_MAX) this.totals.failures.push(line);
  }
}

/** How the load runs. */
export interface LoadOptions {
  baseUrl: string;
  users: MixedUser[];
  /** requests in flight at once */
  concurrency: number;
  /** requests per burst of the mixed load (a burst is drawn, sent, and the next one drawn) */
  burstSize: number;
  /** asked before each request: the load stops starting requests once it says false */
  running: () => boolean;
  /** budget of one request (ms) */
  requestTimeoutMs: number;
  random: () => number;
  /** called before each new burst with its number (the soak moves the price there) */
  onBurst: (round: number) => void;
  recorder: LoadRecorder;
}

/**
 * Sends the mixed load, `concurrency` requests in flight, while `running()` says so; resolves once
 * the requests in flight at the end have been answered (or timed out).
 */
export async function runLoad(options: LoadOptions): Promise<void> {
  const { recorder } = options;
  let round = 0;
  let queue: MixedRequest[] = [];
  const next = (): MixedRequest => {
    if (queue.length === 0) {
      options.onBurst(round);
      queue = mixedBurst(round, options.burstSize, options.random, options.users).reverse();
      round += 1;
    }
    return queue.pop()!;
  };
  const lane = async () => {
    while (options.running()) {
      const request = next();
      const startedMs = performance.now();
      try {
        const answer = await sendMixed(options.baseUrl, options.users, request, options.requestTimeoutMs);
        recorder.answered(request, answer.status, performance.now() - startedMs, answer.body);
      } catch (error) {
        recorder.lost(request, error);
        await sleep(ERROR_PAUSE_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
}
