/**
 * The document lists every status an operation answers, the platform's own errors included (issue
 * 21): the body parser's (malformed JSON or a forbidden key 400, over 64 kB 413, another content
 * type 415, an ambiguous number 422) on every operation that parses a body, the router's (a broken
 * percent-encoding 400, a path parameter over 256 characters 414) on every path with a parameter,
 * the NUL guard's 422 on every account, money and seed route, and the auth guard's 401 and (a
 * cookie-authenticated cross-site write) 403 — each as the operation's family answers it (seed 004:
 * 400 for 415 and 422) and in its error shape. Found by test/fuzz/openapi.fuzz.test.ts: these were
 * answered but undocumented on most operations.
 */
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { authCookieOf, bearer, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}
let paths: Record<string, Record<string, Operation>> = {};
let user: Awaited<ReturnType<typeof registerUser>>;
let cookie = '';

beforeAll(async () => {
  paths = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths;
  user = await registerUser(t.app);
  cookie = await authCookieOf(t.app, user);
});

/** The schema the document gives for `status` of `method path` (undefined when it lists no such status). */
function documented(method: string, path: string, status: number): Record<string, unknown> | undefined {
  const response = paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  return response?.content?.['application/json']?.schema ?? (response ? {} : undefined);
}

const V1_ERROR = { $ref: '#/components/schemas/Error' };

const send = (
  method: string,
  url: string,
  options: { headers?: Record<string, string>; payload?: string } = {},
) => t.app.inject({ method: method as 'GET', url, ...options });
const json = (method: string, url: string, payload: string, headers: Record<string, string> = {}) =>
  send(method, url, {
    headers: { ...bearer(user.token), 'content-type': 'application/json', ...headers },
    payload,
  });

/** method, documented path, what is wrong, the status, the request */
type Case = [string, string, string, number, () => Promise<LightMyRequestResponse>];
const CASES: Case[] = [
  ['POST', '/api/v1/wallets', 'malformed JSON', 400, () => json('POST', '/api/v1/wallets', '{')],
  [
    'POST',
    '/api/v1/wallets',
    'a __proto__ key',
    400,
    () => json('POST', '/api/v1/wallets', '{"__proto__":{}}'),
  ],
  [
    'POST',
    '/api/v1/wallets',
    'a 100 kB body',
    413,
    () => json('POST', '/api/v1/wallets', JSON.stringify({ name: 'x'.repeat(100_000) })),
  ],
  [
    'POST',
    '/api/v1/orders',
    'application/xml',
    415,
    () => json('POST', '/api/v1/orders', '<a/>', { 'content-type': 'application/xml' }),
  ],
  [
    'GET',
    '/api/v1/stream',
    'a repeated query parameter',
    422,
    () => send('GET', '/api/v1/stream?token=a&token=b', { headers: bearer(user.token) }),
  ],
  [
    'GET',
    '/api/v1/orders/{order_id}',
    'a broken percent-encoding',
    400,
    () => send('GET', '/api/v1/orders/%E0%A4%A', { headers: bearer(user.token) }),
  ],
  [
    'GET',
    '/api/v1/market/prices/{symbol}',
    'a 300-character symbol',
    414,
    () => send('GET', `/api/v1/market/prices/${'x'.repeat(300)}`),
  ],
  [
    'GET',
    '/api/v1/users/me',
    'a NUL in the query',
    422,
    () => send('GET', '/api/v1/users/me?x=%00', { headers: bearer(user.token) }),
  ],
  [
    'POST',
    '/api/v1/wallets',
    'a cookie-authenticated cross-site write',
    403,
    () =>
      send('POST', '/api/v1/wallets', {
        headers: { cookie, 'content-type': 'application/json' },
        payload: '{"name":"w"}',
      }),
  ],
];

describe('the OpenAPI document', () => {
  it.each(CASES)(
    'lists %s %s answering %s (%i) with the v1 error body',
    async (method, path, _what, status, request) => {
      const res = await request();
      expect(res.statusCode, res.body).toBe(status);
      expect(documented(method, path, status)).toEqual(V1_ERROR);
    },
  );

  it('lists them in each seed family’s own status and shape', async () => {
    // seed 000 (FastAPI-like): its own statuses, `{detail}`
    const seed000 = await send('POST', '/login', {
      headers: { 'content-type': 'application/xml' },
      payload: 'x',
    });
    expect(seed000.statusCode).toBe(415);
    expect(Object.keys(seed000.json())).toEqual(['detail']);
    expect(documented('POST', '/login', 415)).toMatchObject({ required: ['detail'] });
    // seed 004: a bad body of any kind is a 400, so no 415 or 422 is listed; too large stays 413
    const seed004 = await send('POST', '/auth/register', {
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(seed004.statusCode).toBe(400);
    expect(documented('POST', '/auth/register', 415)).toBeUndefined();
    expect(documented('POST', '/auth/register', 422)).toBeUndefined();
    const big = await send('POST', '/auth/register', {
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'x'.repeat(100_000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(Object.keys(big.json())).toEqual(['error']);
    expect(documented('POST', '/auth/register', 413)).toMatchObject({ required: ['error'] });
  });

  it('adds nothing to a route that answers no error (the liveness probe)', () => {
    expect(Object.keys(paths['/health/live']!.get!.responses)).toEqual(['200']);
  });
});
