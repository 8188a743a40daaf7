import { z } from 'zod';
import { type Decimal, parsePositiveAmount } from '../../shared/decimal.js';

/**
 * A positive amount sent as a decimal string (`"0.5"`) or a JSON number (`0.5`); at most 8 decimal
 * places; a JSON number with more than 15 significant digits is refused as ambiguous. Parsed into a
 * `Decimal`, never a float.
 */
export const positiveAmountInput = z
  .union([z.string().max(64), z.number()])
  .transform((input, ctx): Decimal => {
    const parsed = parsePositiveAmount(input);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.reason });
      return z.NEVER;
    }
    return parsed.value;
  });

/** A decimal string in a response, e.g. `"43250.12"`. */
export const decimalOutput = (description: string, example: string) =>
  z.string().meta({ description, example });

/** The product's one error body (SPEC §3), for the OpenAPI document. */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable machine code', example: 'INSUFFICIENT_FUNDS' }),
      message: z.string().meta({ description: 'human-readable explanation', example: 'insufficient funds' }),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error', description: 'Every v1 error has this shape' });

/** Query parameters of a paginated list. */
/**
 * The error answers of a money-moving route (refused 400, unauthenticated 401, not the caller's 404,
 * conflicting 409, invalid 422, rate-limited 429, unavailable 503), for its response map.
 */
export const moneyRouteErrors = {
  400: errorResponse,
  401: errorResponse,
  404: errorResponse,
  409: errorResponse,
  422: errorResponse,
  429: errorResponse,
  503: errorResponse,
} as const;

export const pageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .meta({ description: 'items per page (1–100)', example: 50 }),
  cursor: z.string().max(200).optional().meta({ description: 'opaque cursor from next_cursor' }),
});
