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

/** The account's current password, which the password change and the account deletion ask for. */
export const currentPasswordInput = z
  .string()
  .min(1)
  .max(1024)
  .meta({ description: 'the account’s current password', example: 'correct horse battery' });

export const publicUserOutput = z
  .object({ id: z.uuid(), username: z.string(), created_at: z.string() })
  .meta({ id: 'PublicUser', description: 'another user’s profile: never the email' });

/** Either a user's full profile (their own, or any for an admin) or the public one. */
export const profileOutput = z.union([userOutput, publicUserOutput]);

/** At least one of the two; `email: null` removes the address. */
export const updateProfileBody = z
  .strictObject({ username: usernameInput.optional(), email: emailInput.nullable().optional() })
  .refine((b) => b.username !== undefined || b.email !== undefined, {
    message: 'give username or email',
  });

export const deleteAccountBody = z.object({ current_password: currentPasswordInput });

export const changePasswordBody = z.object({
  current_password: currentPasswordInput,
  new_password: passwordInput,
});

/** Any string up to 64 characters: a malformed id answers 404 like an unknown one, not 422. */
export const userIdParam = z.object({ user_id: z.string().max(64) });
