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

/**
 * The connection was lost while the transaction committed: it may or may not have committed, and
 * nothing here can tell. 503 with `Retry-After`; never re-run on the client's behalf — a retry with
 * the same `Idempotency-Key` finds the stored answer if it did commit, and runs it once if it did not.
 */
export class CommitOutcomeUnknownError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(cause: unknown) {
    super('the database connection was lost while saving: retry with the same Idempotency-Key', {
      retry_after_seconds: '1',
    });
    this.cause = cause;
  }
}

/**
 * SQLSTATE classes the server sends for a transaction it rolled back while committing (a deferred
 * constraint, a trigger, a serialization failure): the outcome of such a COMMIT is known.
 * Connection (08), operator intervention (57), system (58) and internal (XX) errors, or an error
 * with no SQLSTATE at all (a reset socket), leave it unknown.
 */
const UNKNOWN_OUTCOME_CLASSES = new Set(['08', '57', '58', 'XX']);

/** True when an error raised by COMMIT leaves the transaction's outcome unknown. */
function leavesOutcomeUnknown(error: unknown): boolean {
  const state = sqlState(error);
  return state === undefined || UNKNOWN_OUTCOME_CLASSES.has(state.slice(0, 2));
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

/** Node's socket error codes of a database server that went away or cannot be reached. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
/** SQLSTATEs of a server shutting down or starting up (class 08 is a connection exception). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
/** node-postgres' own messages for a connection lost or never made (they carry no code). */
const CONNECTION_LOST_MESSAGE = /connection terminated|connection timeout|connection error|not queryable/i;

/**
 * True when `error` (wrapped or not) says the database cannot be reached now — refused, reset,
 * timed out, shutting down, starting up — rather than that a statement failed: the request may
 * succeed once it is back (answered 503, not 500).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    if (typeof message === 'string' && CONNECTION_LOST_MESSAGE.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
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

/** What runs once a transaction (or savepoint) has committed: kept per open `tx`. */
const commitHooks = new WeakMap<Tx, (() => void)[]>();

/**
 * Runs `hook` once the transaction `tx` belongs to has committed — never if it rolls back (a failed
 * batch, a retried serialization failure, a savepoint undone) — so that what it counts or announces
 * really happened. A `tx` not opened by `withTransaction` or `withSavepoint` runs it at once.
 */
export function afterCommit(tx: Tx, hook: () => void): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(hook);
  else hook();
}

/** Runs `work` on `tx` with a fresh list of commit hooks, and hands the list back with its value. */
async function withHooks<T>(
  tx: Tx,
  work: (tx: Tx) => Promise<T>,
): Promise<{ value: T; hooks: (() => void)[] }> {
  const hooks: (() => void)[] = [];
  commitHooks.set(tx, hooks);
  return { value: await work(tx), hooks };
}

/**
 * Runs `work` in a savepoint of `tx`: if it throws, what it wrote (and its `afterCommit` hooks) is
 * undone while `tx` goes on; if it returns, its hooks wait for `tx`'s own commit.
 */
export async function withSavepoint<T>(tx: Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  const parent = commitHooks.get(tx);
  const { value, hooks } = await tx.transaction((nested) => withHooks(nested, work));
  if (parent) parent.push(...hooks);
  else for (const hook of hooks) hook();
  return value;
}

/**
 * Runs `work` in one database transaction, retrying it from the start when PostgreSQL reports a
 * serialization failure (40001) or a deadlock (40P01) — bounded, with jittered backoff. The
 * `afterCommit` hooks of the attempt that committed run once it has.
 * @throws {TransactionContentionError} (503) when every retry lost its race
 * @throws {CommitOutcomeUnknownError} (503) when the COMMIT itself failed with its outcome unknown
 *   (the connection lost): not retried, since it may have committed
 */
export async function withTransaction<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  options: { isolationLevel?: 'read committed' | 'repeatable read' | 'serializable' } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    // Set once `work` has returned: an error after that comes from the COMMIT.
    let committing = false;
    try {
      const { value, hooks } = await db.transaction(
        async (tx) => {
          const done = await withHooks(tx, work);
          committing = true;
          return done;
        },
        { isolationLevel: options.isolationLevel ?? 'read committed' },
      );
      for (const hook of hooks) hook();
      return value;
    } catch (error) {
      if (committing && leavesOutcomeUnknown(error)) throw new CommitOutcomeUnknownError(error);
      const state = sqlState(error);
      if (!state || !RETRYABLE_SQLSTATES.has(state)) throw error;
      if (attempt >= RETRY_COUNT_MAX) throw new TransactionContentionError();
      await sleep(Math.random() * RETRY_BACKOFF_MS_MAX);
    }
  }
}
