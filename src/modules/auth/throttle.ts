import type {} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimitedError } from '../../platform/http/rate-limit.js';
import { InvalidCredentialsError } from '../users/errors.js';

/** Limits on failed logins (SPEC §3 "Abuse limits"). */
export interface LoginLimits {
  /** wrong-credential attempts per account per window */
  failuresPerAccountMax: number;
  /** wrong-credential attempts per client address per window */
  failuresPerAddressMax: number;
  windowMs: number;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Password-guessing protection: only wrong-credential answers (401) count, per account (the
 * username, case-insensitively) and per client address; once either reaches its limit within the
 * window, every login attempt for it answers 429 with `Retry-After` — even with the right password —
 * until the window ends. Counters live in @fastify/rate-limit's store: Redis when `REDIS_URL` is set
 * (shared by every instance), in process otherwise.
 */
export class LoginThrottle {
  private readonly byAccount: Limiter;
  private readonly byAddress: Limiter;

  /** @param app an instance with @fastify/rate-limit registered */
  constructor(app: FastifyInstance, limits: LoginLimits) {
    this.byAccount = app.createRateLimit({
      max: limits.failuresPerAccountMax,
      timeWindow: limits.windowMs,
      keyGenerator: (request) => `login-account:${usernameOf(request)}`,
    });
    this.byAddress = app.createRateLimit({
      max: limits.failuresPerAddressMax,
      timeWindow: limits.windowMs,
      keyGenerator: (request) => `login-address:${request.ip}`,
    });
  }

  /**
   * Runs a login attempt (`attempt` checks the credentials) unless the account or the address is
   * blocked; a wrong-credential failure is counted against both.
   * @throws {RateLimitedError} (429) when blocked; otherwise whatever `attempt` throws
   */
  async guard<T>(request: FastifyRequest, attempt: () => Promise<T>): Promise<T> {
    for (const [limiter, what] of [
      [this.byAccount, 'this account'],
      [this.byAddress, 'this address'],
    ] as const) {
      const state = await limiter(request, { increment: false });
      if (!state.isAllowed && state.remaining === 0)
        throw new RateLimitedError(`too many failed logins for ${what}: try again later`, state.ttlInSeconds);
    }
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof InvalidCredentialsError)
        await Promise.all([this.byAccount(request), this.byAddress(request)]);
      throw error;
    }
  }
}

function usernameOf(request: FastifyRequest): string {
  const body = request.body as { username?: unknown } | null | undefined;
  return typeof body?.username === 'string' ? body.username.trim().toLowerCase() : '';
}
