import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../../shared/errors.js';
import type { Db, Tx } from './client.js';

/** Retries of a database transaction that lost a serialization race or a deadlock. */
const RETRY_COUNT_MAX = 8;
/** Backoff cap between retries (ms); full jitter below it. */
const RETRY_BACKOFF_MS_MAX = 50;

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** The database is too contended to finish a transaction now: 503 with `Retry-After`. */
export class TransactionContentionError extends DomainError {
  readonly code = 'SERVICE_BUSY';
  constructor() {
    super('the ledger is busy, try again', { retry_after_seconds: '1' });
  }
}

/** SQLSTATE of a PostgreSQL error (wrapped or not), if any. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Name of the constraint a PostgreSQL error names, if any. */
export function violatedConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const name = (current as { constraint?: unknown }).constraint;
    if (typeof name === 'string') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Runs `work` in one database transaction, retrying it from the start when PostgreSQL reports a
 * serialization failure (40001) or a deadlock (40P01) — bounded, with jittered backoff.
 * @throws {TransactionContentionError} when every retry lost its race
 */
export async function withTransaction<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  options: { isolationLevel?: 'read committed' | 'repeatable read' | 'serializable' } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(work, { isolationLevel: options.isolationLevel ?? 'read committed' });
    } catch (error) {
      const state = sqlState(error);
      if (!state || !RETRYABLE_SQLSTATES.has(state)) throw error;
      if (attempt >= RETRY_COUNT_MAX) throw new TransactionContentionError();
      await sleep(Math.random() * RETRY_BACKOFF_MS_MAX);
    }
  }
}
