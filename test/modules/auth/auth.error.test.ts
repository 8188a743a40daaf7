/**
 * Bad input on every auth and user route (issue 4, "Bad input"; SPEC §5 rule 6): v1 register, login
 * (JSON and the OAuth2 form), refresh, logout, PATCH and DELETE /users/me, PUT /users/me/password
 * and GET /users/{id}; seed 000's /new_user and /login; seed 004's /auth/register and /auth/login.
 * Each field is sent missing, null, as a number, a boolean, an array, an object, empty, 10 kB long and
 * with a NUL byte; each body as an array, a scalar, null, malformed JSON, with a `__proto__` key, a NUL
 * in an unknown field or key, under a wrong content type (text, XML, multipart, none) and over the
 * size limit. Each answers a 4xx in its family's shape — v1 `{"error": {code, message, details}}`,
 * seed 000 FastAPI's `{"detail": …}` (a list of `{loc, msg, type}` with 422 for invalid fields), seed
 * 004 `{"error": "text"}` with 400 — never 500, never echoes a password, and changes nothing: the
 * users, sessions, refresh tokens and journals in PostgreSQL are the same before and after, and the
 * caller's session still works. Then the rules on values: unicode usernames, homoglyphs, the password
 * bounds (8 characters; 72 bytes counted in UTF-8, so 36 × "é" passes and one more byte does not),
 * email syntax and case-insensitive email uniqueness (409 EMAIL_TAKEN), extra fields that try to pick
 * a role, an id, a hash or a balance, and malformed user ids in the path.
 * Failed logins are limited per address and account: the limits are raised here so that the many
 * wrong-credential answers of this file are never 429s.
 */
import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';
import { expectV1Error } from '../../helpers/wallets.js';

const t = useTestApp({
  env: {
    LOGIN_FAILURES_PER_ADDRESS_MAX: '100000',
    LOGIN_FAILURES_PER_ACCOUNT_MAX: '100000',
    LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX: '100000',
  },
});

/** Which contract a route belongs to: its error shape and statuses. */
type Family = 'v1' | 'seed000' | 'seed004';
/** What is wrong with a request, as far as the status goes. */
type Fault = 'invalid' | 'malformed' | 'forbidden-key' | 'media' | 'too-large';

/** Status per family and fault: seed 004 has only 400 for a bad body; 413 stays 413 everywhere. */
const STATUS: Record<Family, Record<Fault, number>> = {
  v1: { invalid: 422, malformed: 400, 'forbidden-key': 400, media: 415, 'too-large': 413 },
  seed000: { invalid: 422, malformed: 400, 'forbidden-key': 400, media: 415, 'too-large': 413 },
  seed004: { invalid: 400, malformed: 400, 'forbidden-key': 400, media: 400, 'too-large': 413 },
};
const V1_CODE: Record<Fault, string> = {
  invalid: 'VALIDATION_ERROR',
  malformed: 'MALFORMED_JSON',
  'forbidden-key': 'FORBIDDEN_JSON_KEY',
  media: 'UNSUPPORTED_MEDIA_TYPE',
  'too-large': 'PAYLOAD_TOO_LARGE',
};

const TEN_KB = 10 * 1024;
/** Over the 64 kB body limit. */
const OVER_BODY_LIMIT = 70 * 1024;
const NEW_PASSWORD = 'another good passphrase';

/** The caller of the authenticated routes; their session must survive every refused request. */
let alice: { token: string; userId: string; username: string; password: string };

beforeAll(async () => {
  const username = `alice_${randomUUID().slice(0, 8)}`;
  const password = `alice-${randomUUID()}`;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { username, password },
  });
  expect(res.statusCode).toBe(201);
  const body = res.json<{ user: { id: string }; access_token: string }>();
  alice = { token: body.access_token, userId: body.user.id, username, password };
});

/** Everything a refused request must leave alone, read straight from PostgreSQL. */
async function snapshot(): Promise<unknown> {
  const rows = await t.db.execute(sql`select
    (select count(*)::int from users) as users,
    (select md5(coalesce(string_agg(u::text, '|' order by u.id), '')) from users u) as users_digest,
    (select md5(coalesce(string_agg(s::text, '|' order by s.id), '')) from auth_sessions s) as sessions_digest,
    (select md5(coalesce(string_agg(r::text, '|' order by r.token_hash), '')) from refresh_tokens r)
      as refresh_tokens_digest,
    (select count(*)::int from journal_transactions) as journals`);
  return rows.rows[0];
}

/** What a refusal must be: a kind of fault (its status per family), or a status (and v1 code). */
type Expected = Fault | { status: number; code?: string };

/** Checks that `res` is the refusal `expected` describes, in `family`'s shape. */
function expectRefusal(family: Family, expected: Expected, res: LightMyRequestResponse): void {
  const fault = typeof expected === 'string' ? expected : undefined;
  const status = fault ? STATUS[family][fault] : (expected as { status: number }).status;
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  if (family === 'v1') {
    expectV1Error(res, status, fault ? V1_CODE[fault] : (expected as { code?: string }).code);
    if (fault === 'invalid') {
      const fields = body.error.details.fields as { field: string; message: string }[];
      expect(fields.length).toBeGreaterThan(0);
      for (const f of fields) expect(f.field).toMatch(/^(body|params|querystring)\b/);
    }
  } else if (family === 'seed000') {
    expect(Object.keys(body)).toEqual(['detail']);
    if (fault === 'invalid') {
      expect(body.detail.length).toBeGreaterThan(0);
      for (const item of body.detail)
        expect(item).toEqual({ loc: expect.any(Array), msg: expect.any(String), type: expect.any(String) });
      expect(body.detail[0].loc[0]).toBe('body');
    } else expect(typeof body.detail).toBe('string');
  } else {
    expect(body).toEqual({ error: expect.any(String) });
  }
}

/**
 * Sends a request that must be refused, and checks the answer's status and shape, that it echoes no
 * password and sets no cookie, and that nothing changed (nor did the caller's session end).
 */
async function expectRefusedAndUnchanged(
  family: Family,
  expected: Expected,
  send: () => Promise<LightMyRequestResponse>,
  passwords: string[] = [],
): Promise<LightMyRequestResponse> {
  const before = await snapshot();
  const res = await send();
  expectRefusal(family, expected, res);
  for (const password of [alice.password, ...passwords]) expect(res.body).not.toContain(password);
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(await snapshot()).toEqual(before);
  const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(alice.token) });
  expect(me.statusCode).toBe(200);
  return res;
}

/** A route that takes a JSON body, and the body it accepts. */
interface BodyRoute {
  family: Family;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** sends alice's bearer token */
  auth: boolean;
  /** the string fields of the body: `required` ones cannot be left out; `nullable` ones may be null */
  fields: Record<string, { required: boolean; nullable?: boolean; emptyAllowed?: boolean }>;
  /** whether `{}` (and, for a nullish body, `null`) is a valid body */
  emptyBodyValid?: boolean;
  /** a body whose every field is well formed (built when the test runs: it may name alice) */
  valid: () => Record<string, string>;
  /** what the valid body gets (the refresh token of the valid body is well formed but unknown: 401) */
  controlStatus: number;
}

const fresh = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}`;

const ROUTES: Record<string, BodyRoute> = {
  'POST /api/v1/auth/register': {
    family: 'v1',
    method: 'POST',
    url: '/api/v1/auth/register',
    auth: false,
    fields: {
      username: { required: true },
      password: { required: true },
      email: { required: false, nullable: true },
    },
    controlStatus: 201,
    valid: () => ({ username: fresh('newcomer'), password: 'correct horse battery', email: 'n@example.com' }),
  },
  'POST /api/v1/auth/login (JSON)': {
    family: 'v1',
    method: 'POST',
    url: '/api/v1/auth/login',
    auth: false,
    fields: { username: { required: true }, password: { required: true }, grant_type: { required: false } },
    controlStatus: 200,
    valid: () => ({ username: alice.username, password: alice.password, grant_type: 'password' }),
  },
  'POST /api/v1/auth/refresh': {
    family: 'v1',
    method: 'POST',
    url: '/api/v1/auth/refresh',
    auth: false,
    fields: { refresh_token: { required: true } },
    controlStatus: 401,
    valid: () => ({ refresh_token: `rt_${'A'.repeat(43)}` }),
  },
  'POST /api/v1/auth/logout': {
    family: 'v1',
    method: 'POST',
    url: '/api/v1/auth/logout',
    auth: true,
    fields: { refresh_token: { required: false, emptyAllowed: true } },
    emptyBodyValid: true,
    controlStatus: 204,
    valid: () => ({ refresh_token: `rt_${'A'.repeat(43)}` }),
  },
  'PATCH /api/v1/users/me': {
    family: 'v1',
    method: 'PATCH',
    url: '/api/v1/users/me',
    auth: true,
    fields: { username: { required: false }, email: { required: false, nullable: true } },
    controlStatus: 200,
    valid: () => ({ username: fresh('renamed'), email: 'renamed@example.com' }),
  },
  'PUT /api/v1/users/me/password': {
    family: 'v1',
    method: 'PUT',
    url: '/api/v1/users/me/password',
    auth: true,
    fields: { current_password: { required: true }, new_password: { required: true } },
    controlStatus: 204,
    valid: () => ({ current_password: alice.password, new_password: NEW_PASSWORD }),
  },
  'DELETE /api/v1/users/me': {
    family: 'v1',
    method: 'DELETE',
    url: '/api/v1/users/me',
    auth: true,
    fields: { current_password: { required: true } },
    controlStatus: 204,
    valid: () => ({ current_password: alice.password }),
  },
  'POST /new_user (seed 000)': {
    family: 'seed000',
    method: 'POST',
    url: '/new_user',
    auth: false,
    fields: { username: { required: true }, email: { required: true }, password: { required: true } },
    controlStatus: 200,
    valid: () => ({ username: fresh('broker'), email: 'b@example.com', password: 'correct horse battery' }),
  },
  'POST /login (seed 000)': {
    family: 'seed000',
    method: 'POST',
    url: '/login',
    auth: false,
    fields: { username: { required: true }, password: { required: true } },
    controlStatus: 200,
    valid: () => ({ username: alice.username, password: alice.password }),
  },
  'POST /auth/register (seed 004)': {
    family: 'seed004',
    method: 'POST',
    url: '/auth/register',
    auth: false,
    fields: { username: { required: true }, password: { required: true } },
    controlStatus: 201,
    valid: () => ({ username: fresh('tracker'), password: 'correct horse battery' }),
  },
  'POST /auth/login (seed 004)': {
    family: 'seed004',
    method: 'POST',
    url: '/auth/login',
    auth: false,
    fields: { username: { required: true }, password: { required: true } },
    controlStatus: 200,
    valid: () => ({ username: alice.username, password: alice.password }),
  },
};

/** A raw request body and its content type (`undefined`: no content-type header). */
interface RawBody {
  payload: string;
  contentType: string | undefined;
}
type BadBody = [name: string, fault: Fault, build: (valid: Record<string, unknown>) => RawBody];

const asJson = (value: unknown): RawBody => ({
  payload: JSON.stringify(value),
  contentType: 'application/json',
});
const withField = (valid: Record<string, unknown>, field: string, value: unknown) => ({
  ...valid,
  [field]: value,
});

/** Every bad version of one field of `route`'s body. */
function badFields(route: BodyRoute): BadBody[] {
  const cases: BadBody[] = [];
  for (const [field, rule] of Object.entries(route.fields)) {
    if (rule.required)
      cases.push([
        `${field} missing`,
        'invalid',
        (valid) => asJson(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))),
      ]);
    if (!rule.nullable) cases.push([`${field} null`, 'invalid', (v) => asJson(withField(v, field, null))]);
    cases.push(
      [`${field} a number`, 'invalid', (v) => asJson(withField(v, field, 12345678))],
      [`${field} a boolean`, 'invalid', (v) => asJson(withField(v, field, true))],
      [`${field} an array`, 'invalid', (v) => asJson(withField(v, field, [v[field]]))],
      [`${field} an object`, 'invalid', (v) => asJson(withField(v, field, { value: v[field] }))],
      [`${field} 10 kB long`, 'invalid', (v) => asJson(withField(v, field, 'x'.repeat(TEN_KB)))],
      [
        `${field} with a NUL byte`,
        'invalid',
        (v) =>
          asJson(withField(v, field, `${String(v[field]).slice(0, 2)}\u0000${String(v[field]).slice(2)}`)),
      ],
    );
    if (!rule.emptyAllowed) cases.push([`${field} empty`, 'invalid', (v) => asJson(withField(v, field, ''))]);
  }
  return cases;
}

/** Every bad version of `route`'s body as a whole. */
function badBodies(route: BodyRoute): BadBody[] {
  const cases: BadBody[] = [
    ['an array of the valid body', 'invalid', (v) => asJson([v])],
    ['a JSON string', 'invalid', () => asJson('username')],
    ['a JSON number', 'invalid', () => asJson(42)],
    ['a NUL byte in an unknown field', 'invalid', (v) => asJson({ ...v, note: 'a\u0000b' })],
    ['a NUL byte in a key', 'invalid', (v) => asJson({ ...v, 'no\u0000te': 'x' })],
    ['a NUL byte in a nested value', 'invalid', (v) => asJson({ ...v, extra: { deep: ['\u0000'] } })],
    [
      'malformed JSON',
      'malformed',
      () => ({ payload: '{"username": "x",', contentType: 'application/json' }),
    ],
    [
      'malformed JSON around a password',
      'malformed',
      () => ({
        payload: `{"username": "x", "password": ${alice.password}}`,
        contentType: 'application/json',
      }),
    ],
    [
      'a __proto__ key',
      'forbidden-key',
      (v) => ({
        payload: `{"__proto__": {"role": "admin"}, ${JSON.stringify(v).slice(1)}`,
        contentType: 'application/json',
      }),
    ],
    [
      'the JSON sent as text/plain',
      'invalid',
      (v) => ({ payload: JSON.stringify(v), contentType: 'text/plain' }),
    ],
    [
      'an XML body',
      'media',
      () => ({ payload: '<user><name>x</name></user>', contentType: 'application/xml' }),
    ],
    [
      'a multipart body',
      'media',
      (v) => ({
        payload: `--b\r\ncontent-disposition: form-data; name="username"\r\n\r\n${String(v.username)}\r\n--b--\r\n`,
        contentType: 'multipart/form-data; boundary=b',
      }),
    ],
    [
      'the JSON with no content type',
      'media',
      (v) => ({ payload: JSON.stringify(v), contentType: undefined }),
    ],
    ['a body over 64 kB', 'too-large', (v) => asJson({ ...v, padding: 'x'.repeat(OVER_BODY_LIMIT) })],
  ];
  if (!route.emptyBodyValid)
    cases.push(
      ['an empty object', 'invalid', () => asJson({})],
      ['JSON null', 'invalid', () => asJson(null)],
    );
  return cases;
}

/** Sends `body` to `route` as it is (alice's bearer token on the authenticated routes). */
function sendRaw(route: BodyRoute, body: RawBody): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = route.auth ? bearer(alice.token) : {};
  if (body.contentType) headers['content-type'] = body.contentType;
  return t.app.inject({ method: route.method, url: route.url, headers, payload: body.payload });
}

const routeNames = Object.keys(ROUTES);

describe.each(routeNames)('%s', (routeName) => {
  const route = ROUTES[routeName]!;

  it(`answers its well-formed body ${route.controlStatus} (the control for the cases below)`, async () => {
    // Logins are sent for alice with her password; the authenticated routes would end her session or
    // change her password, so their control runs as a user of its own.
    const own = route.auth ? await registerUser(t.app) : undefined;
    const valid = route.valid();
    if (own && 'current_password' in valid) valid.current_password = own.password;
    const headers = own ? bearer(own.token) : {};
    const res = await t.app.inject({ method: route.method, url: route.url, headers, payload: valid });
    expect(res.statusCode, res.body).toBe(route.controlStatus);
  });

  it.each([...badFields(route), ...badBodies(route)])('refuses %s', async (_name, fault, build) => {
    const valid = route.valid();
    const passwords = Object.entries(valid)
      .filter(([key]) => key.includes('password'))
      .map(([, value]) => value);
    await expectRefusedAndUnchanged(route.family, fault, () => sendRaw(route, build(valid)), passwords);
  });
});

describe('POST /api/v1/auth/login with the OAuth2 password form', () => {
  const form = (fields: [string, string][]) =>
    fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const FORM_CASES: [string, () => string][] = [
    [
      'no password',
      () =>
        form([
          ['grant_type', 'password'],
          ['username', alice.username],
        ]),
    ],
    [
      'no username',
      () =>
        form([
          ['grant_type', 'password'],
          ['password', alice.password],
        ]),
    ],
    ['empty fields', () => 'grant_type=password&username=&password='],
    ['an empty form', () => ''],
    ['a repeated username (an array)', () => `${form([['username', alice.username]])}&username=x&password=x`],
    [
      'a grant_type that is not "password"',
      () =>
        form([
          ['grant_type', 'client_credentials'],
          ['username', alice.username],
          ['password', alice.password],
        ]),
    ],
    [
      'a 10 kB username',
      () =>
        form([
          ['username', 'x'.repeat(TEN_KB)],
          ['password', alice.password],
        ]),
    ],
    ['a NUL byte in the username', () => `username=${alice.username}%00&password=x`],
    ['a NUL byte in the password', () => `username=${alice.username}&password=${alice.password}%00`],
    [
      'a NUL byte in the scope',
      () =>
        `${form([
          ['username', alice.username],
          ['password', alice.password],
        ])}&scope=%00`,
    ],
  ];

  it.each(FORM_CASES)('refuses %s with 422', async (_name, build) => {
    await expectRefusedAndUnchanged('v1', 'invalid', () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: build(),
      }),
    );
  });

  it('refuses a form over 64 kB with 413', async () => {
    await expectRefusedAndUnchanged('v1', 'too-large', () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `username=x&password=${'x'.repeat(OVER_BODY_LIMIT)}`,
      }),
    );
  });
});

describe('unicode', () => {
  /** The registration routes, each with the other fields of a valid body. */
  const REGISTRATIONS: [string, Family, Record<string, string>][] = [
    ['/api/v1/auth/register', 'v1', { password: 'password123' }],
    ['/new_user', 'seed000', { password: 'password123', email: 'unicode@example.com' }],
    ['/auth/register', 'seed004', { password: 'password123' }],
  ];
  const USERNAMES: [string, string][] = [
    ['Chinese', '用户名称'],
    ['Arabic (right to left)', 'مستخدم'],
    ['an emoji', 'trader🚀'],
    ['a zero-width space', 'ali\u200bce'],
    ['fullwidth letters', 'ａｌｉｃｅ'],
    ['a Cyrillic homoglyph', 'аlice'],
    ['a combining accent', 'jose\u0301'],
    ['a lone surrogate', 'ab\ud800c'],
    ['a right-to-left override', 'evil\u202egnp.exe'],
  ];
  const table = REGISTRATIONS.flatMap(([url, family, rest]) =>
    USERNAMES.map(([what, username]) => [url, what, family, { ...rest, username }] as const),
  );

  it.each(table)('%s refuses a username with %s', async (url, _what, family, payload) => {
    await expectRefusedAndUnchanged(family, 'invalid', () => t.app.inject({ method: 'POST', url, payload }));
  });

  it.each(USERNAMES)('PATCH /api/v1/users/me refuses a username with %s', async (_what, username) => {
    await expectRefusedAndUnchanged('v1', 'invalid', () =>
      t.app.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: bearer(alice.token),
        payload: { username },
      }),
    );
  });

  const LOGINS: [string, Family][] = [
    ['/api/v1/auth/login', 'v1'],
    ['/login', 'seed000'],
    ['/auth/login', 'seed004'],
  ];
  it.each(LOGINS)(
    '%s answers look-alikes of a username and unicode passwords as wrong credentials',
    async (url, family) => {
      const lookAlikes = [
        alice.username.replace('a', 'а'), // Cyrillic а
        alice.username.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
        `${alice.username}\u200b`,
        `\u202e${alice.username}`,
      ];
      const attempts = [
        ...lookAlikes.map((username) => ({ username, password: alice.password })),
        ...[`${alice.password}\u200b`, 'пароль-密码-🔑', '\ud800\udfff\ud800'].map((password) => ({
          username: alice.username,
          password,
        })),
      ];
      for (const [i, payload] of attempts.entries()) {
        const before = await snapshot();
        const res = await t.app.inject({ method: 'POST', url, payload, remoteAddress: `10.1.0.${i + 1}` });
        expect(res.statusCode, `${JSON.stringify(payload)}: ${res.body}`).toBe(401);
        if (family === 'v1') expectV1Error(res, 401, 'INVALID_CREDENTIALS');
        else if (family === 'seed000') expect(res.json()).toEqual({ detail: 'wrong username or password' });
        else expect(res.json()).toEqual({ error: expect.any(String) });
        expect(res.body).not.toContain(alice.password);
        expect(await snapshot()).toEqual(before);
      }
    },
  );

  it('a unicode password within 72 bytes works, and only that exact password', async () => {
    const username = fresh('unicode');
    const password = 'пароль-密码-🔑';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username, password },
    });
    expect(res.statusCode, res.body).toBe(201);
    const login = (p: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: p } });
    expect((await login(password)).statusCode).toBe(200);
    expect((await login('пароль-密码-🗝')).statusCode).toBe(401);
  });
});

describe('password bounds: at least 8 characters, at most 72 bytes of UTF-8', () => {
  /** [what, password, accepted] */
  const PASSWORDS: [string, string, boolean][] = [
    ['7 characters', 'abcdefg', false],
    ['8 characters', 'abcdefgh', true],
    ['72 bytes of 2-byte characters (36 × é)', 'é'.repeat(36), true],
    ['73 bytes of 2-byte characters and one ASCII', `${'é'.repeat(36)}a`, false],
    ['72 bytes of 4-byte characters (18 emoji)', '🔑'.repeat(18), true],
    ['73 bytes of 4-byte characters and one ASCII', `${'🔑'.repeat(18)}a`, false],
    ['73 bytes of ASCII', 'a'.repeat(73), false],
    ['73 bytes ending in a 3-byte character', `${'a'.repeat(70)}€`, false],
  ];
  const ROUTES_SETTING_PASSWORDS: [string, Family][] = [
    ['POST /api/v1/auth/register', 'v1'],
    ['POST /new_user (seed 000)', 'seed000'],
    ['POST /auth/register (seed 004)', 'seed004'],
    ['PUT /api/v1/users/me/password', 'v1'],
  ];
  const table = ROUTES_SETTING_PASSWORDS.flatMap(([route, family]) =>
    PASSWORDS.map(([what, password, accepted]) => [route, what, family, password, accepted] as const),
  );

  it.each(table)('%s with %s', async (route, _what, family, password, accepted) => {
    expect(Buffer.byteLength(password, 'utf8') <= 72 && password.length >= 8).toBe(accepted);
    const isChange = route.startsWith('PUT');
    // A refused change is alice's (the snapshot proves her hash unchanged); an accepted one a new user's.
    const owner = isChange ? (accepted ? await registerUser(t.app) : alice) : undefined;
    const username = owner?.username ?? fresh('bounds');
    const send = () =>
      owner
        ? t.app.inject({
            method: 'PUT',
            url: '/api/v1/users/me/password',
            headers: bearer(owner.token),
            payload: { current_password: owner.password, new_password: password },
          })
        : t.app.inject({
            method: 'POST',
            url: ROUTES[route]!.url,
            payload: { username, password, email: `${username}@example.com` },
          });
    const login = (p: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: p } });
    if (!accepted) {
      const res = await expectRefusedAndUnchanged(family, 'invalid', send, [password]);
      if (family === 'v1') expect(res.json().error.details.fields[0].field).toMatch(/password$/);
      return;
    }
    const res = await send();
    expect(res.statusCode, res.body).toBe(isChange ? 204 : route.includes('/new_user') ? 200 : 201);
    expect(res.body).not.toContain(password);
    expect((await login(password)).statusCode).toBe(200);
    // One character less is another password: nothing is cut or normalised.
    expect((await login(Array.from(password).slice(0, -1).join(''))).statusCode).toBe(401);
  });
});

describe('email', () => {
  const INVALID_EMAILS: [string, string][] = [
    ['no @', 'plainaddress'],
    ['nothing before the @', '@example.com'],
    ['nothing after the @', 'alice@'],
    ['a space', 'ali ce@example.com'],
    ['a leading space', ' alice@example.com'],
    ['two dots in a row in the domain', 'alice@example..com'],
    ['a line break (header injection)', 'alice@example.com\r\nBcc: x@example.com'],
    ['two @', 'alice@bob@example.com'],
    ['over 254 characters', `${'a'.repeat(64)}@${'b'.repeat(186)}.com`],
    ['a number', 42 as unknown as string],
  ];
  const REGISTRATIONS: [string, Family, string][] = [
    ['POST /api/v1/auth/register', 'v1', '/api/v1/auth/register'],
    ['POST /new_user (seed 000)', 'seed000', '/new_user'],
  ];
  const table = REGISTRATIONS.flatMap(([route, family, url]) =>
    INVALID_EMAILS.map(([what, email]) => [route, what, family, url, email] as const),
  );

  it.each(table)(
    '%s refuses an email with %s (422, naming the field)',
    async (_route, _what, family, url, email) => {
      const res = await expectRefusedAndUnchanged(family, 'invalid', () =>
        t.app.inject({
          method: 'POST',
          url,
          payload: { username: fresh('mail'), password: 'password123', email },
        }),
      );
      if (family === 'v1')
        expect(res.json().error.details.fields.map((f: { field: string }) => f.field)).toEqual([
          'body.email',
        ]);
      else expect(res.json().detail.map((d: { loc: string[] }) => d.loc)).toEqual([['body', 'email']]);
    },
  );

  it('is unique case-insensitively: 409 EMAIL_TAKEN (v1) and 409 {"detail"} (seed 000), creating nothing', async () => {
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: fresh('dana'), password: 'password123', email: 'Dana.Mixed@Example.COM' },
    });
    expect(first.statusCode).toBe(201);
    expect(first.json().user.email).toBe('Dana.Mixed@Example.COM');
    const taken = { status: 409, code: 'EMAIL_TAKEN' } as const;
    for (const email of ['dana.mixed@example.com', 'DANA.MIXED@EXAMPLE.COM', 'dana.MIXED@example.com']) {
      await expectRefusedAndUnchanged('v1', taken, () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: { username: fresh('dana'), password: 'password123', email },
        }),
      );
      const seed = await expectRefusedAndUnchanged('seed000', taken, () =>
        t.app.inject({
          method: 'POST',
          url: '/new_user',
          payload: { username: fresh('dana'), password: 'password123', email },
        }),
      );
      expect(seed.json().detail).not.toContain('Dana');
    }
  });
});

describe('extra fields', () => {
  it.each([
    ['POST /api/v1/auth/register', '/api/v1/auth/register', 201],
    ['POST /new_user (seed 000)', '/new_user', 200],
    ['POST /auth/register (seed 004)', '/auth/register', 201],
  ])(
    '%s ignores fields that try to choose the role, the id, the hash, the time or the balance',
    async (_route, url, status) => {
      const username = fresh('extra');
      const chosenId = randomUUID();
      const chosenHash = await bcrypt.hash('a password of my choosing', 4);
      const res = await t.app.inject({
        method: 'POST',
        url,
        payload: {
          username,
          password: 'password123',
          email: `${username}@example.com`,
          role: 'admin',
          is_admin: true,
          id: chosenId,
          user_id: chosenId,
          password_hash: chosenHash,
          passwordHash: chosenHash,
          created_at: '2000-01-01T00:00:00.000Z',
          deleted_at: '2000-01-01T00:00:00.000Z',
          balance: '1000000',
          initial_balance: '1000000',
        },
      });
      expect(res.statusCode, res.body).toBe(status);
      const login = (password: string) =>
        t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
      expect((await login('a password of my choosing')).statusCode).toBe(401);
      const session = await login('password123');
      expect(session.statusCode).toBe(200);
      const token = session.json<{ access_token: string }>().access_token;
      const me = (
        await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })
      ).json();
      expect(me.role).toBe('user');
      expect(me.id).not.toBe(chosenId);
      expect(me.created_at.startsWith('2000')).toBe(false);
      const wallets = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(token) });
      expect(wallets.json().items.map((w: { balance: string }) => w.balance)).toEqual(['10000']);
      const admin = await t.app.inject({
        method: 'GET',
        url: '/api/v1/admin/reconcile',
        headers: bearer(token),
      });
      expect(admin.statusCode).toBe(403);
    },
  );

  it('PUT /api/v1/users/me/password ignores a user_id: only the caller’s password changes', async () => {
    const caller = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/users/me/password',
      headers: bearer(caller.token),
      payload: { current_password: caller.password, new_password: NEW_PASSWORD, user_id: alice.userId },
    });
    expect(res.statusCode).toBe(204);
    const login = (username: string, password: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
    expect((await login(alice.username, alice.password)).statusCode).toBe(200);
    expect((await login(alice.username, NEW_PASSWORD)).statusCode).toBe(401);
    expect((await login(caller.username, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('POST /api/v1/auth/login ignores a role or user id sent with the credentials', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: alice.username, password: alice.password, role: 'admin', sub: randomUUID() },
    });
    expect(res.statusCode).toBe(200);
    const claims = decodeJwt(res.json<{ access_token: string }>().access_token);
    expect(claims).toMatchObject({ sub: alice.userId, role: 'user' });
  });
});

describe('GET /api/v1/users/{id}', () => {
  const IDS: [string, string, number][] = [
    ['a number', '0', 404],
    ['a UUID with a letter more', '00000000-0000-4000-8000-00000000000ax', 404],
    ['a NUL byte', '%00', 404],
    ['unicode', '%C3%A9%F0%9F%9A%80', 404],
    ['SQL', "'%20or%20'1'%3D'1", 404],
    ['a path traversal', '..%2F..%2Fetc%2Fpasswd', 404],
    ['a broken percent-encoding', '%E0%A4%A', 400],
    ['65 characters', 'x'.repeat(65), 422],
    ['300 characters (over the router’s limit)', 'x'.repeat(300), 414],
  ];

  it.each(IDS)('answers an id that is %s with %s in the v1 shape', async (_what, id, status) => {
    const res = await expectRefusedAndUnchanged('v1', { status }, () =>
      t.app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: bearer(alice.token) }),
    );
    expect(res.statusCode).toBe(status);
  });

  it('shows another user only the public profile, whatever the query asks for', async () => {
    const bob = await registerUser(t.app);
    await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: bearer(bob.token),
      payload: { email: `${bob.username}@example.com` },
    });
    for (const query of ['?include=email', '?fields=email,role', '?full=true', `?user_id=${alice.userId}`]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/users/${bob.userId}${query}`,
        headers: bearer(alice.token),
      });
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(['created_at', 'id', 'username']);
      expect(res.body).not.toContain('@example.com');
    }
  });
});
