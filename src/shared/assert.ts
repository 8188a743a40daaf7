/** A broken invariant: a bug, never a client error. Aborts the database transaction it happens in. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** Asserts an invariant the code relies on (TigerBeetle style: assertions detect programmer errors). */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
