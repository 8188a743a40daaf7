import type { ErrorRenderer } from '../../platform/http/error-handler.js';
import type { HttpError } from '../../platform/http/errors.js';

/** Seed 004's errors are `{"error": "text"}`. */
export const renderSeed004Error: ErrorRenderer = (error) => ({ error: error.message });

/**
 * Seed 004 answers a bad or missing field with 400 (it has no 422), and lists 400 for a bad
 * body of any kind; every other status is the v1 one.
 */
export function seed004Status(error: HttpError): number {
  return error.status === 422 || error.status === 415 ? 400 : error.status;
}
