import type { FastifyInstance } from 'fastify';
import { defined } from '../../shared/assert.js';
import { JSON_NUMBER_DIGITS_MAX } from '../../shared/decimal.js';
import { DomainError, ValidationError } from '../../shared/errors.js';
import { JSON_STRING_OR_NUMBER } from '../../shared/json.js';
import { documentRoutes } from './openapi.js';

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
    const mantissa = defined(literal.replace(/^-/, '').split(/[eE]/)[0]);
    const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    if (digits.length > JSON_NUMBER_DIGITS_MAX) return literal;
  }
  return undefined;
}

/** Longest `path` a forbidden-key error quotes (characters): the keys on it are the client's. */
const KEY_PATH_CHARS_MAX = 200;

/**
 * A JSON body holding a key that could poison prototypes once the body is merged into an object:
 * `__proto__`, or `constructor` holding `prototype`. 400, naming the key and where it is.
 */
export class ForbiddenJsonKeyError extends DomainError {
  readonly code = 'FORBIDDEN_JSON_KEY';
  constructor(key: '__proto__' | 'constructor.prototype', path: string) {
    const where = path.slice(0, KEY_PATH_CHARS_MAX);
    super(`the JSON body has a forbidden key "${key}" (at ${where})`, { key, path: where });
  }
}

/**
 * The first key of a parsed JSON value that Fastify's parser refuses as prototype poisoning (the
 * rules of secure-json-parse): an own `__proto__`, or an own `constructor` that is an object with
 * an own `prototype`. Walked with a stack, not recursion: a 64 kB body can nest 32 000 deep.
 */
function findForbiddenKey(root: unknown): ForbiddenJsonKeyError | undefined {
  const pending: [unknown, string][] = [[root, 'body']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path] = next;
    if (value === null || typeof value !== 'object') continue;
    if (Object.hasOwn(value, '__proto__')) return new ForbiddenJsonKeyError('__proto__', `${path}.__proto__`);
    const ctor = Object.hasOwn(value, 'constructor') ? (value as { constructor: unknown }).constructor : null;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype'))
      return new ForbiddenJsonKeyError('constructor.prototype', `${path}.constructor`);
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--)
      pending.push([defined(entries[i])[1], `${path}.${defined(entries[i])[0]}`]);
  }
  return undefined;
}

/**
 * Replaces Fastify's JSON body parser with one that takes an empty body for no body (`undefined`),
 * refuses ambiguous numbers (422), then parses with Fastify's own parser, which also refuses
 * `__proto__` and `constructor.prototype` keys: those are answered 400 `FORBIDDEN_JSON_KEY`
 * naming the key, not as malformed JSON.
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
    defaultParser(request, text, (error, value) => {
      // Fastify says only "not valid JSON": look again, on this rare path only, for what it refused.
      done((error && forbiddenKeyIn(text)) ?? error, value);
    });
  });
}

/** The forbidden key of a body that is valid JSON, if any (undefined for malformed JSON). */
function forbiddenKeyIn(text: string): ForbiddenJsonKeyError | undefined {
  try {
    return findForbiddenKey(JSON.parse(text));
  } catch {
    return undefined;
  }
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
  documentRoutes(app, { nulGuarded: true });
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
