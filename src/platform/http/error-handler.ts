import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { observeUnmatched } from '../observability/metrics.js';
import { codeToStatus, type HttpError, toHttpError } from './errors.js';
import { documentRoutes } from './openapi.js';

/** The response header naming the request, as its log lines do (`reqId`): on every error answer. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Renders an `HttpError` in one route family's body shape. */
export type ErrorRenderer = (error: HttpError) => unknown;

/** The product's one shape (SPEC §3): `{"error": {"code", "message", "details"}}`. */
export const renderV1Error: ErrorRenderer = (error) => ({
  error: { code: error.code, message: error.message, details: error.details ?? {} },
});

/**
 * Answers `error` in the shape `render` gives, with the status `statusOf` gives (a seed contract's
 * own), and the request id; for errors raised outside any route (the router's own).
 */
export function sendError(
  reply: FastifyReply,
  error: unknown,
  render: ErrorRenderer,
  statusOf?: (error: HttpError) => number,
): void {
  const classified = toHttpError(error);
  const httpError = statusOf ? { ...classified, status: statusOf(classified) } : classified;
  void reply.header(REQUEST_ID_HEADER, reply.request.id).status(httpError.status).send(render(httpError));
}

/** Answers `error` in the v1 shape; for errors raised outside any route (the router's own). */
export function sendV1Error(reply: FastifyReply, error: unknown): void {
  sendError(reply, error, renderV1Error);
}

/** Node's HTTP parser errors (by `error.code`) answered otherwise than 400 `BAD_REQUEST`. */
const CLIENT_ERRORS: Record<string, { code: string; message: string }> = {
  // The request line counts too: a URL longer than this is a 431 as well.
  HPE_HEADER_OVERFLOW: {
    code: 'HEADERS_TOO_LARGE',
    message: `the request line and headers are larger than ${http.maxHeaderSize} bytes`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' },
};

/**
 * Fastify's `clientErrorHandler` (Node's `clientError` event): answers what Node's HTTP parser
 * refuses before any request exists — headers or a URL over `http.maxHeaderSize` (431), a request
 * that does not arrive in time (408), bytes that are not HTTP (400) — in the v1 shape, with a
 * request id of its own and nothing of the request echoed, then closes the connection (as Node
 * does: what follows on it cannot be trusted). Written on the raw socket: there is no reply.
 */
export function answerClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A reset connection has nobody to answer (Node's and Fastify's own handlers skip it too).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = CLIENT_ERRORS[error.code] ?? {
    code: 'BAD_REQUEST',
    message: 'the request is not valid HTTP',
  };
  const status = codeToStatus(known.code);
  const requestId = randomUUID();
  this.log.debug({ err: error, reqId: requestId }, 'client error');
  // Never into an answer already started on this connection (a pipelined request's): Node's rule.
  const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(renderV1Error({ status, ...known }));
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Installs an error handler and (unless `notFound` is false: Fastify allows one per prefix) a
 * not-found handler on `app` and its children that answer in the shape `render` gives, with the
 * status `statusOf` gives when a seed contract answers other statuses than v1 (400 for 422), and
 * the request id in `x-request-id`. A 500 is logged with its stack and request id; the client sees
 * only a generic message. The routes registered on `app` afterwards are documented with `statusOf`
 * (their platform errors in the OpenAPI document: see `documentRoutes`).
 */
export function installErrorHandlers(
  app: FastifyInstance,
  render: ErrorRenderer,
  options: { notFound: boolean; statusOf?: (error: HttpError) => number } = { notFound: true },
): void {
  if (options.statusOf) documentRoutes(app, { statusOf: options.statusOf });
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
