import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../../platform/db/client.js';
import { errorResponse } from '../../platform/http/schemas.js';
import type { Ledger } from '../ledger/index.js';
import { authenticate, registerUser } from '../users/service.js';
import { loginBody, registerBody, registerOutput, tokenOutput } from './schemas.js';
import type { TokenService } from './tokens.js';

export interface AuthRoutesDeps {
  db: Db;
  ledger: Ledger;
  tokens: TokenService;
  initialBalance: string;
  quoteAsset: string;
}

/** `POST /api/v1/auth/register` and `POST /api/v1/auth/login` (public). */
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
      const access = await deps.tokens.issueAccessToken({ userId: user.id, role: user.role });
      return reply.status(201).send({ user, access_token: access.token, token_type: 'bearer' as const });
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with JSON or the OAuth2 password form',
        body: loginBody,
        response: { 200: tokenOutput, 401: errorResponse, 422: errorResponse },
      },
    },
    async (request) => {
      const user = await authenticate(deps.db, request.body.username, request.body.password);
      const access = await deps.tokens.issueAccessToken({ userId: user.id, role: user.role });
      return {
        access_token: access.token,
        token_type: 'bearer' as const,
        expires_in: access.expiresInSeconds,
      };
    },
  );
}
