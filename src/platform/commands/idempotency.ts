import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { DomainError } from '../../shared/errors.js';
import type { Queryable, Tx } from '../db/client.js';
import { type ErrorRenderer, renderV1Error } from '../http/error-handler.js';
import { toHttpError } from '../http/errors.js';

/** How long a stored answer is replayed (ms): 24 h, as Stripe keeps its keys. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** The same key was sent with another request body (or to another route). */
export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor() {
    super('this Idempotency-Key was already used with a different request');
  }
}

/** A request with this key is still running; retry when it has finished. */
export class IdempotencyInProgressError extends DomainError {
  readonly code = 'IDEMPOTENCY_IN_PROGRESS';
  constructor() {
    super('a request with this Idempotency-Key is still in progress', { retry_after_seconds: '1' });
  }
}

/** One caller's key and the fingerprint of the request that carries it. */
export interface IdempotencyScope {
  userId: string;
  key: string;
  /** sha256 hex of the request, from `requestFingerprint` */
  requestHash: string;
}

/** An answer ready to send: its status and its body text exactly as it goes on the wire. */
export interface FinalResponse {
  status: number;
  body: string;
  /** true when this is a stored answer sent again */
  replayed: boolean;
}

/** JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` fingerprint alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Fingerprint of a request for its idempotency record: sha256 (hex) of the method, the route
 * pattern, the path parameters and the raw JSON body with its keys sorted.
 */
export function requestFingerprint(request: {
  method: string;
  route: string;
  params: unknown;
  body: unknown;
}): string {
  return createHash('sha256')
    .update(canonicalJson([request.method, request.route, request.params ?? {}, request.body ?? null]))
    .digest('hex');
}

/**
 * The stored answer of a key, looked up before a request is worked on, so that a retry gets its
 * first answer even when the work would now come out otherwise (a price moved, an upstream is
 * down). Read only: the claim in the transaction still decides when there is no record yet.
 * @returns the replayed answer, or undefined (no live record, or no key)
 * @throws {IdempotencyKeyReusedError} (409) the key's stored request differs from this one
 */
export async function findStoredAnswer(
  db: Queryable,
  scope: IdempotencyScope | undefined,
): Promise<FinalResponse | undefined> {
  if (!scope) return undefined;
  const stored = await db.execute<{ request_hash: string; status: number; body: string }>(sql`
    select request_hash, response_status as status, response_body as body from idempotency_keys
     where user_id = ${scope.userId} and key = ${scope.key} and expires_at > now()`);
  const record = stored.rows[0];
  if (!record) return undefined;
  if (record.request_hash !== scope.requestHash) throw new IdempotencyKeyReusedError();
  return { status: record.status, body: record.body, replayed: true };
}

/**
 * Claims `scopes` for this database transaction and returns their stored answers, in two queries.
 * Each claim is a transaction-scoped advisory lock, released by the commit that also makes the
 * answer visible, so a concurrent request with the same key is told "in progress" rather than
 * waiting or running twice. A key that appears twice in `scopes` is
 * claimed by its first occurrence; the later ones are "in progress".
 * @returns per scope, in order: the stored answer, undefined (claimed, run it), or the 409 error
 */
export async function claimIdempotencyKeys(
  tx: Tx,
  scopes: IdempotencyScope[],
): Promise<(FinalResponse | undefined | IdempotencyInProgressError | IdempotencyKeyReusedError)[]> {
  if (scopes.length === 0) return [];
  const users = sql.param(scopes.map((s) => s.userId));
  const keys = sql.param(scopes.map((s) => s.key));
  // Two statements on purpose: under READ COMMITTED each statement reads a fresh snapshot, and the
  // read must start after the lock is held, or a record committed by the holder that released it
  // in between would be missed and the movement run twice.
  const locks = await tx.execute<{ locked: boolean }>(sql`
    select pg_try_advisory_xact_lock(hashtextextended(x.user_id || ':' || x.key, 0)) as locked
      from unnest(${users}::text[], ${keys}::text[]) with ordinality as x(user_id, key, n)
     order by x.n`);
  const stored = await tx.execute<{ n: number; request_hash: string; status: number; body: string }>(sql`
    select x.n::int as n, k.request_hash, k.response_status as status, k.response_body as body
      from unnest(${users}::text[], ${keys}::text[]) with ordinality as x(user_id, key, n)
      join idempotency_keys k on k.user_id = x.user_id::uuid and k.key = x.key and k.expires_at > now()`);
  const storedByIndex = new Map(stored.rows.map((row) => [row.n - 1, row]));
  const seen = new Set<string>();
  return scopes.map((scope, i) => {
    const id = `${scope.userId}:${scope.key}`;
    if (locks.rows[i]?.locked !== true || seen.has(id)) return new IdempotencyInProgressError();
    seen.add(id);
    const record = storedByIndex.get(i);
    if (!record) return undefined;
    if (record.request_hash !== scope.requestHash) return new IdempotencyKeyReusedError();
    return { status: record.status, body: record.body, replayed: true };
  });
}

/**
 * Stores first answers under claimed keys, in the transaction that moved the money. An expired
 * record of the same key is replaced.
 */
export async function recordIdempotentResponses(
  tx: Tx,
  records: { scope: IdempotencyScope; status: number; body: string }[],
): Promise<void> {
  if (records.length === 0) return;
  const inserted = await tx.execute(sql`
    insert into idempotency_keys (user_id, key, request_hash, response_status, response_body, expires_at)
    select x.user_id, x.key, x.request_hash, x.status, x.body, now() + make_interval(secs => ${IDEMPOTENCY_KEY_TTL_MS / 1000})
      from unnest(
        ${sql.param(records.map((r) => r.scope.userId))}::uuid[],
        ${sql.param(records.map((r) => r.scope.key))}::text[],
        ${sql.param(records.map((r) => r.scope.requestHash))}::text[],
        ${sql.param(records.map((r) => r.status))}::int[],
        ${sql.param(records.map((r) => r.body))}::text[]
      ) as x(user_id, key, request_hash, status, body)
    on conflict (user_id, key) do update
       set request_hash = excluded.request_hash, response_status = excluded.response_status,
           response_body = excluded.response_body, created_at = now(), expires_at = excluded.expires_at
     where idempotency_keys.expires_at <= now()`);
  // A live record we did not see when claiming means another transaction answered this key: roll
  // this movement back rather than apply it twice (the client's retry gets the stored answer).
  if ((inserted.rowCount ?? 0) !== records.length) throw new IdempotencyInProgressError();
}

/** Errors whose answer is final and so is stored: client errors, not "try again" ones (429, 5xx). */
export function isFinalError(error: unknown): error is DomainError {
  if (!(error instanceof DomainError)) return false;
  const { status } = toHttpError(error);
  return status >= 400 && status < 500 && status !== 429;
}

/** A final client error as it is stored and sent: its status and its rendered body text. */
export function renderFinalError(
  error: DomainError,
  renderError: ErrorRenderer = renderV1Error,
): { status: number; body: string } {
  const httpError = toHttpError(error);
  return { status: httpError.status, body: JSON.stringify(renderError(httpError)) };
}

/**
 * Deletes records older than their 24 h (at most `limitMax` per call, so one call stays short).
 * @returns how many were deleted
 */
export async function purgeExpiredIdempotencyKeys(db: Queryable, limitMax = 10_000): Promise<number> {
  const result = await db.execute(sql`
    delete from idempotency_keys
     where ctid in (select ctid from idempotency_keys where expires_at <= now() limit ${limitMax})`);
  return result.rowCount ?? 0;
}
