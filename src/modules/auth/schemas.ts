import { z } from 'zod';

/** bcrypt reads at most 72 bytes of a password; a longer one would be silently cut, so it is refused. */
const PASSWORD_BYTES_MAX = 72;
const PASSWORD_LENGTH_MIN = 8;

export const usernameInput = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,64}$/, '3–64 characters: letters, digits, "_", "." or "-"')
  .meta({ description: 'unique, compared case-insensitively', example: 'alice' });

export const passwordInput = z
  .string()
  .min(PASSWORD_LENGTH_MIN, `at least ${PASSWORD_LENGTH_MIN} characters`)
  .refine((p) => Buffer.byteLength(p, 'utf8') <= PASSWORD_BYTES_MAX, `at most ${PASSWORD_BYTES_MAX} bytes`)
  .refine((p) => !p.includes('\u0000'), 'must not contain NUL characters')
  .meta({
    description: `${PASSWORD_LENGTH_MIN} characters to ${PASSWORD_BYTES_MAX} bytes`,
    example: 'correct horse battery',
  });

export const emailInput = z
  .email()
  .max(254)
  .meta({ description: 'optional contact address', example: 'alice@example.com' });

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

export const userOutput = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string().nullable(),
    role: z.enum(['user', 'admin']),
    created_at: z.string().meta({ example: '2026-11-25T12:00:00.000Z' }),
  })
  .meta({ id: 'User' });

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
