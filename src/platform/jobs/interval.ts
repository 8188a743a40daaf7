import type { Logger } from 'pino';

/**
 * Runs `task` every `intervalMs`, one run at a time (a slow run delays the next instead of
 * overlapping it). A failed run is logged and the schedule goes on. The timer does not keep the
 * process alive.
 * @returns a function that stops the schedule and waits for a run in progress
 */
export function runEvery(
  name: string,
  intervalMs: number,
  task: () => Promise<void>,
  logger: Logger,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .catch((err: unknown) => logger.error({ err, job: name }, 'scheduled job failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
