import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { userOutput } from '../auth/schemas.js';
import { getUser } from './service.js';

/** `GET /api/v1/users/me`. */
export async function userRoutes(
  app: FastifyInstance,
  deps: { db: Db; requireAuth: preHandlerAsyncHookHandler },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/me',
    {
      preHandler: deps.requireAuth,
      schema: {
        tags: ['users'],
        summary: 'The caller’s own profile',
        security: [{ bearerAuth: [] }],
        response: { 200: userOutput, 401: errorResponse },
      },
    },
    async (request) => await getUser(deps.db, principalOf(request).userId),
  );
}
