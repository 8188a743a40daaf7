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
import {
  idempotencyKeyHeader,
  idempotencyScopeOf,
  sendFinalResponse,
} from '../../platform/http/idempotency.js';
import { decimalOutput, errorResponse, pageQuery, positiveAmountInput } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import type { BetRow } from './repository.js';
import { getBet, listBets, type PlaceBetDeps, type PlaceBetInput, placeBet } from './service.js';
import { toBetView } from './views.js';

/** The bet rule, as the OpenAPI document states it. */
export const BET_RULE =
  'The start price is the server’s own last price when the bet is accepted (a client’s start_price is ignored); the end price is the market’s last price at the due time: the server’s current price when it settles the bet on time, and for a bet settled more than 1 s late (after an outage, then marked late) the price at its due time from the source’s history (Binance’s 1 s klines, the replay), the current price only where that cannot be had; end_price_at says which instant it is. A bet whose payout would take the wallet beyond the largest balance (10^15) stays pending with settlement_error and is tried again; stake × (leverage + 1) beyond that balance is refused at placement (422 BALANCE_LIMIT_EXCEEDED). profit = stake × leverage × (end − start) / start × (+1 up, −1 down), floored at −stake and rounded half-up to 8 decimals; payout = stake + profit goes back to the wallet. result: W when profit > 0, L when < 0, D when the price did not move. The stake is held in escrow (locked) while the bet is pending. Prices older than PRICE_MAX_AGE_MS are never used (503, or the settlement waits).';

const betOutput = z
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

const placeBetBody = z.object({
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

/** The error answers of a bet placement, in a route family's error shape. */
export function placeBetErrorResponses<T extends z.ZodType>(error: T) {
  return { 400: error, 401: error, 404: error, 409: error, 422: error, 429: error, 503: error };
}

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
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
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
        querystring: pageQuery.extend({
          status: z
            .enum(['pending', 'completed'])
            .optional()
            .meta({ description: 'only bets in this status' }),
        }),
        response: {
          200: z.object({ items: z.array(betOutput), next_cursor: z.string().nullable() }),
          401: errorResponse,
          422: errorResponse,
        },
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
        params: z.object({ bet_id: z.string().max(64).meta({ description: 'bet id (UUID)' }) }),
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
