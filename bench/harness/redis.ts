/**
 * The Redis server of `REDIS_URL`, for the scenarios that use it (`prices`, `stampede`, `bets`):
 * every key of the run goes under a prefix of its own, and every key under it is deleted at the
 * end; nothing else in Redis is touched.
 */
import { randomBytes } from 'node:crypto';
import { RedisCache } from '../../src/platform/cache/redis.js';
import type { Cleanup } from './cleanup.js';

/** The Redis server given by `REDIS_URL`, used under a key prefix of this run. */
export interface BenchRedis {
  url: string;
  /** every key of this run starts with it; deleted at the end */
  prefix: string;
  version: string;
}

/**
 * The Redis server of `REDIS_URL`, with a key prefix for this run; every key under it is deleted
 * at the end.
 */
export async function connectBenchRedis(url: string, cleanups: Cleanup[]): Promise<BenchRedis> {
  const admin = new RedisCache(url, '');
  cleanups.push({ name: 'close Redis', run: () => admin.close() });
  const info = await admin.client.info('server');
  const prefix = `pb_bench_${randomBytes(6).toString('hex')}:`;
  cleanups.push({
    name: `delete Redis keys ${prefix}*`,
    run: async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      if (keys.length > 0) await admin.client.del(...keys);
    },
  });
  return { url, prefix, version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
}

/** A Redis cache under this run's key prefix (closed at the end of the run at the latest). */
export function redisCache(cleanups: Cleanup[], redis: BenchRedis): RedisCache {
  const cache = new RedisCache(redis.url, redis.prefix);
  cleanups.push({
    name: 'close Redis cache',
    run: async () => {
      if (cache.client.status !== 'end') await cache.close();
    },
  });
  return cache;
}
