import type { FastifyInstance } from 'fastify';
import { JSON_NUMBER_DIGITS_MAX } from '../../shared/decimal.js';
import { ValidationError } from '../../shared/errors.js';
import { JSON_STRING_OR_NUMBER } from '../../shared/json.js';

/**
 * The first JSON number literal in `text` with more than 15 significant digits, if any. Such a
 * number cannot survive `JSON.parse` into a double unchanged (`0.10000000000000001` becomes 0.1),
 * so an amount written that way is ambiguous (SPEC §3). Strings are skipped.
 */
export function findAmbiguousNumber(text: string): string | undefined {
  const token = new RegExp(JSON_STRING_OR_NUMBER.source, 'g');
  for (let match = token.exec(text); match; match = token.exec(text)) {
    const literal = match[0];
    if (literal.startsWith('"')) continue;
    const mantissa = literal.replace(/^-/, '').split(/[eE]/)[0]!;
    const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    if (digits.length > JSON_NUMBER_DIGITS_MAX) return literal;
  }
  return undefined;
}

/**
 * Replaces Fastify's JSON body parser with one that takes an empty body for no body (`undefined`),
 * refuses ambiguous numbers (422), then parses with Fastify's own parser (which also refuses
 * `__proto__` and `constructor` poisoning).
 */
export function installJsonParser(app: FastifyInstance): void {
  const defaultParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // Many clients send `Content-Type: application/json` with `Content-Length: 0` on a DELETE or a
    // bodyless PUT (curl scripts, fetch, axios, Binance's Node connector): that is no body, so a
    // route that takes none works, and one that needs one answers its own 422 (or 400) for it.
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    const ambiguous = findAmbiguousNumber(text);
    if (ambiguous) {
      done(
        new ValidationError(
          `the JSON number ${ambiguous.slice(0, 40)} has more than ${JSON_NUMBER_DIGITS_MAX} significant digits: send it as a decimal string`,
          { number: ambiguous.slice(0, 40) },
        ),
        undefined,
      );
      return;
    }
    defaultParser(request, text, done);
  });
}

/** The path of the first string in `value` (keys included) that holds a NUL character, if any. */
function nulPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return path;
    const found = nulPath(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses (422, naming the field) any request whose body or query holds a NUL character:
 * PostgreSQL text cannot store one, and no field of this API needs one. Checked before validation,
 * for every route of the instance it is installed on (the account, money and seed routes; public
 * market data checks its few inputs strictly itself) and every content type (JSON escapes it as
 * \u0000; a form sends %00). Path parameters are left to their routes, which validate them strictly.
 */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const field = nulPath(request.body, 'body') ?? nulPath(request.query, 'querystring');
    if (!field) {
      done();
      return;
    }
    const message = 'must not contain NUL characters';
    done(new ValidationError(`invalid request: ${field} ${message}`, { fields: [{ field, message }] }));
  });
}
