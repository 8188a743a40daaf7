/**
 * Every route is either public by design or closed to callers without a valid session (issue 4,
 * "Access control"; SPEC C2). The routes come from the OpenAPI document itself (`GET /openapi.json`:
 * every path × method), never from a list kept here, so a route added tomorrow is checked tomorrow:
 * unless it is on the short, reasoned allow-list below it must answer 401 — in the v1 error shape on
 * `/api/v1` — to a request with no credentials, a garbage bearer token, a garbage cookie, a
 * well-signed token whose user and session do not exist, and a real user's well-signed token naming
 * a session that does not exist. The router is cross-checked against the document, so a route
 * hidden from the document cannot escape the walk. Public routes are called without credentials
 * and must not leak anything private (a user's email, id or tokens, a hash, the JWT secret, the
 * database URL, a stack trace); a price is public market data with exactly its documented fields.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, registerUser, TEST_JWT_SECRET, useTestApp } from '../../helpers/app.js';
import { documentedOperations, type Operation } from '../../helpers/openapi.js';

const t = useTestApp();

/**
 * Routes of the document that need no credentials, each with the reason. Keep it short: a route
 * belongs here only when the product says so (SPEC C2: register, login, health, docs; issue 4).
 */
const PUBLIC_BY_DESIGN: Record<string, string> = {
  'POST /api/v1/auth/register': 'creates the credentials',
  'POST /api/v1/auth/login': 'exchanges a password for tokens',
  'POST /api/v1/auth/refresh': 'the refresh token (in the body, or its same-site cookie) is the credential',
  'GET /health/live': 'liveness probe of the orchestrator, which has no account',
  'GET /health/ready': 'readiness probe of the orchestrator, which has no account',
  'GET /api/v1/market/prices/{symbol}': 'public market data, the same for everyone',
  'GET /api/v1/market/prices': 'public market data, the same for everyone',
  'GET /api/v1/market/tickers/{symbol}': 'public market data, the same for everyone',
  'GET /api/v1/market/candles/{symbol}': 'public market data, the same for everyone',
  'GET /api/v1/market/symbols': 'public market data, the same for everyone',
  'GET /api/v1/market/fees': 'the exchange’s fee and margin rates, the same for everyone',
  'POST /login': 'seed 000 login: its document exempts it from JWT',
  'POST /new_user': 'seed 000 registration: its document exempts it from JWT',
  'POST /auth/register': 'seed 004 registration',
  'POST /auth/login': 'seed 004 login',
};

/**
 * Routes the router serves but the document does not list, by design: the docs, the document, the
 * Prometheus scrape (public like the health probes: the scraper has no account; SPEC §3), and the
 * web terminal's pages and files (the same static shell for everyone; it signs in through the API).
 */
const UNDOCUMENTED_BY_DESIGN: [RegExp, string][] = [
  [/^\/(signin|orders|positions|portfolio|transactions|bets|tracking|account)?$/, 'the web terminal’s shell'],
  [/^\/assets\/[\w.-]+$/, 'the web terminal’s built files'],
  [/^\/docs(\/.*)?$/, 'the interactive docs (Swagger UI) and their assets'],
  [/^\/openapi\.json$/, 'the OpenAPI document itself'],
  [/^\/metrics$/, 'Prometheus metrics, scraped without an account; route patterns, never ids'],
];

/**
 * Every method × path the router serves, read from Fastify's route tree (`printRoutes`), with
 * `:param` written as the document writes it (`{param}`). HEAD is left out: Fastify adds it to GET.
 */
function routerRoutes(app: FastifyInstance): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    segments.length = depth;
    segments.push(match[2]!);
    const path = segments.join('').replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()))
      if (method && method !== 'HEAD') routes.push({ method, path });
  }
  return routes;
}

const keyOf = (operation: { method: string; path: string }) => `${operation.method} ${operation.path}`;
const isPublic = (operation: Operation) => keyOf(operation) in PUBLIC_BY_DESIGN;

let operations: Operation[] = [];
/** a real user: its id is used to sign a token for a session that does not exist */
let realUserId = '';

beforeAll(async () => {
  operations = await documentedOperations(t.app);
  realUserId = (await registerUser(t.app)).userId;
});

/** An HS256 token signed with the server's own secret, as a real one is, for `sub` and `sid`. */
async function wellSigned(sub: string, sid: string): Promise<Record<string, string>> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ role: 'user', sid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setJti(randomUUID())
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + 600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
  return bearer(token);
}

/** Sends `operation` with `headers` (and, for a method with a body, an empty JSON object). */
function send(
  operation: { method: string; url: string },
  headers: Record<string, string>,
  cookies: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(operation.method);
  return t.app.inject({
    method: operation.method as 'GET',
    url: operation.url,
    headers: hasBody ? { ...headers, 'content-type': 'application/json' } : headers,
    cookies,
    ...(hasBody ? { payload: '{}' } : {}),
  });
}

/** What is wrong with an answer that should be a 401, or undefined when it is a proper one. */
function notA401(
  operation: { method: string; path: string },
  res: LightMyRequestResponse,
): string | undefined {
  if (res.statusCode !== 401) return `${res.statusCode} ${res.body.slice(0, 200)}`;
  if (operation.method === 'HEAD') return undefined;
  if (operation.path.startsWith('/api/v1/')) {
    const body = res.json();
    if (Object.keys(body).join() !== 'error' || body.error?.code !== 'UNAUTHORIZED')
      return `401 in the wrong shape: ${res.body.slice(0, 200)}`;
  }
  if (res.headers['set-cookie'] !== undefined) return '401 that sets a cookie';
  return undefined;
}

type Credentials = () => Promise<{ headers: Record<string, string>; cookies?: Record<string, string> }>;

const CREDENTIALS: [string, Credentials][] = [
  ['no credentials', async () => ({ headers: {} })],
  ['a garbage bearer token', async () => ({ headers: bearer('garbage.garbage.garbage') })],
  [
    // Same-origin, so the cookie reaches the token check instead of the CSRF check (403).
    'a garbage auth cookie',
    async () => ({
      headers: { 'sec-fetch-site': 'same-origin' },
      cookies: { pb_access_token: 'garbage.garbage.garbage' },
    }),
  ],
  [
    'a well-signed token of a user and session that do not exist',
    async () => ({ headers: await wellSigned(randomUUID(), randomUUID()) }),
  ],
  [
    'a real user’s well-signed token naming a session that does not exist',
    async () => ({ headers: await wellSigned(realUserId, randomUUID()) }),
  ],
];

describe('the OpenAPI document', () => {
  it('lists the routes this test walks, and every allow-listed route is one of them', () => {
    const documented = new Set(operations.map(keyOf));
    expect(operations.length).toBeGreaterThanOrEqual(20);
    // A stale entry would keep a public door open for whatever route takes its name next.
    expect(Object.keys(PUBLIC_BY_DESIGN).filter((key) => !documented.has(key))).toEqual([]);
    expect(operations.filter((o) => !isPublic(o)).length).toBeGreaterThanOrEqual(10);
  });

  it('lists every route the router serves, but the docs and the document themselves', () => {
    const documented = new Set(operations.map(keyOf));
    const served = routerRoutes(t.app);
    expect(served.length).toBeGreaterThanOrEqual(operations.length);
    const missing = served
      .filter((route) => !documented.has(keyOf(route)))
      .filter((route) => !UNDOCUMENTED_BY_DESIGN.some(([pattern]) => pattern.test(route.path)))
      .map(keyOf);
    expect(missing).toEqual([]);
  });

  it('marks exactly the protected routes with the bearer security scheme', () => {
    const wrong = operations
      .filter((o) => o.documentedSecurity === isPublic(o))
      .map((o) => `${keyOf(o)}: documented ${o.documentedSecurity ? 'with' : 'without'} bearerAuth`);
    expect(wrong).toEqual([]);
  });
});

describe('every route that is not public by design', () => {
  it.each(CREDENTIALS)('answers 401 to %s', async (_name, credentials) => {
    const failures: string[] = [];
    for (const operation of operations.filter((o) => !isPublic(o))) {
      const variants =
        operation.method === 'GET' ? [operation, { ...operation, method: 'HEAD' }] : [operation];
      for (const variant of variants) {
        const { headers, cookies } = await credentials();
        const problem = notA401(variant, await send(variant, headers, cookies));
        if (problem) failures.push(`${variant.method} ${variant.url}: ${problem}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('public routes', () => {
  it('answer without credentials and leak nothing private', async () => {
    // A user with everything private a leak could show: an email, tokens, a hash in the database.
    const marker = randomUUID().slice(0, 8);
    const email = `private_${marker}@example.com`;
    const user = { username: `private_${marker}`, password: `pw-${randomUUID()}` };
    const registered = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { ...user, email },
    });
    expect(registered.statusCode).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: user });
    expect(login.statusCode).toBe(200);
    const tokens = login.json<{ access_token: string; refresh_token: string }>();
    const adminUrl = new URL(inject('adminDatabaseUrl'));
    const secrets = [
      email,
      registered.json<{ user: { id: string } }>().user.id,
      registered.json<{ access_token: string }>().access_token,
      tokens.access_token,
      tokens.refresh_token,
      user.password,
      TEST_JWT_SECRET,
      'postgres://',
      'postgresql://',
      ...(adminUrl.password ? [adminUrl.password] : []),
    ];

    const publicOperations = operations.filter(isPublic);
    const undocumented = [
      { method: 'GET', path: '/openapi.json', url: '/openapi.json' },
      { method: 'GET', path: '/metrics', url: '/metrics' },
      { method: 'GET', path: '/', url: '/' },
      { method: 'GET', path: '/orders', url: '/orders' },
      { method: 'GET', path: '/docs', url: '/docs' },
      { method: 'GET', path: '/docs/', url: '/docs/' },
      { method: 'GET', path: '/docs/json', url: '/docs/json' },
      {
        method: 'GET',
        path: '/docs/static/swagger-initializer.js',
        url: '/docs/static/swagger-initializer.js',
      },
    ];
    const failures: string[] = [];
    for (const operation of [...publicOperations, ...undocumented]) {
      const res = await send(operation, {});
      const where = `${operation.method} ${operation.url} → ${res.statusCode}`;
      if (res.statusCode === 401 || res.statusCode === 403) failures.push(`${where}: not public`);
      if (res.statusCode >= 500) failures.push(`${where}: server error ${res.body.slice(0, 200)}`);
      for (const secret of secrets)
        if (res.body.includes(secret)) failures.push(`${where}: the body contains ${secret.slice(0, 12)}…`);
      if (/\$2[aby]\$\d\d\$/.test(res.body)) failures.push(`${where}: the body contains a bcrypt hash`);
      if (/\n\s+at .+:\d+:\d+/.test(res.body) || res.body.includes('"stack"'))
        failures.push(`${where}: the body contains a stack trace`);
      if (res.statusCode >= 400 && res.headers['set-cookie'] !== undefined)
        failures.push(`${where}: a refused request set a cookie`);
    }
    expect(failures).toEqual([]);
  });

  it('serve a price as public market data: exactly the documented fields, the same with or without a token', async () => {
    const user = await registerUser(t.app);
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTCUSDT' });
    expect(anonymous.statusCode).toBe(200);
    expect(Object.keys(anonymous.json()).sort()).toEqual([
      'as_of',
      'ask',
      'bid',
      'price',
      'source',
      'stale',
      'symbol',
    ]);
    expect(anonymous.headers['set-cookie']).toBeUndefined();
    const authenticated = await t.app.inject({
      method: 'GET',
      url: '/api/v1/market/prices/BTCUSDT',
      headers: bearer(user.token),
    });
    expect(authenticated.json()).toEqual(anonymous.json());
  });
});
