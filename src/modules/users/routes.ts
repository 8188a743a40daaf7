import type { FastifyInstance, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import { emailInput, passwordInput, usernameInput, userOutput } from './schemas.js';
import {
  changePassword,
  deleteAccount,
  getProfile,
  getUser,
  type SessionRevoker,
  updateProfile,
} from './service.js';

/** The account's current password, which the password change and the account deletion ask for. */
const currentPasswordInput = z
  .string()
  .min(1)
  .max(1024)
  .meta({ description: 'the account’s current password', example: 'correct horse battery' });

const publicUserOutput = z
  .object({ id: z.uuid(), username: z.string(), created_at: z.string() })
  .meta({ id: 'PublicUser', description: 'another user’s profile: never the email' });

export interface UserRoutesDeps {
  db: Db;
  sessions: SessionRevoker;
  requireAuth: onRequestAsyncHookHandler;
  /** removes the session cookies from the answer (the auth module's; given by the app, so that users does not import auth) */
  clearSessionCookies: (reply: FastifyReply) => void;
}

/**
 * The caller's own profile (`/me`: read, change, delete, change password) and other users' public
 * profiles (`/{user_id}`; full for the user themself and for admins).
 */
export async function userRoutes(app: FastifyInstance, deps: UserRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  const security = [{ bearerAuth: [] }];

  r.get(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'The caller’s own profile',
        security,
        response: { 200: userOutput, 401: errorResponse },
      },
    },
    async (request) => await getUser(deps.db, principalOf(request).userId),
  );

  r.patch(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Change the caller’s username or email',
        security,
        body: z
          .strictObject({ username: usernameInput.optional(), email: emailInput.nullable().optional() })
          .refine((b) => b.username !== undefined || b.email !== undefined, {
            message: 'give username or email',
          }),
        response: {
          200: userOutput,
          401: errorResponse,
          403: errorResponse,
          409: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (request) => await updateProfile(deps.db, principalOf(request).userId, request.body),
  );

  r.delete(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete the caller’s account',
        description:
          'Needs the current password, so that an access token alone (a stolen one) cannot destroy the account: a wrong one answers 403 INVALID_CURRENT_PASSWORD, a missing one 422. A soft delete: the ledger history stays (and still balances), every session ends at once, and the username stays taken.',
        security,
        body: z.object({ current_password: currentPasswordInput }),
        response: { 204: z.null(), 401: errorResponse, 403: errorResponse, 422: errorResponse },
      },
    },
    async (request, reply) => {
      await deleteAccount(deps.db, deps.sessions, principalOf(request).userId, request.body.current_password);
      deps.clearSessionCookies(reply);
      return reply.status(204).send(null);
    },
  );

  r.put(
    '/me/password',
    {
      schema: {
        tags: ['users'],
        summary: 'Change the caller’s password; every other session ends',
        security,
        body: z.object({ current_password: currentPasswordInput, new_password: passwordInput }),
        response: { 204: z.null(), 401: errorResponse, 403: errorResponse, 422: errorResponse },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await changePassword(
        deps.db,
        deps.sessions,
        principal,
        request.body.current_password,
        request.body.new_password,
      );
      return reply.status(204).send(null);
    },
  );

  r.get(
    '/:user_id',
    {
      schema: {
        tags: ['users'],
        summary: 'A user’s profile: public for others, full for themself and admins',
        security,
        params: z.object({ user_id: z.string().max(64) }),
        response: { 200: z.union([userOutput, publicUserOutput]), 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const userId = request.params.user_id.toLowerCase();
      if (!z.uuid().safeParse(userId).success) throw new NotFoundError(`user ${userId} not found`);
      return await getProfile(deps.db, principalOf(request), userId);
    },
  );
}
