import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The HTTP methods the load generator sends. */
export type HttpMethod = 'GET' | 'POST';

/** One request shape of a timed run; the shapes are sent round-robin, one request each. */
export interface RequestVariant {
  /** path and query, e.g. `/api/v1/wallets/<id>/operation` */
  path: string;
  /** JSON request body */
  body: string;
  /** sent as `authorization: Bearer <token>` */
  token?: string;
}

/** One timed load run (autocannon), sent to the load-generator process. */
export interface LoadSpec {
  /** scenario name, for messages */
  title: string;
  /** `http://127.0.0.1:<port><path>` */
  url: string;
  /** `POST` (the default) or `GET` */
  method?: HttpMethod;
  /** JSON request body (sent with `content-type: application/json`); none for a `GET` */
  body?: string;
  connections: number;
  /** seconds of load whose figures are thrown away, before the measured run */
  warmupS: number;
  /** seconds of the measured run */
  durationS: number;
  /** access tokens sent as `authorization: Bearer <token>`, one request each, round-robin */
  tokens?: string[];
  /**
   * Request shapes sent round-robin, one request each, across every connection: each replaces the
   * path of `url`, `body` and `tokens`. Used when every request goes to another wallet.
   */
  variants?: RequestVariant[];
}

/** A fixed number of requests fired at once (fetch), not a timed run: seed 003's burst. */
export interface BurstSpec {
  /** scenario name, for messages */
  title: string;
  /** `http://127.0.0.1:<port><path>` */
  url: string;
  /**
   * when given, request `i` goes to `urls[i % urls.length]` instead of `url` (requests split
   * between several servers)
   */
  urls?: string[];
  /** `POST` (the default) or `GET` */
  method?: HttpMethod;
  /** JSON request body (sent with `content-type: application/json`); none for a `GET` */
  body?: string;
  /** sent as `authorization: Bearer <token>` */
  token?: string;
  /** requests sent in all */
  count: number;
  /** requests in flight at most (one keep-alive connection each) */
  concurrency: number;
  /** statuses that are expected answers; any other status counts as an error */
  expectedStatuses: number[];
  /** a request not answered within this many ms is aborted and counted as a timeout */
  timeoutMs: number;
}

/** The figures of one measured run (latencies in milliseconds). */
export interface LoadResult {
  /** mean of autocannon's per-second request counts (a burst: requests ÷ wall time) */
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  latencyMaxMs: number;
  /** requests sent, answered or not (a timed run stops with up to one request per connection unanswered) */
  sent: number;
  /** responses received */
  responses: number;
  ok2xx: number;
  non2xx: number;
  /** connection errors, timeouts included */
  connectionErrors: number;
  timeouts: number;
  /**
   * timed run: non-2xx responses + connection errors; burst: responses whose status is not one of
   * the expected statuses + connection errors
   */
  errors: number;
  /** count per HTTP status code */
  statusCodes: Record<string, number>;
  durationS: number;
  /** the figures of the warm-up run before it (discarded from the measurement) */
  warmup?: LoadResult;
  /** requests/s of each run, when the figures merge several interleaved runs ({@link mergeLoadResults}) */
  roundsPerSec?: number[];
}

/** What the parent sends the load-generator process: one task. */
export type LoadTask = { kind: 'timed'; spec: LoadSpec } | { kind: 'burst'; spec: BurstSpec };

/** What the load-generator process answers. */
export type LoadMessage = { ok: true; result: LoadResult } | { ok: false; error: string };

const WORKER_FILE = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/**
 * Runs one task in a fresh child process (the server under test keeps this process's event loop
 * and a core to itself). The child inherits this process's `tsx` loader flags, so it runs
 * TypeScript like this one.
 * @param signal aborting it kills the child; the promise then rejects
 * @throws {Error} when the child fails or exits without a result
 */
async function runInChild(task: LoadTask, signal?: AbortSignal): Promise<LoadResult> {
  signal?.throwIfAborted();
  const title = task.spec.title;
  const child = fork(WORKER_FILE, { serialization: 'advanced', stdio: 'inherit' });
  const onAbort = () => child.kill('SIGTERM');
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      let answer: LoadMessage | undefined;
      let failure: Error | undefined;
      child.once('message', (message: LoadMessage) => {
        answer = message;
        child.disconnect();
      });
      child.once('error', (error) => {
        failure ??= error;
      });
      // Settle only once the child is gone, so no load generator outlives its run.
      child.once('exit', (code, sig) => {
        if (answer?.ok) resolve(answer.result);
        else if (answer) reject(new Error(`load generator (${title}): ${answer.error}`));
        else
          reject(failure ?? new Error(`load generator (${title}) exited (${sig ?? code}) without a result`));
      });
      child.send(task);
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * One result from the timed runs of one server (equal durations): requests/s is their mean and the
 * counts their sums; latencies: the median of their p50s, the highest of their p99s (the percentiles
 * of separate runs cannot be merged exactly: the worst run's p99 is an upper bound of the whole
 * one's), the mean weighted by responses, the highest max.
 * @throws {Error} when `runs` is empty
 */
export function mergeLoadResults(runs: LoadResult[]): LoadResult {
  if (runs.length === 0) throw new Error('mergeLoadResults: no run to merge');
  const sum = (pick: (run: LoadResult) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const p50s = runs.map((run) => run.latencyP50Ms).sort((a, b) => a - b);
  const responses = sum((run) => run.responses);
  const statusCodes: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, count] of Object.entries(run.statusCodes))
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  return {
    requestsPerSec: sum((run) => run.requestsPerSec) / runs.length,
    latencyP50Ms: p50s[Math.floor((p50s.length - 1) / 2)]!,
    latencyP99Ms: Math.max(...runs.map((run) => run.latencyP99Ms)),
    latencyMeanMs: responses === 0 ? 0 : sum((run) => run.latencyMeanMs * run.responses) / responses,
    latencyMaxMs: Math.max(...runs.map((run) => run.latencyMaxMs)),
    sent: sum((run) => run.sent),
    responses,
    ok2xx: sum((run) => run.ok2xx),
    non2xx: sum((run) => run.non2xx),
    connectionErrors: sum((run) => run.connectionErrors),
    timeouts: sum((run) => run.timeouts),
    errors: sum((run) => run.errors),
    statusCodes,
    durationS: sum((run) => run.durationS),
    roundsPerSec: runs.map((run) => run.requestsPerSec),
  };
}

/**
 * Runs autocannon in a child process: a warm-up run whose figures are kept apart (`warmup`), then
 * the measured run.
 */
export async function runLoad(spec: LoadSpec, signal?: AbortSignal): Promise<LoadResult> {
  return await runInChild({ kind: 'timed', spec }, signal);
}

/** Fires `spec.count` requests, at most `spec.concurrency` at once, from a child process. */
export async function runBurst(spec: BurstSpec, signal?: AbortSignal): Promise<LoadResult> {
  return await runInChild({ kind: 'burst', spec }, signal);
}
