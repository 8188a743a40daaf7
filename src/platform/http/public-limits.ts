import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { KeyValueCache } from '../cache/cache.js';

/** The window both public limits count in (ms). */
const WINDOW_MS = 60_000;

/**
 * An `onRequest` hook that limits each client address to `perMinute` requests a minute on the
 * routes it is attached to (the public market routes, which need no token); `0` turns it off. The
 * address is Fastify's `request.ip`: behind a load balancer, set `TRUST_PROXY` so that it is the
 * client's and not the balancer's. Counters are shared through Redis when the cache is Redis.
 * @throws {RateLimitedError} (429 with `Retry-After`) beyond the limit
 */
export function perAddressRateLimit(app: FastifyInstance, perMinute: number): onRequestAsyncHookHandler {
  if (perMinute === 0) return async () => undefined;
  return app.rateLimit({
    max: perMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `public:${request.ip}`,
  });
}

/** Checks the symbols a request names against its client address's budget. */
export type SymbolBudget = (request: FastifyRequest, reply: FastifyReply, symbols: string[]) => Promise<void>;

/**
 * The bound on distinct symbols one client address may name on the public market routes per
 * minute: each symbol it had not named in the current minute spends one unit. A client cycling
 * through every symbol would otherwise make the server spend its Binance request weight (shared by
 * everyone) on cache misses; a terminal watching a few dozen symbols never notices. `0` turns it off.
 * @throws {RateLimitedError} (429 with `Retry-After`) when a new symbol is beyond the budget
 */
export function symbolBudget(
  app: FastifyInstance,
  cache: KeyValueCache,
  clock: Clock,
  perMinute: number,
): SymbolBudget {
  if (perMinute === 0) return async () => undefined;
  const spend = app.rateLimit({
    max: perMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `public-symbols:${request.ip}`,
  });
  return async (request, reply, symbols) => {
    const window = Math.floor(clock.nowMs() / WINDOW_MS);
    for (const symbol of new Set(symbols)) {
      // Named already in this minute: free. setIfAbsent is atomic across instances sharing Redis.
      const key = `public-symbol:${request.ip}:${window}:${symbol}`;
      if (!(await cache.setIfAbsent(key, '1', WINDOW_MS))) continue;
      try {
        await spend.call(app, request, reply);
      } catch (error) {
        // Refused: the symbol was not fetched, so it is not "named" for the rest of the minute.
        await cache.delete(key);
        throw error;
      }
    }
  };
}
