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

/** Removes the auth cookie (logout). */
export function clearAuthCookie(reply: FastifyReply): void {
  reply.clearCookie(AUTH_COOKIE_NAME, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
}
