import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  answerPlaceBet,
  getBet,
  type PlaceBetDeps,
  placeBetErrorResponses,
} from '../../modules/bets/index.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { idempotencyKeyHeader } from '../../platform/http/idempotency.js';
import { errorResponse, positiveAmountInput } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import { toTradeStatus, toTradeView } from './mappers.js';

const tradeBody = z.object({
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

export interface Seed002RoutesDeps extends PlaceBetDeps {
  requireAuth: onRequestAsyncHookHandler;
  moneyRateLimit: preHandlerAsyncHookHandler;
}

/**
 * Seed 002's bet contract, as that seed documents it: `POST /api/v1/trade_it/` → 201 with the bet
 * pending and the server's start price, `GET /api/v1/trade_status/{id}` → `{status, result,
 * profit}`; numbers are JSON numbers. A thin adapter over the bets service (the caller's default
 * wallet; JWT required). The seed documents no error body: being under `/api/v1`, its errors are
 * the product's one v1 shape (`{"error": {"code", "message", "details"}}`), with the v1 statuses.
 */
export async function seed002Routes(app: FastifyInstance, deps: Seed002RoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);

  r.post(
    '/api/v1/trade_it/',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['seed 002: bets'],
        summary: 'Place a bet (seed 002)',
        description:
          'The start price is the server’s own last price (a client’s start_price is ignored and the server’s returned). profit = bet_amount × leverage × (end − start) / start × (+1 up, −1 down), never below −bet_amount. Honours Idempotency-Key.',
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
        body: tradeBody,
        response: {
          201: z.object({
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
          }),
          ...placeBetErrorResponses(errorResponse),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const input = {
        walletId: undefined,
        symbol: body.exchange,
        direction: body.direction,
        stake: body.bet_amount,
        leverage: body.leverage,
        durationMs: Math.round(body.time * 60_000),
      };
      return await answerPlaceBet(deps, request, reply, input, toTradeView);
    },
  );

  r.get(
    '/api/v1/trade_status/:trade_id',
    {
      schema: {
        tags: ['seed 002: bets'],
        summary: 'A bet’s status and result (seed 002); another user’s bet answers 404',
        security: [{ bearerAuth: [] }],
        params: z.object({ trade_id: z.string().max(64) }),
        response: {
          200: z.object({
            status: z.enum(['pending', 'completed']),
            result: z.enum(['W', 'L', 'D']).nullable(),
            profit: z.number().nullable().meta({ description: 'quote asset; null while pending' }),
          }),
          401: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) => {
      const betId = request.params.trade_id;
      if (!z.uuid().safeParse(betId).success) throw new NotFoundError(`trade ${betId} not found`);
      const bet = await getBet(deps.db, principalOf(request), betId.toLowerCase());
      return toTradeStatus(bet);
    },
  );
}
