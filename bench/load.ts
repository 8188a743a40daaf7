import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One load run, sent to the load-generator process. */
export interface LoadSpec {
  /** scenario name, for messages */
  title: string;
  /** `http://127.0.0.1:<port><path>` */
  url: string;
  /** JSON request body (sent with `content-type: application/json`) */
  body: string;
  connections: number;
  /** seconds of load whose figures are thrown away, before the measured run */
  warmupS: number;
  /** seconds of the measured run */
  durationS: number;
  /** access tokens sent as `authorization: Bearer <token>`, one request each, round-robin */
  tokens?: string[];
}

/** The figures of one measured run (latencies in milliseconds). */
export interface LoadResult {
  /** mean of autocannon's per-second request counts */
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  latencyMaxMs: number;
  /** responses received */
  responses: number;
  ok2xx: number;
  non2xx: number;
  /** connection errors, timeouts included */
  connectionErrors: number;
  timeouts: number;
  /** non-2xx responses + connection errors */
  errors: number;
  /** count per HTTP status code */
  statusCodes: Record<string, number>;
  durationS: number;
}

/** What the load-generator process answers. */
export type LoadMessage = { ok: true; result: LoadResult } | { ok: false; error: string };

const WORKER_FILE = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/**
 * Runs autocannon in a child process (the server under test keeps this process's event loop and
 * a core to itself): a warm-up run whose figures are discarded, then the measured run.
 * The child inherits this process's `tsx` loader flags, so it runs TypeScript like this one.
 * @param signal aborting it kills the child; the promise then rejects
 * @throws {Error} when the child fails or exits without a result
 */
export async function runLoad(spec: LoadSpec, signal?: AbortSignal): Promise<LoadResult> {
  signal?.throwIfAborted();
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
        else if (answer) reject(new Error(`load generator (${spec.title}): ${answer.error}`));
        else
          reject(
            failure ?? new Error(`load generator (${spec.title}) exited (${sig ?? code}) without a result`),
          );
      });
      child.send(spec);
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
