import { z } from 'zod';
import { emailInput, passwordInput, usernameInput, userOutput } from '../users/index.js';

export const registerBody = z.object({
  username: usernameInput,
  password: passwordInput,
  email: emailInput.nullish(),
});

/** JSON or the OAuth2 password form (`grant_type=password&username=…&password=…`). */
export const loginBody = z.object({
  username: z.string().min(1).max(256).meta({ example: 'alice' }),
  password: z.string().min(1).max(1024).meta({ example: 'correct horse battery' }),
  grant_type: z.literal('password').optional().meta({ description: 'OAuth2 password grant' }),
  scope: z.string().max(1024).optional(),
  client_id: z.string().max(256).optional(),
  client_secret: z.string().max(256).optional(),
});

export const tokenOutput = z
  .object({
    access_token: z.string().meta({ description: 'HS256 JWT for Authorization: Bearer' }),
    token_type: z.literal('bearer'),
    expires_in: z
      .number()
      .int()
      .meta({ description: 'seconds until the access token expires', example: 900 }),
    refresh_token: z.string().meta({ description: 'single use: exchange it at /api/v1/auth/refresh' }),
  })
  .meta({ id: 'Tokens' });

export const registerOutput = z.object({
  user: userOutput,
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string(),
});

export const refreshBody = z.object({
  refresh_token: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .meta({ description: 'from login or the last refresh; absent: the pb_refresh_token cookie' }),
});

/** The refresh token to revoke with the session (optional: the access token names the session). */
export const logoutBody = z.object({ refresh_token: z.string().max(256).optional() }).nullish();
