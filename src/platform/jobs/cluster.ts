import type { Logger } from 'pino';
import type { KeyValueCache } from '../cache/cache.js';
import { runEvery } from './interval.js';

/**
 * Runs `task` once per interval across every process that shares `cache` (Redis), however many of
 * them schedule it: time is cut into slots of `intervalMs`, and each process's tick first claims the
 * slot's key (`SET NX`); only the one that claims it runs the task. With the in-process cache it is
 * a plain timer. A failed run is logged by `runEvery` and the next slot runs as usual.
 * @returns a function that stops this process's schedule and waits for a run in progress
 */
export function runOncePerInterval(
  cache: KeyValueCache,
  name: string,
  intervalMs: number,
  task: () => Promise<void>,
  logger: Logger,
  nowMs: () => number = Date.now,
): () => Promise<void> {
  return runEvery(
    name,
    intervalMs,
    async () => {
      const slot = Math.floor(nowMs() / intervalMs);
      const claimed = await cache.setIfAbsent(`job-slot:${name}:${slot}`, '1', intervalMs * 2);
      if (claimed) await task();
    },
    logger,
  );
}
