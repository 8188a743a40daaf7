import type { FastifyInstance, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../platform/db/client.js';
import {
  CrossSiteRequestError,
  isSameOrigin,
  principalOf,
  UnauthorizedError,
} from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { ValidationError } from '../../shared/errors.js';
import type { Ledger } from '../ledger/index.js';
import { authenticate, registerUser } from '../users/index.js';
import { clearAuthCookie, REFRESH_COOKIE_NAME, setAuthCookie, setRefreshCookie } from './cookie.js';
import { loginBody, logoutBody, refreshBody, registerBody, registerOutput, tokenOutput } from './schemas.js';
import type { IssuedTokens, SessionService } from './sessions.js';
import type { LoginThrottle } from './throttle.js';

/**
 * Sets the auth and refresh cookies (the web terminal's session) and returns the token body of
 * login, register and refresh.
 */
function tokenAnswer(reply: FastifyReply, issued: IssuedTokens, refreshTtlSeconds: number) {
  setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
  setRefreshCookie(reply, issued.refreshToken, refreshTtlSeconds);
  return {
    access_token: issued.accessToken,
    token_type: 'bearer' as const,
    expires_in: issued.expiresInSeconds,
    refresh_token: issued.refreshToken,
  };
}

export interface AuthRoutesDeps {
  db: Db;
  ledger: Ledger;
  sessions: SessionService;
  throttle: LoginThrottle;
  requireAuth: onRequestAsyncHookHandler;
  initialBalance: string;
  quoteAsset: string;
}

/**
 * `POST /api/v1/auth/register`, `/login` (public), `/refresh` (public, with a refresh token) and
 * `/logout` (authenticated). Register and login also set the HttpOnly auth cookie.
 */
export async function authRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Register and receive a funded default wallet',
        body: registerBody,
        response: { 201: registerOutput, 409: errorResponse, 422: errorResponse },
      },
    },
    async (request, reply) => {
      const user = await registerUser(deps, {
        username: request.body.username,
        password: request.body.password,
        email: request.body.email ?? null,
      });
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      const tokens = tokenAnswer(reply, issued, deps.sessions.refreshTtlSeconds);
      return reply.status(201).send({ user, ...tokens });
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with JSON or the OAuth2 password form',
        description:
          'Answers an access token (also set as the HttpOnly cookie pb_access_token) and a single-use refresh token.',
        body: loginBody,
        response: { 200: tokenOutput, 401: errorResponse, 422: errorResponse, 429: errorResponse },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await deps.throttle.guard(request, () => authenticate(deps.db, username, password));
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      return tokenAnswer(reply, issued, deps.sessions.refreshTtlSeconds);
    },
  );

  r.post(
    '/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for new tokens (rotation)',
        description:
          'Each refresh token works once. Presenting a rotated one again revokes its whole session (401): someone else has it. The token comes in the body, or (the web terminal) in the HttpOnly cookie pb_refresh_token set at login, from this site only (else 403).',
        body: refreshBody.nullish(),
        response: { 200: tokenOutput, 401: errorResponse, 403: errorResponse, 422: errorResponse },
      },
    },
    async (request, reply) => {
      const cookie = request.cookies?.[REFRESH_COOKIE_NAME];
      const token = request.body?.refresh_token ?? cookie;
      // No body and no cookie: no credential at all (the web terminal of a signed-out visitor).
      const noBody = request.body == null && Number(request.headers['content-length'] ?? 0) === 0;
      if (!token && noBody)
        throw new UnauthorizedError('no refresh token: send it in the body, or sign in again');
      if (!token) {
        const message = 'is required (in the body, or the pb_refresh_token cookie)';
        throw new ValidationError(`invalid request: body.refresh_token ${message}`, {
          fields: [{ field: 'body.refresh_token', message }],
        });
      }
      if (token === cookie && !isSameOrigin(request))
        throw new CrossSiteRequestError('a cookie refresh must come from this site (Origin)');
      return tokenAnswer(reply, await deps.sessions.refresh(token), deps.sessions.refreshTtlSeconds);
    },
  );

  r.post(
    '/logout',
    {
      onRequest: deps.requireAuth,
      schema: {
        tags: ['auth'],
        summary: 'End the session: its access and refresh tokens stop working at once',
        security: [{ bearerAuth: [] }],
        body: logoutBody,
        response: { 204: z.null(), 401: errorResponse, 403: errorResponse, 422: errorResponse },
      },
    },
    async (request, reply) => {
      const refreshToken = request.body?.refresh_token ?? request.cookies?.[REFRESH_COOKIE_NAME];
      await deps.sessions.logout(principalOf(request), refreshToken);
      clearAuthCookie(reply);
      return reply.status(204).send(null);
    },
  );
}
