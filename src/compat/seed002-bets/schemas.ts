import { z } from 'zod';
import { idempotencyKeyHeader } from '../../platform/http/idempotency.js';
import { positiveAmountInput } from '../../platform/http/schemas.js';

/** `bet_amount` in the quote asset, `time` in minutes; `start_price` is ignored. */
export const tradeBody = z.object({
  exchange: z
    .string()
    .min(1)
    .max(32)
    .meta({ description: 'the asset, e.g. BTC (or BTCUSDT)', example: 'BTC' }),
  bet_amount: positiveAmountInput.meta({ description: 'the stake in the quote asset (USDT)', example: 100 }),
  leverage: z.number().int().meta({ description: 'integer, 1 to 100', example: 5 }),
  direction: z.enum(['up', 'down']),
  time: z
    .number()
    .positive()
    .meta({ description: 'minutes until settlement, fractions allowed', example: 5 }),
  start_price: z
    .union([z.number(), z.string().max(64)])
    .optional()
    .meta({ description: 'ignored: the server uses and returns its own price', example: 50000 }),
});

export const tradeHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });

/** The bet placed: amounts and prices are JSON numbers (quote asset), `time` in minutes. */
export const tradeOutput = z.object({
  id: z.uuid(),
  status: z.literal('pending'),
  exchange: z.string(),
  symbol: z.string(),
  bet_amount: z.number(),
  leverage: z.number(),
  direction: z.enum(['up', 'down']),
  time: z.number().meta({ description: 'minutes' }),
  start_price: z.number().meta({ description: 'the server’s price, not the client’s' }),
  due_at: z.string(),
});

/** Any string up to 64 characters: a malformed id answers 404 like an unknown one, not 422. */
export const tradeIdParam = z.object({ trade_id: z.string().max(64) });

export const tradeStatusOutput = z.object({
  status: z.enum(['pending', 'completed']),
  result: z.enum(['W', 'L', 'D']).nullable(),
  profit: z.number().nullable().meta({ description: 'quote asset; null while pending' }),
});
