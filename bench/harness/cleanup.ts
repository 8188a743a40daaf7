/**
 * The run's cleanup steps: everything a scenario opens (a server, a pool, a Redis connection, the
 * database itself) registers how to close it, so that a failed or interrupted run still drops its
 * database and stops its servers.
 */

/** One cleanup step; the run's steps run in reverse order of registration ({@link runCleanups}). */
export interface Cleanup {
  /** what it closes, for the message when it fails */
  name: string;
  run: () => Promise<void>;
}

/** `run` at most once: the normal path and the cleanup on failure may both call it. */
export function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= run();
    return done;
  };
}

/**
 * Runs every step, last registered first (a server closes before the database it uses is dropped);
 * a failing step is reported and does not stop the others.
 */
export async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.run();
    } catch (error) {
      console.error(`cleanup "${cleanup.name}" failed:`, error instanceof Error ? error.message : error);
    }
  }
}
