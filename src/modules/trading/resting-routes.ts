import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { principalOf } from '../../platform/http/auth-guard.js';
import { idempotencyScopeOf, sendFinalResponse } from '../../platform/http/idempotency.js';
import { errorResponse, moneyRouteErrors } from '../../platform/http/schemas.js';
import { defined } from '../../shared/assert.js';
import { cancelAllOrders, cancelOrder, placeOco, replaceOrder } from './resting.js';
import type { TradingRoutesDeps } from './routes.js';
import {
  cancelAllQuery,
  ocoOutput,
  orderIdParam,
  orderListOutput,
  orderOutput,
  placeOcoBody,
  placeOrderHeaders,
  replaceOrderBody,
} from './schemas.js';
import { toOrderView } from './views.js';

/**
 * `POST /oco`, `DELETE /{order_id}`, `DELETE ?symbol=`, `PATCH /{order_id}`: OCOs, cancels and
 * cancel-replace of resting orders.
 */
export function registerRestingOrderRoutes(app: FastifyInstance, deps: TradingRoutesDeps): void {
  registerOco(app, deps);
  registerCancels(app, deps);
  registerReplace(app, deps);
}

function registerOco(app: FastifyInstance, deps: TradingRoutesDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/oco',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['trading'],
        summary: 'Place an OCO: a limit_maker leg and a stop leg, one cancels the other',
        description:
          'A sell OCO: price above the market, stop_price below it; a buy OCO the other way round. The stop leg is a stop_loss_limit at stop_limit_price when given, else a stop_loss. What the dearer leg may spend is reserved once; one leg filling or triggering cancels the other in the same transaction. Honours Idempotency-Key.',
        security: [{ bearerAuth: [] }],
        headers: placeOrderHeaders,
        body: placeOcoBody,
        response: {
          201: ocoOutput,
          ...moneyRouteErrors,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const userId = principalOf(request).userId;
      const scope = idempotencyScopeOf(request, userId, {
        ...body,
        quantity: body.quantity.toFixed(),
        price: body.price.toFixed(),
        stop_price: body.stop_price.toFixed(),
        stop_limit_price: body.stop_limit_price?.toFixed(),
      });
      const { response } = await placeOco(
        deps,
        userId,
        {
          walletId: body.wallet_id?.toLowerCase(),
          symbol: body.symbol,
          side: body.side,
          quantity: body.quantity,
          price: body.price,
          stopPrice: body.stop_price,
          stopLimitPrice: body.stop_limit_price,
          timeInForce: body.time_in_force,
          clientOrderId: body.client_order_id,
        },
        scope,
        {
          render: (legs) => ({
            status: 201,
            body: { id: defined(legs[0]?.orderListId), orders: legs.map(toOrderView) },
          }),
        },
      );
      return sendFinalResponse(reply, response);
    },
  );
}

function registerCancels(app: FastifyInstance, deps: TradingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.delete(
    '/:order_id',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['trading'],
        summary: 'Cancel one of the caller’s open orders (an OCO leg cancels its OCO)',
        description: 'Its reservation goes back to the free balance. Not open any more → 409 ORDER_NOT_OPEN.',
        security: [{ bearerAuth: [] }],
        params: orderIdParam,
        response: {
          200: orderOutput,
          401: errorResponse,
          404: errorResponse,
          409: errorResponse,
          429: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request) => {
      const [canceled] = await cancelOrder(deps, principalOf(request).userId, request.params.order_id);
      return toOrderView(defined(canceled));
    },
  );
  r.delete(
    '',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['trading'],
        summary: 'Cancel every open order of a wallet on a symbol',
        security: [{ bearerAuth: [] }],
        querystring: cancelAllQuery,
        response: {
          200: orderListOutput,
          401: errorResponse,
          404: errorResponse,
          422: errorResponse,
          429: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request) => {
      const { symbol, wallet_id } = request.query;
      const canceled = await cancelAllOrders(
        deps,
        principalOf(request).userId,
        wallet_id?.toLowerCase(),
        symbol,
      );
      return { items: canceled.map(toOrderView) };
    },
  );
}

function registerReplace(app: FastifyInstance, deps: TradingRoutesDeps): void {
  app.withTypeProvider<ZodTypeProvider>().patch(
    '/:order_id',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['trading'],
        summary: 'Cancel-replace an open order: a new order in its place, or no change at all',
        description:
          'The old order is canceled (replaced_by names the new one) and a new order of the same type and side placed with the changed price, stop_price or quantity, atomically. A replacement the book already crosses → 422 WOULD_MATCH_IMMEDIATELY; an OCO leg → 409.',
        security: [{ bearerAuth: [] }],
        params: orderIdParam,
        body: replaceOrderBody,
        response: {
          201: orderOutput,
          ...moneyRouteErrors,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { placed } = await replaceOrder(deps, principalOf(request).userId, request.params.order_id, {
        price: body.price,
        stopPrice: body.stop_price,
        quantity: body.quantity,
      });
      return reply.status(201).send(toOrderView(placed));
    },
  );
}
