import type { KeyValueCache } from './cache.js';

/** Entries kept at most; the oldest inserted goes first beyond it. */
const ENTRY_COUNT_MAX = 10_000;

/** In-process cache for the embedded defaults (one process, no Redis). */
export class MemoryCache implements KeyValueCache {
  private readonly entries = new Map<string, { value: string; expiresAtMs: number }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  async get(key: string): Promise<string | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAtMs <= this.nowMs()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.store(key, value, ttlMs);
  }

  private store(key: string, value: string, ttlMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= ENTRY_COUNT_MAX) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAtMs: this.nowMs() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    // No await between the check and the write: two callers cannot both see the key absent.
    const entry = this.entries.get(key);
    if (entry && entry.expiresAtMs > this.nowMs()) return false;
    this.store(key, value, ttlMs);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
