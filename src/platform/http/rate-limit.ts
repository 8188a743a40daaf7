import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { DomainError } from '../../shared/errors.js';
import type { KeyValueCache } from '../cache/cache.js';
import { RedisCache } from '../cache/redis.js';

/** Too many requests: 429 with `Retry-After` (seconds). */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { retry_after_seconds: String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/**
 * Registers @fastify/rate-limit with no global limit (routes opt in): its counters live in Redis
 * under the cache's key prefix when the cache is Redis, so every instance shares them, and in
 * process otherwise.
 */
export async function installRateLimits(app: FastifyInstance, cache: KeyValueCache): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    ...(cache instanceof RedisCache
      ? { redis: cache.client, nameSpace: `${cache.keyPrefix}rate-limit:` }
      : {}),
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        `too many requests: at most ${context.max} per ${context.after}`,
        context.ttl / 1000,
      ),
  });
}

/**
 * A `preHandler` hook that limits each authenticated user to `perMinute` requests a minute across
 * every route it is attached to (the money-moving ones); `0` turns it off.
 * @throws {RateLimitedError} (429) beyond the limit
 */
export function perUserRateLimit(app: FastifyInstance, perMinute: number): preHandlerAsyncHookHandler {
  if (perMinute === 0) return async () => undefined;
  return app.rateLimit({
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `user:${request.principal?.userId ?? request.ip}`,
  });
}
