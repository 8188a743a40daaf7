import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { observeUnmatched } from '../observability/metrics.js';
import { type HttpError, toHttpError } from './errors.js';

/** The response header naming the request, as its log lines do (`reqId`): on every error answer. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Renders an `HttpError` in one route family's body shape. */
export type ErrorRenderer = (error: HttpError) => unknown;

/** The product's one shape (SPEC §3): `{"error": {"code", "message", "details"}}`. */
export const renderV1Error: ErrorRenderer = (error) => ({
  error: { code: error.code, message: error.message, details: error.details ?? {} },
});

/** Answers `error` in the v1 shape; for errors raised outside any route (the router's own). */
export function sendV1Error(reply: FastifyReply, error: unknown): void {
  const httpError = toHttpError(error);
  void reply
    .header(REQUEST_ID_HEADER, reply.request.id)
    .status(httpError.status)
    .send(renderV1Error(httpError));
}

/**
 * Installs an error handler and (unless `notFound` is false: Fastify allows one per prefix) a
 * not-found handler on `app` and its children that answer in the shape `render` gives, with the
 * status `statusOf` gives when a seed contract answers other statuses than v1 (400 for 422), and
 * the request id in `x-request-id`. A 500 is logged with its stack and request id; the client sees
 * only a generic message.
 */
export function installErrorHandlers(
  app: FastifyInstance,
  render: ErrorRenderer,
  options: { notFound: boolean; statusOf?: (error: HttpError) => number } = { notFound: true },
): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const classified = toHttpError(error);
    const httpError = options.statusOf ? { ...classified, status: options.statusOf(classified) } : classified;
    if (httpError.status >= 500 && httpError.code === 'INTERNAL_ERROR') {
      request.log.error({ err: error }, 'unhandled error');
    }
    reply.header(REQUEST_ID_HEADER, request.id);
    if (httpError.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(httpError.retryAfterSeconds));
    return reply.status(httpError.status).send(render(httpError));
  });
  if (!options.notFound) return;
  app.setNotFoundHandler((request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id).status(404);
    // No route, so no route's timer: counted here.
    observeUnmatched(request, reply);
    return reply.send(
      render({
        status: 404,
        code: 'ROUTE_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
      }),
    );
  });
}
