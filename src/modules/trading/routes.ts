import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
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
import { ORDER_SIDES } from './fills.js';
import { getPortfolio, listPositions } from './portfolio.js';
import { getOrder, listOrders, placeOrder, type TradingDeps } from './service.js';
import { toOrderView } from './views.js';

const orderOutput = z
  .object({
    id: z.uuid(),
    client_order_id: z.string().nullable(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    side: z.enum(ORDER_SIDES),
    quantity: decimalOutput('base asset', '0.01'),
    price: decimalOutput('fill price, quote asset per base unit', '46969.15'),
    notional: decimalOutput('price × quantity, quote asset', '469.6915'),
    fee: decimalOutput('taker fee, quote asset', '0.4696915'),
    status: z.literal('filled'),
    position_id: z.uuid().nullable().meta({ description: 'the short a short or close_short belongs to' }),
    realized_pnl: z
      .string()
      .nullable()
      .meta({ description: 'close_short only: (entry − exit) × quantity − both legs’ fees, quote asset' }),
    liquidation: z.boolean().meta({ description: 'true for a close_short made by the liquidation job' }),
    created_at: z.string(),
  })
  .meta({ id: 'Order' });

const positionOutput = z
  .object({
    id: z.uuid(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    quantity: decimalOutput('base asset owed', '0.01'),
    entry_price: decimalOutput('weighted average sale price', '46969.15'),
    mark_price: decimalOutput('the ask: buy-back price per unit now', '46990.00'),
    unrealized_pnl: decimalOutput('(entry − mark) × quantity, quote asset, fees excluded', '-0.2085'),
    margin: decimalOutput('initial margin held, quote asset', '234.85'),
    collateral: decimalOutput('sale proceeds plus margin held, quote asset', '704.54'),
    liquidation_price: decimalOutput('the ask at which the short is liquidated', '54195.17'),
    opened_at: z.string(),
  })
  .meta({ id: 'Position' });

const placeOrderBody = z
  .object({
    wallet_id: z.uuid().optional().meta({ description: 'defaults to the caller’s default wallet' }),
    symbol: z.string().min(1).max(32).meta({ description: 'BTCUSDT or BTC', example: 'BTCUSDT' }),
    side: z.enum(ORDER_SIDES).meta({
      description:
        'buy and close_short fill at the ask, sell and short at the bid. A short holds SHORT_INITIAL_MARGIN × notional plus the sale proceeds as collateral; close_short buys back (part of) the wallet’s open short on the symbol.',
    }),
    quantity: positiveAmountInput.optional().meta({
      description:
        'base asset, decimal string or number, ≤ 8 decimals, a whole number of the symbol’s LOT_SIZE step (off-step → 422 LOT_SIZE)',
      example: '0.01',
    }),
    quote_amount: positiveAmountInput.optional().meta({
      description:
        'instead of quantity: a buy spends at most this much quote, fee included; other sides trade at most this notional (fee excluded). The quantity is rounded DOWN to the lot step.',
      example: '100',
    }),
    client_order_id: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,48}$/, '1–48 letters, digits, "_", ".", ":" or "-"')
      .optional()
      .meta({ description: 'unique per user: a repeat returns the first order (200)' }),
  })
  .refine((body) => (body.quantity === undefined) !== (body.quote_amount === undefined), {
    message: 'give exactly one of quantity and quote_amount',
    path: ['quantity'],
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
        description:
          'Binance’s LOT_SIZE and MIN_NOTIONAL/NOTIONAL filters apply (422 FILTER_FAILURE naming the filter). Taker fee TAKER_FEE_RATE in the quote asset on every fill. A short without enough free quote for its margin and fee → 400 INSUFFICIENT_MARGIN; close_short without an open short → 409 NO_OPEN_SHORT. Honours Idempotency-Key.',
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
        body: placeOrderBody,
        response: {
          200: orderOutput,
          201: orderOutput,
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
          409: errorResponse,
          422: errorResponse,
          429: errorResponse,
          503: errorResponse,
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
      });
      const { response } = await placeOrder(
        deps,
        userId,
        {
          walletId: body.wallet_id?.toLowerCase(),
          symbol: body.symbol,
          side: body.side,
          quantity: body.quantity,
          quoteAmount: body.quote_amount,
          clientOrderId: body.client_order_id,
        },
        scope,
        { render: (order) => ({ status: 201, body: toOrderView(order) }) },
      );
      return sendFinalResponse(reply, response);
    },
  );

  r.get(
    '',
    {
      schema: {
        tags: ['trading'],
        summary: 'The caller’s orders, newest first',
        security: [{ bearerAuth: [] }],
        querystring: pageQuery.extend({
          symbol: z.string().min(1).max(32).optional().meta({ description: 'BTCUSDT or BTC' }),
          side: z.enum(ORDER_SIDES).optional(),
        }),
        response: {
          200: z.object({ items: z.array(orderOutput), next_cursor: z.string().nullable() }),
          401: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (request) => {
      const { symbol, side, limit, cursor } = request.query;
      return await listOrders(deps, principalOf(request).userId, { symbol, side }, limit, cursor);
    },
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
        response: {
          200: z.object({ items: z.array(positionOutput) }),
          401: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request) =>
      await listPositions(
        { ...deps, maintenanceMarginRate: deps.margin.maintenance },
        principalOf(request).userId,
      ),
  );
}

const holdingOutput = z.object({
  asset: z.string().meta({ example: 'BTC' }),
  quantity: decimalOutput('available + locked', '0.5'),
  average_cost: z.string().nullable().meta({ description: 'average cost per unit bought, fees included' }),
  mark_price: decimalOutput('the bid', '46969.15'),
  market_value: decimalOutput('quantity × bid, quote asset', '23484.575'),
  unrealized_pnl: decimalOutput('market value − quantity × average cost', '12.5'),
});

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
        params: z.object({ wallet_id: z.string().max(64).meta({ description: 'wallet id (UUID)' }) }),
        response: {
          200: z
            .object({
              wallet_id: z.uuid(),
              quote_asset: z.string(),
              holdings: z.array(holdingOutput),
              shorts: z.array(positionOutput),
              totals: z.object({
                cash: decimalOutput('quote asset, available + locked', '10000'),
                equity: decimalOutput('cash + holdings at the bid − shorts at the ask', '10012.5'),
                unrealized_pnl: decimalOutput('holdings and shorts', '12.5'),
                realized_pnl: decimalOutput('sells (average cost) and closed shorts', '0'),
                margin_used: decimalOutput('initial margin of the open shorts', '0'),
              }),
              as_of: z.string(),
            })
            .meta({ id: 'Portfolio' }),
          401: errorResponse,
          404: errorResponse,
          503: errorResponse,
        },
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
