import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type AuthRoutesDeps,
  emailInput,
  passwordInput,
  setAuthCookie,
  usernameInput,
} from '../../modules/auth/index.js';
import { authenticate, registerUser } from '../../modules/users/index.js';
import { installErrorHandlers } from '../../platform/http/error-handler.js';
import { renderSeed000Error } from './mappers.js';

const seedError = z.object({ detail: z.unknown() });

/**
 * Seed 000's broker API, as that seed documents it: `POST /login` → `{access_token, token_type}`
 * and `POST /new_user` → the created user. Thin adapters over the v1 services.
 */
export async function seed000Routes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  installErrorHandlers(app, renderSeed000Error, { notFound: false });
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/login',
    {
      schema: {
        tags: ['seed 000: broker'],
        summary: 'Log in (seed 000)',
        body: z.object({ username: z.string().min(1).max(256), password: z.string().min(1).max(1024) }),
        response: {
          200: z.object({ access_token: z.string(), token_type: z.literal('bearer') }),
          401: seedError,
          422: seedError,
          429: seedError,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await deps.throttle.guard(request, () => authenticate(deps.db, username, password));
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
      return { access_token: issued.accessToken, token_type: 'bearer' as const };
    },
  );

  r.post(
    '/new_user',
    {
      schema: {
        tags: ['seed 000: broker'],
        summary: 'Create a user (seed 000); the user gets a funded default wallet',
        body: z.object({ username: usernameInput, email: emailInput, password: passwordInput }),
        response: {
          200: z.object({
            id: z.uuid(),
            username: z.string(),
            email: z.string().nullable(),
            created_at: z.string(),
          }),
          409: seedError,
          422: seedError,
        },
      },
    },
    async (request) => {
      const user = await registerUser(deps, request.body);
      return { id: user.id, username: user.username, email: user.email, created_at: user.created_at };
    },
  );
}
