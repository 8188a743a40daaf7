import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../platform/http/schemas.js';
import { symbolParam, trackBody, trackedListOutput, trackingErrors } from './schemas.js';
import type { TrackingService } from './service.js';
import { historyOutput, historyView, statsOutput, statsView, trackedOutput, trackedView } from './views.js';

export interface TrackingRoutesDeps {
  tracking: TrackingService;
  requireAuth: onRequestAsyncHookHandler;
}

const tags = ['tracking'];
/** Every tracking route needs a token (OpenAPI security requirement). */
export const bearerSecurity = [{ bearerAuth: [] }];

/**
 * Price tracking (SPEC C9) under `/api/v1/tracked`: one global list, each crypto with its kept price
 * history and statistics; prices are decimal strings. Every route needs a token.
 */
export async function trackingRoutes(app: FastifyInstance, deps: TrackingRoutesDeps): Promise<void> {
  app.addHook('onRequest', deps.requireAuth);
  registerTrackedList(app, deps);
  registerTrackedCrypto(app, deps);
  registerTrackedPrices(app, deps);
}

/** `GET ''` (every tracked crypto) and `POST ''` (track one more). */
function registerTrackedList(app: FastifyInstance, deps: TrackingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tracking } = deps;

  r.get(
    '',
    {
      schema: {
        tags,
        summary: 'Every tracked crypto (at most 100, so one page)',
        security: bearerSecurity,
        response: { 200: trackedListOutput, 401: errorResponse },
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
        body: trackBody,
        response: { 201: trackedOutput, 409: errorResponse, ...trackingErrors },
      },
    },
    async (request, reply) => reply.status(201).send(trackedView(await tracking.add(request.body.symbol))),
  );
}

/** `GET`, `DELETE /{symbol}` and `PUT /{symbol}/refresh`: one tracked crypto. */
function registerTrackedCrypto(app: FastifyInstance, deps: TrackingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tracking } = deps;

  r.get(
    '/:symbol',
    {
      schema: {
        tags,
        summary: 'One tracked crypto',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: trackedOutput, ...trackingErrors },
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
        response: { 204: z.null(), ...trackingErrors },
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
        response: { 200: trackedOutput, ...trackingErrors },
      },
    },
    async (request) => trackedView(await tracking.refresh(request.params.symbol)),
  );
}

/** `GET /{symbol}/history` and `GET /{symbol}/stats`: its kept prices. */
function registerTrackedPrices(app: FastifyInstance, deps: TrackingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tracking } = deps;

  r.get(
    '/:symbol/history',
    {
      schema: {
        tags,
        summary: 'Kept prices, newest first (at most PRICE_HISTORY_LIMIT)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: historyOutput, ...trackingErrors },
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
        response: { 200: statsOutput, ...trackingErrors },
      },
    },
    async (request) => statsView(await tracking.stats(request.params.symbol)),
  );
}
