import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.js';
import { idempotencyScopeOf, sendFinalResponse } from '../../platform/http/idempotency.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import type { BetRow } from './repository.js';
import {
  betIdParam,
  betListQuery,
  betOutput,
  betPageOutput,
  placeBetBody,
  placeBetErrorResponses,
  placeBetHeaders,
} from './schemas.js';
import { getBet, listBets, type PlaceBetDeps, type PlaceBetInput, placeBet } from './service.js';
import { toBetView } from './views.js';

/** The bet rule, as the OpenAPI document states it. */
export const BET_RULE =
  'The start price is the server’s own last price when the bet is accepted (a client’s start_price is ignored); the end price is the market’s last price at the due time: the server’s current price when it settles the bet on time, and for a bet settled more than 1 s late (after an outage, then marked late) the price at its due time from the source’s history (Binance’s 1 s klines, the replay), the current price only where that cannot be had; end_price_at says which instant it is. A bet whose payout would take the wallet beyond the largest balance (10^15) stays pending with settlement_error and is tried again; stake × (leverage + 1) beyond that balance is refused at placement (422 BALANCE_LIMIT_EXCEEDED). profit = stake × leverage × (end − start) / start × (+1 up, −1 down), floored at −stake and rounded half-up to 8 decimals; payout = stake + profit goes back to the wallet. result: W when profit > 0, L when < 0, D when the price did not move. The stake is held in escrow (locked) while the bet is pending. Prices older than PRICE_MAX_AGE_MS are never used (503, or the settlement waits).';

/**
 * Places a bet for the request's caller and sends the answer: 201 with `present(bet)`, or a stored
 * answer when the request's Idempotency-Key was seen with the same request (see `placeBet`).
 */
export async function answerPlaceBet(
  deps: PlaceBetDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: PlaceBetInput,
  present: (bet: BetRow) => unknown,
): Promise<FastifyReply> {
  const userId = principalOf(request).userId;
  const scope = idempotencyScopeOf(request, userId, { ...input, stake: input.stake.toFixed() });
  const { response } = await placeBet(deps, userId, input, scope, {
    render: (bet) => ({ status: 201, body: present(bet) }),
  });
  return sendFinalResponse(reply, response);
}

export interface BetRoutesDeps extends PlaceBetDeps {
  requireAuth: onRequestAsyncHookHandler;
  /** the per-user limit of money-moving requests */
  moneyRateLimit: preHandlerAsyncHookHandler;
}

/** `POST /api/v1/bets`, `GET /api/v1/bets`, `GET /api/v1/bets/{bet_id}`: the caller's own bets. */
export async function betRoutes(app: FastifyInstance, deps: BetRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);

  r.post(
    '',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['bets'],
        summary: 'Bet that a price goes up or down by a due time, with leverage',
        description: `${BET_RULE} Honours Idempotency-Key.`,
        security: [{ bearerAuth: [] }],
        headers: placeBetHeaders,
        body: placeBetBody,
        response: { 201: betOutput, ...placeBetErrorResponses(errorResponse) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const input = {
        walletId: body.wallet_id?.toLowerCase(),
        symbol: body.symbol,
        direction: body.direction,
        stake: body.stake,
        leverage: body.leverage,
        durationMs: Math.round(body.duration_seconds * 1000),
      };
      return await answerPlaceBet(deps, request, reply, input, toBetView);
    },
  );

  r.get(
    '',
    {
      schema: {
        tags: ['bets'],
        summary: 'The caller’s bets, newest first',
        security: [{ bearerAuth: [] }],
        querystring: betListQuery,
        response: { 200: betPageOutput, 401: errorResponse, 422: errorResponse },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      return await listBets(deps.db, principalOf(request).userId, status, limit, cursor);
    },
  );

  r.get(
    '/:bet_id',
    {
      schema: {
        tags: ['bets'],
        summary: 'One of the caller’s bets (another user’s answers 404)',
        security: [{ bearerAuth: [] }],
        params: betIdParam,
        response: { 200: betOutput, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const betId = request.params.bet_id;
      if (!z.uuid().safeParse(betId).success) throw new NotFoundError(`bet ${betId} not found`);
      return toBetView(await getBet(deps.db, principalOf(request), betId.toLowerCase()));
    },
  );
}
