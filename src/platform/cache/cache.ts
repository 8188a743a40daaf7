/** A small key-value cache with per-key expiry: in process by default, Redis when `REDIS_URL` is set. */
export interface KeyValueCache {
  get(key: string): Promise<string | null>;
  /** Stores `value` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Stores `value` for `ttlMs` unless the key holds a value; true when it stored it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Removes a key (no error when it is absent). */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
