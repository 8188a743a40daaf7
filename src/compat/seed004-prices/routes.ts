import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type AuthRoutesDeps,
  passwordInput,
  setAuthCookie,
  usernameInput,
} from '../../modules/auth/index.js';
import { authenticate, registerUser } from '../../modules/users/index.js';
import { installErrorHandlers } from '../../platform/http/error-handler.js';
import { renderSeed004Error, seed004Status } from './mappers.js';

const seedError = z.object({ error: z.string() }).meta({ description: 'seed 004’s error shape' });
const tokenAnswer = z.object({ token: z.string().meta({ description: 'JWT for Authorization: Bearer' }) });

/**
 * Seed 004's auth contract, as that seed documents it: `POST /auth/register` → 201 `{token}` (400 for
 * a missing or invalid field, 409 for a taken username) and `POST /auth/login` → 200 `{token}` (400,
 * 401), errors `{"error": "text"}`. Thin adapters over the v1 services: the same users, funded
 * wallets, sessions, auth cookie and failed-login limits.
 */
export async function seed004AuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  installErrorHandlers(app, renderSeed004Error, { notFound: false, statusOf: seed004Status });
  const r = app.withTypeProvider<ZodTypeProvider>();
  const credentials = z.object({
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
  });

  r.post(
    '/register',
    {
      schema: {
        tags: ['seed 004: price server'],
        summary: 'Register (seed 004); the user also gets a funded default wallet',
        body: z.object({ username: usernameInput, password: passwordInput }),
        response: { 201: tokenAnswer, 400: seedError, 409: seedError },
      },
    },
    async (request, reply) => {
      const user = await registerUser(deps, { ...request.body, email: null });
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
      return reply.status(201).send({ token: issued.accessToken });
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['seed 004: price server'],
        summary: 'Log in (seed 004)',
        body: credentials,
        response: { 200: tokenAnswer, 400: seedError, 401: seedError, 429: seedError },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await deps.throttle.guard(request, () => authenticate(deps.db, username, password));
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
      return { token: issued.accessToken };
    },
  );
}
