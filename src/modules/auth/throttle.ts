import type {} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimitedError } from '../../platform/http/rate-limit.js';
import { InvalidCredentialsError } from '../users/index.js';

/** Limits on failed logins per window (SPEC §3 "Abuse limits"; README "Abuse limits"). */
export interface LoginLimits {
  /** wrong-credential attempts per account from one client address */
  failuresPerAccountMax: number;
  /** wrong-credential attempts per client address, across every account */
  failuresPerAddressMax: number;
  /** wrong-credential attempts per account, across every address: bounds a distributed guess */
  failuresPerAccountTotalMax: number;
  windowMs: number;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Password-guessing protection. Only wrong-credential answers (401) count, on three counters: the
 * account (the username, case-insensitively) from this client address, the address across every
 * account, and the account across every address. Once a counter reaches its limit within the
 * window, every login attempt it covers answers 429 with `Retry-After` — even with the right
 * password — until the window ends. So ten wrong passwords from one address lock the account for
 * that address only (its owner still logs in from elsewhere), while a guess spread over many
 * addresses still stops at the account's total. Counters live in @fastify/rate-limit's store: Redis
 * when `REDIS_URL` is set (shared by every instance), in process otherwise.
 */
export class LoginThrottle {
  /** each counter with what its 429 names */
  private readonly limiters: [Limiter, string][];

  /** @param app an instance with @fastify/rate-limit registered */
  constructor(app: FastifyInstance, limits: LoginLimits) {
    const limiter = (max: number, keyOf: (request: FastifyRequest) => string): Limiter =>
      app.createRateLimit({ max, timeWindow: limits.windowMs, keyGenerator: keyOf });
    this.limiters = [
      // An address never holds "|": the username after it cannot shift the key.
      [
        limiter(limits.failuresPerAccountMax, (r) => `login-account-address:${r.ip}|${usernameOf(r)}`),
        'this account from this address',
      ],
      [limiter(limits.failuresPerAddressMax, (r) => `login-address:${r.ip}`), 'this address'],
      [limiter(limits.failuresPerAccountTotalMax, (r) => `login-account:${usernameOf(r)}`), 'this account'],
    ];
  }

  /**
   * Runs a login attempt (`attempt` checks the credentials) unless one of its counters is at its
   * limit; a wrong-credential failure is counted on all three.
   * @throws {RateLimitedError} (429) when blocked; otherwise whatever `attempt` throws
   */
  async guard<T>(request: FastifyRequest, attempt: () => Promise<T>): Promise<T> {
    for (const [limiter, what] of this.limiters) {
      const state = await limiter(request, { increment: false });
      if (!state.isAllowed && state.remaining === 0)
        throw new RateLimitedError(`too many failed logins for ${what}: try again later`, state.ttlInSeconds);
    }
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof InvalidCredentialsError)
        await Promise.all(this.limiters.map(([limiter]) => limiter(request)));
      throw error;
    }
  }
}

function usernameOf(request: FastifyRequest): string {
  const body = request.body as { username?: unknown } | null | undefined;
  return typeof body?.username === 'string' ? body.username.trim().toLowerCase() : '';
}
