import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../shared/errors.js';

/** Who is calling: established from a verified access token. */
export interface Principal {
  userId: string;
  role: 'user' | 'admin';
  /** the login (session) the token belongs to: logout revokes it */
  sessionId: string;
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

/** A state-changing request authenticated by cookie alone came from another site (403). */
export class CrossSiteRequestError extends DomainError {
  readonly code = 'CSRF_REJECTED';
}

/** Verifies an access token; rejects with `UnauthorizedError`. Supplied by the auth module. */
export type TokenVerifier = (token: string) => Promise<Principal>;

/** Name of the HttpOnly cookie that carries the access token for the web front end. */
export const AUTH_COOKIE_NAME = 'pb_access_token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The bearer token of `Authorization: Bearer <token>`, if any. */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * True when a request comes from this server's own pages: its `Origin` names the host it was sent
 * to, or the browser says `Sec-Fetch-Site: same-origin`. Browsers always send one of the two on a
 * cross-site POST, PUT, PATCH or DELETE, and a page cannot forge them.
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      const from = new URL(origin);
      // Parsed the same way, so "localhost:80" and "http://localhost" compare equal.
      return from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
    } catch {
      return false;
    }
  }
  return request.headers['sec-fetch-site'] === 'same-origin';
}

/**
 * An `onRequest` hook (so it runs before the body is even parsed) that requires a valid access token — `Authorization: Bearer <token>`, or the
 * HttpOnly cookie `pb_access_token` set at login — and sets `request.principal`. A state-changing
 * request authenticated by the cookie alone must also come from the same origin (CSRF: the cookie
 * is SameSite=Strict, and the Origin check stands behind it).
 * @throws {UnauthorizedError} (401) for a missing, malformed, expired, forged or revoked token
 * @throws {CrossSiteRequestError} (403) for a cookie-authenticated cross-site write
 */
export function createAuthGuard(verify: TokenVerifier) {
  return async function requireAuth(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const bearer = bearerToken(request);
    const cookie = bearer ? undefined : request.cookies?.[AUTH_COOKIE_NAME];
    const token = bearer ?? cookie;
    if (!token)
      throw new UnauthorizedError('missing bearer token: send Authorization: Bearer <access_token>');
    if (cookie && !SAFE_METHODS.has(request.method) && !isSameOrigin(request))
      throw new CrossSiteRequestError('a cookie-authenticated write must come from this site (Origin)');
    request.principal = await verify(token);
  };
}

/** The caller of a route behind the auth guard. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError('authentication required');
  return request.principal;
}
