import { z } from 'zod';
import { symbolInput } from '../../modules/tracking/index.js';
import { passwordInput, usernameInput } from '../../modules/users/index.js';

export const seedError = z.object({ error: z.string() }).meta({ description: 'seed 004’s error shape' });

export const tokenAnswer = z.object({
  token: z.string().meta({ description: 'JWT for Authorization: Bearer' }),
});

export const registerBody = z.object({ username: usernameInput, password: passwordInput });

/** A login's credentials, checked only for size (a wrong one is a 401, not a 400). */
export const credentials = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

/** `current_price` is a JSON number, in the quote asset. */
export const seedCrypto = z
  .object({
    symbol: z.string().meta({ example: 'BTC' }),
    name: z.string().meta({ example: 'Bitcoin' }),
    current_price: z.number().meta({ example: 45000.5 }),
    last_updated: z.string().meta({ example: '2024-01-01T12:00:00.000Z' }),
  })
  .meta({ description: 'seed 004’s crypto object' });

/** The error answers every crypto route may give. */
export const seedErrors = { 400: seedError, 401: seedError, 404: seedError, 503: seedError };

export const symbolParam = z.object({ symbol: symbolInput });

export const trackBody = z.object({ symbol: symbolInput });

export const cryptoListOutput = z.object({ cryptos: z.array(seedCrypto) });

/** The crypto added or refreshed, wrapped as seed 004 shows it. */
export const cryptoAnswer = z.object({ crypto: seedCrypto });

/** Kept prices, newest first: JSON numbers in the quote asset. */
export const cryptoHistoryOutput = z.object({
  symbol: z.string(),
  history: z.array(z.object({ price: z.number(), timestamp: z.string() })),
});

/** Statistics of the kept prices: JSON numbers (prices in the quote asset, the change in %). */
export const cryptoStatsOutput = z.object({
  symbol: z.string(),
  current_price: z.number(),
  stats: z.object({
    min_price: z.number(),
    max_price: z.number(),
    avg_price: z.number(),
    price_change: z.number(),
    price_change_percent: z.number(),
    records_count: z.number().int(),
  }),
});

/** `{}`: what seed 004 answers to a DELETE. */
export const emptyOutput = z.object({});
