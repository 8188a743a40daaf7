/**
 * The JSON body parser (issue 22 point 4). An empty body sent with `Content-Type: application/json`
 * (curl scripts, fetch and axios with `Content-Length: 0`, Binance's Node connector) is no body: every
 * route of the OpenAPI document that takes none, or an optional one, answers it exactly as it answers
 * the same request with no body at all, and seed 004's refresh and delete work with it; a route that
 * needs a body still answers its own 400/422 in its own family's shape. A key that could poison
 * prototypes (`__proto__`, or `constructor` holding `prototype`) is refused with 400 naming the key
 * and where it is, in each family's shape, not as "not valid JSON"; the same words as values pass.
 */
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser } from '../../helpers/app.js';
import { documentedOperations, type Operation } from '../../helpers/openapi.js';
import { useTrackingApp } from '../../helpers/tracking.js';

const t = useTrackingApp(() => ({}));
/** The headers of an empty JSON body, as curl -X DELETE -H 'content-type: application/json' sends them. */
const EMPTY_JSON = { 'content-type': 'application/json', 'content-length': '0' };

beforeAll(() => {
  t.built.binance!.setQuote('BTCUSDT', { last: '45000.5', bid: '45000.4', ask: '45000.6' });
  t.built.binance!.setQuote('ETHUSDT', { last: '3000.25', bid: '3000.2', ask: '3000.3' });
});

/** Sends `operation` as `token`'s user, with an empty JSON body or with no body at all. */
function send(operation: Operation, token: string, emptyJson: boolean): Promise<LightMyRequestResponse> {
  return t.built.app.inject({
    method: operation.method as 'GET',
    url: operation.url,
    headers: { ...bearer(token), ...(emptyJson ? EMPTY_JSON : {}) },
    ...(emptyJson ? { payload: '' } : {}),
  });
}

/** The error code of a v1 error body (or the body's first 80 characters for any other answer). */
function outcome(res: LightMyRequestResponse): string {
  const code = String(res.headers['content-type'] ?? '').includes('json')
    ? res.json()?.error?.code
    : undefined;
  return `${res.statusCode} ${typeof code === 'string' ? code : res.body.slice(0, 80)}`;
}

describe('an empty body with Content-Type: application/json', () => {
  it('is answered as no body by every documented route that takes none or an optional one', async () => {
    const operations = (await documentedOperations(t.built.app)).filter((o) => o.body !== 'required');
    expect(operations.length).toBeGreaterThanOrEqual(30);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining([
        'PUT /crypto/{symbol}/refresh',
        'DELETE /crypto/{symbol}',
        'PUT /api/v1/tracked/{symbol}/refresh',
        'DELETE /api/v1/tracked/{symbol}',
        'POST /api/v1/auth/logout',
      ]),
    );
    const failures: string[] = [];
    for (const operation of operations) {
      // A write may end its caller's session (logout): each one runs as two users of its own.
      const [first, second] =
        operation.method === 'GET'
          ? [t.token, t.token]
          : [(await registerUser(t.built.app)).token, (await registerUser(t.built.app)).token];
      const empty = await send(operation, first, true);
      const none = await send(operation, second, false);
      if (outcome(empty) !== outcome(none) || empty.body.includes('Body cannot be empty'))
        failures.push(
          `${operation.method} ${operation.url}: ${outcome(empty)}, without a body ${outcome(none)}`,
        );
    }
    expect(failures).toEqual([]);
  });

  it('refreshes and deletes a tracked crypto on seed 004 and v1, and logs out', async () => {
    for (const symbol of ['BTC', 'ETH'])
      expect((await t.call('POST', '/crypto', { symbol })).statusCode).toBe(201);
    const call = (method: 'PUT' | 'DELETE', url: string) =>
      t.built.app.inject({ method, url, headers: { ...bearer(t.token), ...EMPTY_JSON }, payload: '' });

    const refreshed = await call('PUT', '/crypto/BTC/refresh');
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().crypto).toMatchObject({ symbol: 'BTC', current_price: 45000.5 });
    const deleted = await call('DELETE', '/crypto/BTC');
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(deleted.json()).toEqual({});

    const v1Refreshed = await call('PUT', '/api/v1/tracked/ETH/refresh');
    expect(v1Refreshed.statusCode, v1Refreshed.body).toBe(200);
    expect(v1Refreshed.json()).toMatchObject({ symbol: 'ETH', current_price: '3000.25' });
    const v1Deleted = await call('DELETE', '/api/v1/tracked/ETH');
    expect(v1Deleted.statusCode, v1Deleted.body).toBe(204);

    const user = await registerUser(t.built.app);
    const logout = await t.built.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { ...bearer(user.token), ...EMPTY_JSON },
      payload: '',
    });
    expect(logout.statusCode, logout.body).toBe(204);
    const after = await t.built.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(user.token),
    });
    expect(after.statusCode).toBe(401);
  });

  it('is a missing body where one is needed: each family’s own 400/422, naming the body', async () => {
    const send = (url: string, token?: string) =>
      t.built.app.inject({
        method: 'POST',
        url,
        headers: { ...(token ? bearer(token) : {}), ...EMPTY_JSON },
        payload: '',
      });
    const user = await registerUser(t.built.app);
    for (const url of [
      '/api/v1/auth/login',
      `/api/v1/wallets/${user.walletId}/operation`,
      '/api/v1/trade_it/',
    ]) {
      const res = await send(url, user.token);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(422);
      expect(res.json().error).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: { fields: [{ field: 'body', message: expect.any(String) }] },
      });
    }
    const seed000 = await send('/login');
    expect(seed000.statusCode, seed000.body).toBe(422);
    expect(seed000.json()).toEqual({
      detail: [{ loc: ['body'], msg: expect.any(String), type: expect.any(String) }],
    });
    const seed004 = await send('/crypto', user.token);
    expect(seed004.statusCode, seed004.body).toBe(400);
    expect(seed004.json()).toEqual({ error: expect.stringContaining('body') });
    expect(seed004.body).not.toContain('Body cannot be empty');
  });
});

describe('a key that could poison prototypes', () => {
  /** [what, body, the forbidden key, where it is] */
  const POISONED: [string, string, string, string][] = [
    ['__proto__ at the top', '{"symbol":"BTC","__proto__":{"admin":true}}', '__proto__', 'body.__proto__'],
    ['__proto__ nested', '{"symbol":"BTC","a":{"b":{"__proto__":{}}}}', '__proto__', 'body.a.b.__proto__'],
    [
      '__proto__ in an array',
      '{"symbol":"BTC","a":[1,{"__proto__":null}]}',
      '__proto__',
      'body.a.1.__proto__',
    ],
    [
      '__proto__ written with escapes',
      '{"symbol":"BTC","\\u005f_proto__":{}}',
      '__proto__',
      'body.__proto__',
    ],
    [
      'constructor.prototype',
      '{"symbol":"BTC","constructor":{"prototype":{"admin":true}}}',
      'constructor.prototype',
      'body.constructor',
    ],
  ];
  const post = (url: string, payload: string) =>
    t.built.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(t.token), 'content-type': 'application/json' },
      payload,
    });

  it.each(POISONED)(
    'refuses %s: 400 naming the key (v1, seed 004, seed 000)',
    async (_what, body, key, path) => {
      const v1 = await post('/api/v1/tracked', body);
      expect(v1.statusCode, v1.body).toBe(400);
      expect(v1.json()).toEqual({
        error: {
          code: 'FORBIDDEN_JSON_KEY',
          message: `the JSON body has a forbidden key "${key}" (at ${path})`,
          details: { key, path },
        },
      });
      const seed004 = await post('/crypto', body);
      expect(seed004.statusCode).toBe(400);
      expect(seed004.json()).toEqual({ error: v1.json().error.message });
      const seed000 = await post('/login', body);
      expect(seed000.statusCode).toBe(400);
      expect(seed000.json()).toEqual({ detail: v1.json().error.message });
      expect((await t.call('GET', '/crypto')).json().cryptos).toEqual([]);
    },
  );

  it('lets the same words through as values, and a constructor key without a prototype', async () => {
    const res = await post(
      '/api/v1/auth/login',
      '{"username":"__proto__","password":"constructor","constructor":1}',
    );
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error.code).toBe('INVALID_CREDENTIALS');
  });

  it('still answers malformed JSON as MALFORMED_JSON', async () => {
    const res = await post('/api/v1/tracked', '{"__proto__":{}');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('MALFORMED_JSON');
  });
});
