import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../shared/errors.js';

/** Who is calling: established from a verified access token. */
export interface Principal {
  userId: string;
  role: 'user' | 'admin';
}

/** Missing, malformed, expired or forged credentials (always 401, never 403 or 500). */
export class UnauthorizedError extends DomainError {
  readonly code = 'UNAUTHORIZED';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard on protected routes. */
    principal: Principal | undefined;
  }
}

/** Verifies an access token; rejects with `UnauthorizedError`. Supplied by the auth module. */
export type TokenVerifier = (token: string) => Promise<Principal>;

/** The bearer token of `Authorization: Bearer <token>`, if any. */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * A `preHandler` hook that requires a valid bearer access token and sets `request.principal`.
 * @throws {UnauthorizedError} for a missing, malformed, expired or forged token
 */
export function createAuthGuard(verify: TokenVerifier) {
  return async function requireAuth(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    if (!token)
      throw new UnauthorizedError('missing bearer token: send Authorization: Bearer <access_token>');
    request.principal = await verify(token);
  };
}

/** The caller of a route behind the auth guard. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError('authentication required');
  return request.principal;
}
