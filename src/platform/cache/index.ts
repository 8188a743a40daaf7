import type { KeyValueCache } from './cache.js';
import { MemoryCache } from './memory.js';
import { RedisCache } from './redis.js';

export type { KeyValueCache } from './cache.js';

/** Redis when `redisUrl` is set (shared by every instance), an in-process cache otherwise. */
export function createCache(redisUrl: string | undefined, keyPrefix = 'pb:'): KeyValueCache {
  return redisUrl ? new RedisCache(redisUrl, keyPrefix) : new MemoryCache();
}
