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

export const userOutput = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string().nullable(),
    role: z.enum(['user', 'admin']),
    created_at: z.string().meta({ example: '2026-11-25T12:00:00.000Z' }),
  })
  .meta({ id: 'User' });
