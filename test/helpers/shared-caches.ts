import { randomBytes } from 'node:crypto';
import type { KeyValueCache } from '../../src/platform/cache/cache.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { RedisCache } from '../../src/platform/cache/redis.js';

/**
 * Caches that `count` "instances" share, as separate processes would: with REDIS_URL one Redis, a
 * connection each under one key prefix of their own; without it one in-process cache whose entries
 * expire by `nowMs`. `close()` deletes the prefix's keys and closes every connection.
 */
export function openSharedCaches(
  count: number,
  nowMs: () => number = Date.now,
): { caches: KeyValueCache[]; close(): Promise<void> } {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const cache = new MemoryCache(nowMs);
    return { caches: Array.from({ length: count }, () => cache), close: () => cache.close() };
  }
  const prefix = `pbtest:shared:${randomBytes(6).toString('hex')}:`;
  const caches = Array.from({ length: count }, () => new RedisCache(redisUrl, prefix));
  return {
    caches,
    close: async () => {
      const keys = await caches[0]!.client.keys(`${prefix}*`);
      if (keys.length > 0) await caches[0]!.client.del(...keys);
      for (const cache of caches) await cache.close();
    },
  };
}
