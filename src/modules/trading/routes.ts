import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.js';
import { idempotencyScopeOf, sendFinalResponse } from '../../platform/http/idempotency.js';
import { errorResponse, moneyRouteErrors } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import { getPortfolio, listPositions } from './portfolio.js';
import { registerRestingOrderRoutes } from './resting-routes.js';
import {
  orderIdParam,
  orderListQuery,
  orderOutput,
  orderPageOutput,
  placeOrderBody,
  placeOrderHeaders,
  portfolioOutput,
  portfolioWalletParam,
  positionListOutput,
} from './schemas.js';
import { getOrder, listOrders, placeOrder, type TradingDeps } from './service.js';
import { toOrderView } from './views.js';

export interface TradingRoutesDeps extends TradingDeps {
  requireAuth: onRequestAsyncHookHandler;
  /** the per-user limit of money-moving requests */
  moneyRateLimit: preHandlerAsyncHookHandler;
}

/** `POST /api/v1/orders`, `GET /api/v1/orders`, `GET /api/v1/orders/{id}`. */
export async function orderRoutes(app: FastifyInstance, deps: TradingRoutesDeps): Promise<void> {
  app.addHook('onRequest', deps.requireAuth);
  registerPlaceOrder(app, deps);
  registerOrderReads(app, deps);
  registerRestingOrderRoutes(app, deps);
}

/** `POST ''`: a market order, filled at once. */
function registerPlaceOrder(app: FastifyInstance, deps: TradingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['trading'],
        summary: 'Place an order: market (filled at once), limit, limit_maker, stop or take-profit',
        description:
          'Binance’s PRICE_FILTER (price, stop_price), LOT_SIZE and MIN_NOTIONAL/NOTIONAL filters apply (422 FILTER_FAILURE naming the filter). Market orders and marketable limits fill at once at the book with the taker fee TAKER_FEE_RATE; resting orders fill at their limit price with MAKER_FEE_RATE, and reserve what they may spend (a buy price × quantity + the fee at the higher rate; a sell its quantity; a short its initial margin and fee; a close_short its buy-back and fee; the stop types at stop_price × 1.05) until they fill or are canceled. An IOC/FOK that cannot fill at once answers 201 with status expired. A limit_maker that would fill at once → 422 WOULD_MATCH_IMMEDIATELY; a stop whose trigger the last price has reached → 422 WOULD_TRIGGER_IMMEDIATELY; more than 200 open orders in a wallet → 409 TOO_MANY_OPEN_ORDERS. A short without enough free quote for its margin and fee → 400 INSUFFICIENT_MARGIN; close_short without an open short → 409 NO_OPEN_SHORT. Honours Idempotency-Key.',
        security: [{ bearerAuth: [] }],
        headers: placeOrderHeaders,
        body: placeOrderBody,
        response: {
          200: orderOutput,
          201: orderOutput,
          ...moneyRouteErrors,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const userId = principalOf(request).userId;
      const scope = idempotencyScopeOf(request, userId, {
        ...body,
        quantity: body.quantity?.toFixed(),
        quote_amount: body.quote_amount?.toFixed(),
        price: body.price?.toFixed(),
        stop_price: body.stop_price?.toFixed(),
      });
      const { response } = await placeOrder(
        deps,
        userId,
        {
          walletId: body.wallet_id?.toLowerCase(),
          symbol: body.symbol,
          side: body.side,
          type: body.type,
          quantity: body.quantity,
          quoteAmount: body.quote_amount,
          price: body.price,
          stopPrice: body.stop_price,
          timeInForce: body.time_in_force,
          clientOrderId: body.client_order_id,
        },
        scope,
        { render: (order) => ({ status: 201, body: toOrderView(order) }) },
      );
      return sendFinalResponse(reply, response);
    },
  );
}

/** `GET ''` (the caller's orders) and `GET /{order_id}` (one of them). */
function registerOrderReads(app: FastifyInstance, deps: TradingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '',
    {
      schema: {
        tags: ['trading'],
        summary: 'The caller’s orders, newest first',
        security: [{ bearerAuth: [] }],
        querystring: orderListQuery,
        response: { 200: orderPageOutput, 401: errorResponse, 422: errorResponse },
      },
    },
    async (request) => {
      const { symbol, side, status, limit, cursor } = request.query;
      return await listOrders(deps, principalOf(request).userId, { symbol, side, status }, limit, cursor);
    },
  );

  r.get(
    '/:order_id',
    {
      schema: {
        tags: ['trading'],
        summary: 'One of the caller’s orders',
        security: [{ bearerAuth: [] }],
        params: orderIdParam,
        response: { 200: orderOutput, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => await getOrder(deps.db, principalOf(request), request.params.order_id),
  );
}

/** `GET /api/v1/positions`: the caller's open shorts. */
export async function positionRoutes(app: FastifyInstance, deps: TradingRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  r.get(
    '',
    {
      schema: {
        tags: ['trading'],
        summary: 'The caller’s open short positions, valued at the current ask',
        security: [{ bearerAuth: [] }],
        response: { 200: positionListOutput, 401: errorResponse, 503: errorResponse },
      },
    },
    async (request) =>
      await listPositions(
        { ...deps, maintenanceMarginRate: deps.margin.maintenance },
        principalOf(request).userId,
      ),
  );
}

/** `GET /api/v1/wallets/{wallet_id}/portfolio`. */
export async function portfolioRoutes(app: FastifyInstance, deps: TradingRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  r.get(
    '/:wallet_id/portfolio',
    {
      schema: {
        tags: ['wallets'],
        summary: 'The wallet’s holdings and short positions valued at live prices',
        description:
          'Holdings at the bid, shorts at the ask. Average cost and realized P&L by the average-cost method over the wallet’s fills (fees included; units deposited carry no cost). equity = cash + Σ holdings × bid − Σ shorts × ask.',
        security: [{ bearerAuth: [] }],
        params: portfolioWalletParam,
        response: { 200: portfolioOutput, 401: errorResponse, 404: errorResponse, 503: errorResponse },
      },
    },
    async (request) => {
      const walletId = request.params.wallet_id;
      if (!z.uuid().safeParse(walletId).success) throw new NotFoundError(`wallet ${walletId} not found`);
      return await getPortfolio(
        { ...deps, maintenanceMarginRate: deps.margin.maintenance },
        principalOf(request),
        walletId.toLowerCase(),
      );
    },
  );
}
