import type { FastifyInstance, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import {
  changePasswordBody,
  deleteAccountBody,
  profileOutput,
  updateProfileBody,
  userIdParam,
  userOutput,
} from './schemas.js';
import {
  changePassword,
  deleteAccount,
  getProfile,
  getUser,
  type SessionRevoker,
  updateProfile,
} from './service.js';

export interface UserRoutesDeps {
  db: Db;
  sessions: SessionRevoker;
  requireAuth: onRequestAsyncHookHandler;
  /** removes the session cookies from the answer (the auth module's; given by the app, so that users does not import auth) */
  clearSessionCookies: (reply: FastifyReply) => void;
}

/** Every user route needs a token (OpenAPI security requirement). */
const security = [{ bearerAuth: [] }];

/**
 * The caller's own profile (`/me`: read, change, delete, change password) and other users' public
 * profiles (`/{user_id}`; full for the user themself and for admins).
 */
export async function userRoutes(app: FastifyInstance, deps: UserRoutesDeps): Promise<void> {
  app.addHook('onRequest', deps.requireAuth);
  registerOwnProfile(app, deps);
  registerPasswordProtected(app, deps);
  registerProfiles(app, deps);
}

/** `GET /me` and `PATCH /me`: the caller's own profile. */
function registerOwnProfile(app: FastifyInstance, deps: UserRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

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
        body: updateProfileBody,
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
}

/** `DELETE /me` and `PUT /me/password`: what needs the current password. */
function registerPasswordProtected(app: FastifyInstance, deps: UserRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.delete(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete the caller’s account',
        description:
          'Needs the current password, so that an access token alone (a stolen one) cannot destroy the account: a wrong one answers 403 INVALID_CURRENT_PASSWORD, a missing one 422. A soft delete: the ledger history stays (and still balances), every session ends at once, and the username stays taken.',
        security,
        body: deleteAccountBody,
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
        body: changePasswordBody,
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
}

/** `GET /{user_id}`: any user's profile, public or full. */
function registerProfiles(app: FastifyInstance, deps: UserRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/:user_id',
    {
      schema: {
        tags: ['users'],
        summary: 'A user’s profile: public for others, full for themself and admins',
        security,
        params: userIdParam,
        response: { 200: profileOutput, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const userId = request.params.user_id.toLowerCase();
      if (!z.uuid().safeParse(userId).success) throw new NotFoundError(`user ${userId} not found`);
      return await getProfile(deps.db, principalOf(request), userId);
    },
  );
}
