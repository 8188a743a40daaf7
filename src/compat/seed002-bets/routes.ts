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
import { errorResponse } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import { toTradeStatus, toTradeView } from './mappers.js';
import { tradeBody, tradeHeaders, tradeIdParam, tradeOutput, tradeStatusOutput } from './schemas.js';

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
        headers: tradeHeaders,
        body: tradeBody,
        response: { 201: tradeOutput, ...placeBetErrorResponses(errorResponse) },
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
        params: tradeIdParam,
        response: { 200: tradeStatusOutput, 401: errorResponse, 404: errorResponse },
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
