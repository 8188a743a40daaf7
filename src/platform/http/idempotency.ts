import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type FinalResponse, type IdempotencyScope, requestFingerprint } from '../commands/idempotency.js';

/** The `Idempotency-Key` request header: 1–255 visible ASCII characters. */
export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters')
  .optional()
  .meta({
    description:
      'Makes a money-moving POST safe to retry: a repeat with the same key and body returns the first answer and moves nothing; the same key with another body answers 409. Kept 24 h.',
    example: 'b3c1e0f2-5d4a-4c8e-9a71-0f6d2e9b8c11',
  });

/**
 * The idempotency scope of a request: undefined without an `Idempotency-Key` header. `body` is the
 * request's meaning after parsing (amounts normalised), so `"100"` and `100.0` are the same request.
 */
export function idempotencyScopeOf(
  request: FastifyRequest,
  userId: string,
  body: unknown,
): IdempotencyScope | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') return undefined;
  const requestHash = requestFingerprint({
    method: request.method,
    route: request.routeOptions.url ?? request.url,
    params: request.params,
    body,
  });
  return { userId, key, requestHash };
}

/** Sends a final response as its exact bytes; a replay is marked `Idempotent-Replayed: true`. */
export function sendFinalResponse(reply: FastifyReply, response: FinalResponse): FastifyReply {
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(response.status).type('application/json; charset=utf-8').send(response.body);
}
