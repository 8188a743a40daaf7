import { z } from 'zod';
import { emailInput, passwordInput, usernameInput } from '../../modules/users/index.js';
import { positiveAmountInput } from '../../platform/http/schemas.js';

/** Seed 000's error body (FastAPI's): `{"detail": text}`, or a validation error's list of fields. */
export const seedError = z.object({ detail: z.unknown() });

/** A user as `GET /get_user_by_id` answers it: the email only in one's own (or an admin's) view. */
export const seedUserOutput = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string().nullable().optional(),
  created_at: z.string(),
});

export const loginBody = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

export const loginOutput = z.object({ access_token: z.string(), token_type: z.literal('bearer') });

export const newUserBody = z.object({ username: usernameInput, email: emailInput, password: passwordInput });

export const newUserOutput = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string().nullable(),
  created_at: z.string(),
});

export const userIdQuery = z.object({ user_id: z.uuid() });

/** Amounts are JSON numbers, in the asset's units (`balance`: the quote asset). */
export const seedWalletOutput = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  name: z.string(),
  balance: z.number().meta({ description: 'available quote asset' }),
  balances: z.array(z.object({ asset: z.string(), available: z.number(), locked: z.number() })),
  created_at: z.string(),
});

export const assetQuery = z.object({ asset_name: z.string().min(1).max(20).meta({ example: 'BTC' }) });

/** Prices are JSON numbers, in the quote asset per unit of `asset_name`. */
export const assetOutput = z.object({
  asset_name: z.string(),
  symbol: z.string(),
  price: z.number(),
  bid: z.number(),
  ask: z.number(),
  source: z.string(),
  as_of: z.string(),
  stale: z.boolean(),
});

export const transactionBody = z.object({
  asset_name: z.string().min(1).max(20).meta({ example: 'BTC' }),
  amount: positiveAmountInput.meta({ description: 'units of the asset', example: 0.012 }),
  transaction_type: z.enum(['buy', 'sell', 'short', 'close_short']),
});

export const transactionOutput = z.object({ status: z.literal('success') });
