/** A broken invariant: a bug, never a client error. Aborts the database transaction it happens in. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** Asserts an invariant the code relies on (TigerBeetle style: assertions detect programmer errors). */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * The value, which the code knows is there (a row just inserted, an index within bounds, a key just
 * set): a missing one is a bug, reported as an `AssertionError` rather than a `TypeError` further on.
 *
 * @throws {AssertionError} when the value is `undefined` or `null`
 */
export function defined<T>(value: T | undefined | null, what = 'a value the code relies on'): T {
  if (value === undefined || value === null) throw new AssertionError(`${what} is missing`);
  return value;
}
