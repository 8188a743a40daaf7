import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.js';
import { decimalOutput, errorResponse, pageQuery, positiveAmountInput } from '../../platform/http/schemas.js';
import { getOrder, listOrders, placeOrder, type TradingDeps } from './service.js';

const orderOutput = z
  .object({
    id: z.uuid(),
    client_order_id: z.string().nullable(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    side: z.enum(['buy', 'sell']),
    quantity: decimalOutput('base asset', '0.01'),
    price: decimalOutput('fill price, quote asset per base unit', '46969.15'),
    notional: decimalOutput('price × quantity, quote asset', '469.6915'),
    fee: decimalOutput('taker fee, quote asset', '0.4696915'),
    status: z.literal('filled'),
    created_at: z.string(),
  })
  .meta({ id: 'Order' });

const placeOrderBody = z.object({
  wallet_id: z.uuid().optional().meta({ description: 'defaults to the caller’s default wallet' }),
  symbol: z.string().min(1).max(32).meta({ description: 'BTCUSDT or BTC', example: 'BTCUSDT' }),
  side: z.enum(['buy', 'sell']).meta({ description: 'buy fills at the ask, sell at the bid' }),
  quantity: positiveAmountInput.meta({
    description: 'base asset, decimal string or number, ≤ 8 decimals',
    example: '0.01',
  }),
  client_order_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,48}$/, '1–48 letters, digits, "_", ".", ":" or "-"')
    .optional()
    .meta({ description: 'unique per user: a repeat returns the first order (200)' }),
});

export interface TradingRoutesDeps extends TradingDeps {
  requireAuth: onRequestAsyncHookHandler;
  /** the per-user limit of money-moving requests */
  moneyRateLimit: preHandlerAsyncHookHandler;
}

/** `POST /api/v1/orders`, `GET /api/v1/orders`, `GET /api/v1/orders/{id}`. */
export async function orderRoutes(app: FastifyInstance, deps: TradingRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);

  r.post(
    '',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['trading'],
        summary: 'Place a market order, filled at once',
        security: [{ bearerAuth: [] }],
        body: placeOrderBody,
        response: {
          200: orderOutput,
          201: orderOutput,
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
          422: errorResponse,
          429: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { order, created } = await placeOrder(deps, principalOf(request).userId, {
        walletId: body.wallet_id,
        symbol: body.symbol,
        side: body.side,
        quantity: body.quantity,
        clientOrderId: body.client_order_id,
      });
      return reply.status(created ? 201 : 200).send(order);
    },
  );

  r.get(
    '',
    {
      schema: {
        tags: ['trading'],
        summary: 'The caller’s orders, newest first',
        security: [{ bearerAuth: [] }],
        querystring: pageQuery,
        response: {
          200: z.object({ items: z.array(orderOutput), next_cursor: z.string().nullable() }),
          401: errorResponse,
        },
      },
    },
    async (request) =>
      await listOrders(deps.db, principalOf(request).userId, request.query.limit, request.query.cursor),
  );

  r.get(
    '/:order_id',
    {
      schema: {
        tags: ['trading'],
        summary: 'One of the caller’s orders',
        security: [{ bearerAuth: [] }],
        params: z.object({ order_id: z.uuid() }),
        response: { 200: orderOutput, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => await getOrder(deps.db, principalOf(request), request.params.order_id),
  );
}
