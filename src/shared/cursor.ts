import { ValidationError } from './errors.js';

/**
 * Opaque page cursors: base64url of `<kind>:<id>`, where `id` is the positive integer key of the
 * last item of the page (lists are ordered by it, newest first). The kind keeps a cursor of one
 * list from being accepted by another.
 */
export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

/**
 * The id a cursor stands for; undefined for no cursor.
 * @throws {ValidationError} (422) for a cursor this server did not issue for this list
 */
export function decodeCursor(kind: string, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const match = /^([a-z]+):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const id = match && match[1] === kind ? Number(match[2]) : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw new ValidationError('invalid cursor', { cursor });
  return id;
}

/** The page of `limit` items out of `limit + 1` fetched, and the cursor of the next page if any. */
export function pageOf<T>(
  rows: T[],
  limit: number,
  kind: string,
  idOf: (row: T) => number,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(kind, idOf(last)) : null };
}
