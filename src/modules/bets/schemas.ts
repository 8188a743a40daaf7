import { z } from 'zod';
import { idempotencyKeyHeader } from '../../platform/http/idempotency.js';
import { decimalOutput, pageQuery, positiveAmountInput } from '../../platform/http/schemas.js';

export const betOutput = z
  .object({
    id: z.uuid(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    direction: z.enum(['up', 'down']),
    stake: decimalOutput('held in escrow while pending, quote asset', '100'),
    leverage: z.number().int().meta({ example: 5 }),
    duration_seconds: z.number().meta({ example: 300 }),
    start_price: decimalOutput('the server’s last price when the bet was accepted', '46969.15'),
    due_at: z.string().meta({ description: 'when the bet is settled (ISO 8601 UTC)' }),
    status: z.enum(['pending', 'completed']),
    end_price: decimalOutput(
      'the market’s last price at the due time; null while pending',
      '47100',
    ).nullable(),
    end_price_at: z.string().nullable().meta({
      description:
        'when end_price was the market’s price (ISO 8601 UTC): the due time, or the settlement’s own instant where the due time’s price could not be had; null while pending',
    }),
    result: z
      .enum(['W', 'L', 'D'])
      .nullable()
      .meta({ description: 'W won, L lost, D draw; null while pending' }),
    profit: decimalOutput('signed, quote asset, never below −stake; null while pending', '13.93').nullable(),
    payout: decimalOutput('stake + profit, credited at settlement; null while pending', '113.93').nullable(),
    settled_at: z.string().nullable(),
    late: z.boolean().meta({
      description:
        'priced more than 1 s after due_at (e.g. after an outage), so at its due time’s price where the source has it',
    }),
    settlement_error: z.string().nullable().meta({
      description: 'why the last settlement attempt was refused (still pending, tried again); else null',
    }),
    created_at: z.string(),
  })
  .meta({ id: 'Bet' });

/** `stake` in the quote asset, `duration_seconds` in seconds (ms resolution). */
export const placeBetBody = z.object({
  wallet_id: z.uuid().optional().meta({ description: 'defaults to the caller’s default wallet' }),
  symbol: z.string().min(1).max(32).meta({ description: 'BTCUSDT or BTC', example: 'BTCUSDT' }),
  direction: z.enum(['up', 'down']).meta({ description: 'which way the price goes by the due time' }),
  stake: positiveAmountInput.meta({
    description: 'quote asset, ≥ BET_STAKE_MIN and ≤ the available balance; decimal string or number',
    example: '100',
  }),
  leverage: z.number().int().meta({ description: 'integer, 1 to BET_LEVERAGE_MAX (100)', example: 5 }),
  duration_seconds: z
    .number()
    .positive()
    .meta({ description: 'seconds until settlement, 1 s to 7 days (ms resolution)', example: 300 }),
});

export const placeBetHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });

/** The error answers of a bet placement, in a route family's error shape. */
export function placeBetErrorResponses<T extends z.ZodType>(error: T) {
  return { 400: error, 401: error, 404: error, 409: error, 422: error, 429: error, 503: error };
}

/** A page of the caller's bets, optionally in one status. */
export const betListQuery = pageQuery.extend({
  status: z.enum(['pending', 'completed']).optional().meta({ description: 'only bets in this status' }),
});

export const betPageOutput = z.object({ items: z.array(betOutput), next_cursor: z.string().nullable() });

/** Any string up to 64 characters: a malformed id answers 404 like an unknown one, not 422. */
export const betIdParam = z.object({ bet_id: z.string().max(64).meta({ description: 'bet id (UUID)' }) });
