import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../shared/errors.js';
import type { Db, Queryable, Tx } from '../db/client.js';
import type { Settled } from '../db/group-commit.js';
import { withSavepoint, withTransaction } from '../db/tx.js';
import { type ErrorRenderer, renderV1Error } from './error-handler.js';
import { toHttpError } from './errors.js';

/** How long a stored answer is replayed (ms): 24 h, as Stripe keeps its keys. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

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

/**
 * Claims `scope` for this database transaction and returns its stored answer if there is one.
 * The claim is a transaction-scoped advisory lock, released by the commit that also makes the
 * answer visible, so a concurrent request with the same key is told "in progress" rather than
 * waiting or running twice.
 * @throws {IdempotencyInProgressError} (409) another transaction holds this key now
 * @throws {IdempotencyKeyReusedError} (409) the key's stored request differs from this one
 */
export async function claimIdempotencyKey(
  tx: Tx,
  scope: IdempotencyScope,
): Promise<FinalResponse | undefined> {
  const [claim] = await claimIdempotencyKeys(tx, [scope]);
  if (claim instanceof DomainError) throw claim;
  return claim;
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
 * `claimIdempotencyKey` for many scopes in two queries. A key that appears twice in `scopes` is
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

/**
 * Runs one money-moving request in one database transaction, exactly once per idempotency key.
 * Without a key, `work` simply runs in a transaction. With one, a stored answer is replayed
 * byte-for-byte; otherwise `work` runs inside a savepoint and its answer — a success, or a final
 * client error such as `INSUFFICIENT_FUNDS`, rendered by `renderError` — is stored in the same
 * transaction, so the record exists exactly when the movement committed.
 * @param work returns the status and the body (serialised here with `JSON.stringify`)
 * @throws {IdempotencyInProgressError}, {IdempotencyKeyReusedError} (409), and whatever `work`
 *   throws when there is no key or the error is not final (e.g. 503)
 */
export async function runIdempotent(
  db: Db,
  scope: IdempotencyScope | undefined,
  work: (tx: Tx) => Promise<{ status: number; body: unknown }>,
  renderError: ErrorRenderer = renderV1Error,
): Promise<FinalResponse> {
  return await withTransaction(db, async (tx) => {
    if (!scope) {
      const result = await work(tx);
      return { status: result.status, body: JSON.stringify(result.body), replayed: false };
    }
    const stored = await claimIdempotencyKey(tx, scope);
    if (stored) return stored;
    let response: { status: number; body: string };
    try {
      const result = await withSavepoint(tx, work);
      response = { status: result.status, body: JSON.stringify(result.body) };
    } catch (error) {
      if (!isFinalError(error)) throw error;
      response = renderFinalError(error, renderError);
    }
    await recordIdempotentResponses(tx, [{ scope, ...response }]);
    return { ...response, replayed: false };
  });
}

/** What one item of a batch came to: its answer, or the error it failed with. */
export type BatchItemOutcome = { ok: true; status: number; body: string } | { ok: false; error: unknown };

/**
 * `runIdempotent` for a group commit: runs the items of one batch in one database transaction, each
 * once per idempotency key. Items whose key has a stored answer are replayed (or refused 409) and
 * not run; `work` runs the others together and settles each. A final client error of an item with a
 * key is stored and answered like a success; without a key its caller gets the error. Every answer
 * is stored by one statement, in the transaction that moved the money.
 * @param work returns one outcome per item it is given, in order
 * @returns one outcome per item, in order
 */
export async function runIdempotentBatch<I>(
  db: Db,
  items: I[],
  scopeOf: (item: I) => IdempotencyScope | undefined,
  work: (tx: Tx, items: I[]) => Promise<BatchItemOutcome[]>,
): Promise<Settled<FinalResponse>[]> {
  return await withTransaction(db, async (tx) => {
    const outcomes: (Settled<FinalResponse> | undefined)[] = items.map(() => undefined);
    const keyed = items.flatMap((item, i) => {
      const scope = scopeOf(item);
      return scope ? [{ i, scope }] : [];
    });
    const claims = await claimIdempotencyKeys(
      tx,
      keyed.map((k) => k.scope),
    );
    keyed.forEach(({ i }, n) => {
      const claim = claims[n];
      if (claim instanceof Error) outcomes[i] = { ok: false, error: claim };
      else if (claim) outcomes[i] = { ok: true, value: claim };
    });
    const toRun = items.flatMap((item, i) => (outcomes[i] ? [] : [{ i, item }]));
    const ran =
      toRun.length > 0
        ? await work(
            tx,
            toRun.map(({ item }) => item),
          )
        : [];
    const records: { scope: IdempotencyScope; status: number; body: string }[] = [];
    toRun.forEach(({ i, item }, n) => {
      const outcome = ran[n] ?? { ok: false, error: new Error('batch item left undecided') };
      const scope = scopeOf(item);
      let response: { status: number; body: string };
      if (outcome.ok) response = { status: outcome.status, body: outcome.body };
      else if (scope && isFinalError(outcome.error)) response = renderFinalError(outcome.error);
      else {
        outcomes[i] = { ok: false, error: outcome.error };
        return;
      }
      if (scope) records.push({ scope, ...response });
      outcomes[i] = { ok: true, value: { ...response, replayed: false } };
    });
    await recordIdempotentResponses(tx, records);
    return outcomes.map((o) => o ?? { ok: false, error: new Error('batch item left undecided') });
  });
}

/** A final client error as it is stored and sent: its status and its rendered body text. */
export function renderFinalError(
  error: DomainError,
  renderError: ErrorRenderer = renderV1Error,
): { status: number; body: string } {
  const httpError = toHttpError(error);
  return { status: httpError.status, body: JSON.stringify(renderError(httpError)) };
}

/** Sends a final response as its exact bytes; a replay is marked `Idempotent-Replayed: true`. */
export function sendFinalResponse(reply: FastifyReply, response: FinalResponse): FastifyReply {
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(response.status).type('application/json; charset=utf-8').send(response.body);
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
