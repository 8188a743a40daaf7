/**
 * Collapses concurrent calls for one key into one: while a call for `key` is under way, later
 * callers get the same promise. "Client reads never fan out to upstream."
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** How many callers joined a call already under way (for metrics and tests). */
  joinCount = 0;

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) {
      this.joinCount += 1;
      return running;
    }
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
