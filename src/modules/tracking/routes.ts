import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../platform/http/schemas.js';
import type { TrackingService } from './service.js';
import { historyOutput, historyView, statsOutput, statsView, trackedOutput, trackedView } from './views.js';

export interface TrackingRoutesDeps {
  tracking: TrackingService;
  requireAuth: onRequestAsyncHookHandler;
}

/** A ticker in a path or body: `BTC`, `btc` or `BTCUSDT` are one crypto. */
export const symbolInput = z.string().max(32).meta({ description: 'ticker, any case', example: 'BTC' });
const symbolParam = z.object({ symbol: symbolInput });
const tags = ['tracking'];
/** Every tracking route needs a token (OpenAPI security requirement). */
export const bearerSecurity = [{ bearerAuth: [] }];
const errors = { 401: errorResponse, 404: errorResponse, 422: errorResponse, 503: errorResponse };

/**
 * Price tracking (SPEC C9) under `/api/v1/tracked`: one global list, each crypto with its kept price
 * history and statistics; prices are decimal strings. Every route needs a token.
 */
export async function trackingRoutes(app: FastifyInstance, deps: TrackingRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  const { tracking } = deps;

  r.get(
    '',
    {
      schema: {
        tags,
        summary: 'Every tracked crypto (at most 100, so one page)',
        security: bearerSecurity,
        response: {
          200: z.object({ items: z.array(trackedOutput), next_cursor: z.null() }),
          401: errorResponse,
        },
      },
    },
    async () => ({ items: (await tracking.list()).map(trackedView), next_cursor: null }),
  );

  r.post(
    '',
    {
      schema: {
        tags,
        summary: 'Start tracking a ticker; its first price goes into its history at once',
        security: bearerSecurity,
        body: z.object({ symbol: symbolInput }),
        response: { 201: trackedOutput, 409: errorResponse, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(trackedView(await tracking.add(request.body.symbol))),
  );

  r.get(
    '/:symbol',
    {
      schema: {
        tags,
        summary: 'One tracked crypto',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: trackedOutput, ...errors },
      },
    },
    async (request) => trackedView(await tracking.get(request.params.symbol)),
  );

  r.delete(
    '/:symbol',
    {
      schema: {
        tags,
        summary: 'Stop tracking a crypto and drop its history',
        security: bearerSecurity,
        params: symbolParam,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await tracking.remove(request.params.symbol);
      return reply.status(204).send(null);
    },
  );

  r.put(
    '/:symbol/refresh',
    {
      schema: {
        tags,
        summary: 'Take its price now and append it to its history',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: trackedOutput, ...errors },
      },
    },
    async (request) => trackedView(await tracking.refresh(request.params.symbol)),
  );

  r.get(
    '/:symbol/history',
    {
      schema: {
        tags,
        summary: 'Kept prices, newest first (at most PRICE_HISTORY_LIMIT)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: historyOutput, ...errors },
      },
    },
    async (request) => {
      const { symbol, history } = await tracking.history(request.params.symbol);
      return historyView(symbol, history);
    },
  );

  r.get(
    '/:symbol/stats',
    {
      schema: {
        tags,
        summary: 'Min, max, average, change and change % of the kept prices',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: statsOutput, ...errors },
      },
    },
    async (request) => statsView(await tracking.stats(request.params.symbol)),
  );
}
