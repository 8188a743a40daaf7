import { Redis } from 'ioredis';
import type { KeyValueCache } from './cache.js';

/** Cache shared by every instance through Redis; keys are prefixed so tenants of one server never collide. */
export class RedisCache implements KeyValueCache {
  private readonly redis: Redis;

  /** The connection, for libraries that keep their own keys in Redis (under `keyPrefix`). */
  get client(): Redis {
    return this.redis;
  }

  /** @param keyPrefix e.g. `pb:` */
  constructor(
    redisUrl: string,
    readonly keyPrefix: string,
  ) {
    this.redis = new Redis(redisUrl, {
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      lazyConnect: false,
    });
    // Connection errors surface on the commands that fail; without a listener ioredis would log them itself.
    this.redis.on('error', () => undefined);
  }

  async get(key: string): Promise<string | null> {
    return await this.redis.get(this.keyPrefix + key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keyPrefix + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const stored = await this.redis.set(
      this.keyPrefix + key,
      value,
      'PX',
      Math.max(1, Math.round(ttlMs)),
      'NX',
    );
    return stored === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.keyPrefix + key);
  }

  /** Answers when Redis does (readiness). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
