import type { FastifyReply } from 'fastify';
import { AUTH_COOKIE_NAME } from '../../platform/http/auth-guard.js';

/**
 * Sets the web front end's auth cookie: the access token, HttpOnly (no script can read it), Secure
 * (HTTPS only; browsers also accept it from http://localhost), SameSite=Strict (never sent by
 * another site's request), Path=/, expiring with the token.
 */
export function setAuthCookie(reply: FastifyReply, accessToken: string, maxAgeSeconds: number): void {
  reply.setCookie(AUTH_COOKIE_NAME, accessToken, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

/**
 * Name of the HttpOnly cookie that carries the refresh token for the web front end. Its path is the
 * auth routes only: it travels with nothing else, and no script can read it.
 */
export const REFRESH_COOKIE_NAME = 'pb_refresh_token';
const REFRESH_COOKIE_PATH = '/api/v1/auth';

/**
 * Sets the web front end's refresh cookie: the single-use refresh token, HttpOnly, Secure,
 * SameSite=Strict, sent only to `/api/v1/auth/*` (refresh and logout), expiring with the session.
 */
export function setRefreshCookie(reply: FastifyReply, refreshToken: string, maxAgeSeconds: number): void {
  reply.setCookie(REFRESH_COOKIE_NAME, refreshToken, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
    maxAge: maxAgeSeconds,
  });
}

/** Removes the auth cookie and the refresh cookie (logout, password change, account deletion). */
export function clearAuthCookie(reply: FastifyReply): void {
  reply.clearCookie(AUTH_COOKIE_NAME, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
  reply.clearCookie(REFRESH_COOKIE_NAME, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
  });
}
