import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError } from '../../shared/errors.js';
import { isDatabaseUnavailable } from '../db/tx.js';

/**
 * The one table from error code to HTTP status (as Unkey's `codeToStatus`). Codes not listed are
 * client errors of status 400.
 */
const STATUS_BY_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  FORBIDDEN_JSON_KEY: 400,
  INSUFFICIENT_FUNDS: 400,
  INSUFFICIENT_MARGIN: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  CSRF_REJECTED: 403,
  INVALID_CURRENT_PASSWORD: 403,
  NOT_FOUND: 404,
  UNKNOWN_SYMBOL: 404,
  NOT_TRACKED: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  WALLET_LIMIT_REACHED: 409,
  ALREADY_TRACKED: 409,
  TRACKED_LIMIT_REACHED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  NO_OPEN_SHORT: 409,
  ORDER_NOT_OPEN: 409,
  TOO_MANY_OPEN_ORDERS: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPGRADE_REQUIRED: 426,
  HEADERS_TOO_LARGE: 431,
  VALIDATION_ERROR: 422,
  UNKNOWN_ASSET: 422,
  UNSUPPORTED_INTERVAL: 422,
  FILTER_FAILURE: 422,
  WOULD_MATCH_IMMEDIATELY: 422,
  WOULD_TRIGGER_IMMEDIATELY: 422,
  BALANCE_LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  NOT_SUPPORTED_BY_SOURCE: 501,
  PRICE_UNAVAILABLE: 503,
  SERVICE_BUSY: 503,
  SERVICE_UNAVAILABLE: 503,
};

/** HTTP status of an error code. */
export function codeToStatus(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}

/** An error as the HTTP layer answers it, before a route family renders it in its own shape. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** seconds, for 429 and 503 */
  retryAfterSeconds?: number;
}

/**
 * Fastify's own client errors: our code for each, and our message where Fastify's quotes the
 * request (the router's two quote the whole URL, which may be kilobytes of anything).
 */
const FASTIFY_CODES: Record<string, { code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'MALFORMED_JSON' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG', message: 'a segment of the URL path is too long' },
  FST_ERR_BAD_URL: { code: 'BAD_REQUEST', message: 'the URL is not valid (a broken percent-encoding?)' },
};

/**
 * Classifies any thrown value. Domain errors keep their code; schema failures become 422 naming the
 * failing fields; Fastify's own client errors keep their 4xx status; anything else is a 500 whose
 * message is generic (the real one goes to the log only).
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof DomainError) {
    const retry = error.details?.retry_after_seconds;
    return {
      status: codeToStatus(error.code),
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      ...(typeof retry === 'string' ? { retryAfterSeconds: Number.parseInt(retry, 10) } : {}),
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = error.validation.map((issue) => ({
      field: [error.validationContext, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
      message: issue.message,
    }));
    return {
      status: 422,
      code: 'VALIDATION_ERROR',
      message: `invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
      details: { fields },
    };
  }
  if (!isResponseSerializationError(error) && error instanceof Error) {
    const fastifyError = error as Error & { code?: string; statusCode?: number };
    const status = fastifyError.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const known = FASTIFY_CODES[fastifyError.code ?? ''];
      const code = known?.code ?? (status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST');
      return { status, code, message: known?.message ?? fastifyError.message };
    }
  }
  if (isDatabaseUnavailable(error)) {
    // PostgreSQL restarting or out of reach: the request may succeed in a moment.
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: 'the database is unavailable; try again shortly',
      retryAfterSeconds: DATABASE_RETRY_AFTER_S,
    };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal server error' };
}

/** Retry-After of a 503 while the database is out of reach (s). */
const DATABASE_RETRY_AFTER_S = 1;
