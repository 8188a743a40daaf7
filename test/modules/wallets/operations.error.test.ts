/**
 * Bad input on every field of every wallet route: missing fields, wrong types, empty and 10 kB
 * strings, unicode and NUL bytes, arrays and scalars instead of objects, wrong content types,
 * amounts that are zero, negative, not numbers, in exponent form, too precise, overflowing or
 * ambiguous as JSON numbers, malformed wallet ids, page limits and cursors, and idempotency keys.
 * Each answers a 4xx in the one v1 error shape (SPEC §3), and nothing changes: the wallet, the list
 * of wallets and the whole history read before and after the request are equal (SPEC §5 rule 6).
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';
import { expectV1Error, getHistoryPage, postOperation, walletSnapshot } from '../../helpers/wallets.js';

const t = useTestApp();
let user: Awaited<ReturnType<typeof registerUser>>;
/** A wallet holding 500 USDT and 1 BTC, the target of every refused operation. */
let walletId: string;
const TEN_KB = 10 * 1024;

beforeAll(async () => {
  user = await registerUser(t.app);
  walletId = randomUUID();
  for (const [amount, asset] of [
    ['500', 'USDT'],
    ['1', 'BTC'],
  ])
    expect(
      (await postOperation(t.app, user.token, walletId, { operation_type: 'DEPOSIT', amount, asset }))
        .statusCode,
    ).toBe(201);
});

/**
 * Sends a request that must be refused with `status` (and `code`), and checks that the wallet, the
 * caller's wallet list and the wallet's history are exactly as they were.
 */
async function expectRefusedAndUnchanged(
  send: () => Promise<LightMyRequestResponse>,
  status: number | number[],
  code?: string,
): Promise<LightMyRequestResponse> {
  const before = await walletSnapshot(t.app, user.token, walletId);
  const res = await send();
  expectV1Error(res, status, code);
  expect(await walletSnapshot(t.app, user.token, walletId)).toEqual(before);
  return res;
}

/** A JSON body with `field` set to the raw JSON text `json`, the other fields valid. */
function bodyWith(field: 'operation_type' | 'amount' | 'asset', json: string): string {
  const fields: Record<string, string> = { operation_type: '"DEPOSIT"', amount: '"1"', [field]: json };
  return `{${Object.entries(fields)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;
}

/** A field left out of the JSON body. */
function bodyWithout(field: 'operation_type' | 'amount'): string {
  return field === 'amount' ? '{"operation_type":"DEPOSIT"}' : '{"amount":"1"}';
}

describe('POST /api/v1/wallets/{wallet_id}/operation — the body', () => {
  const operationTypes: [string, string][] = [
    ['lower case', '"deposit"'],
    ['mixed case', '"Withdraw"'],
    ['another operation', '"TRANSFER"'],
    ['empty', '""'],
    ['padded', '" DEPOSIT"'],
    ['a NUL byte', '"DEPOSIT\\u0000"'],
    ['unicode look-alike', '"DEPОSIT"'],
    ['accented', '"DÉPOSIT"'],
    ['10 kB', JSON.stringify('D'.repeat(TEN_KB))],
    ['a number', '1'],
    ['null', 'null'],
    ['a boolean', 'true'],
    ['an array', '["DEPOSIT"]'],
    ['an object', '{"type":"DEPOSIT"}'],
  ];
  it.each(operationTypes)('operation_type %s → 422', async (_name, json) => {
    const res = await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, bodyWith('operation_type', json)),
      422,
      'VALIDATION_ERROR',
    );
    expect(res.json().error.details.fields).toEqual([
      { field: 'body.operation_type', message: expect.any(String) },
    ]);
  });

  const amounts: [string, string][] = [
    ['zero', '0'],
    ['zero as a string', '"0"'],
    ['zero with decimals', '"0.00000000"'],
    ['minus zero', '-0'],
    ['negative', '-1'],
    ['negative as a string', '"-0.5"'],
    ['nine decimals', '"0.000000001"'],
    ['nine decimals as a JSON number', '1.123456789'],
    ['"NaN"', '"NaN"'],
    ['"Infinity"', '"Infinity"'],
    ['"-Infinity"', '"-Infinity"'],
    ['"1e5" (exponent in a string)', '"1e5"'],
    ['"1E5"', '"1E5"'],
    ['"1e-5"', '"1e-5"'],
    ['hexadecimal', '"0x10"'],
    ['binary', '"0b1"'],
    ['a thousands separator', '"1,000"'],
    ['an underscore separator', '"1_000"'],
    ['a space separator', '"1 000"'],
    ['a plus sign', '"+5"'],
    ['no integer digit', '".5"'],
    ['a trailing point', '"5."'],
    ['Arabic-Indic digits', '"١٠٠"'],
    ['full-width digits', '"１００"'],
    ['a NUL byte after the digits', '"100\\u0000"'],
    ['only a NUL byte', '"\\u0000"'],
    ['letters', '"abc"'],
    ['empty', '""'],
    ['blank', '" "'],
    ['10 kB of digits', `"${'1'.repeat(TEN_KB)}"`],
    ['31 integer digits (beyond NUMERIC(38,8))', `"1${'0'.repeat(30)}"`],
    ['"1e40" (overflowing, as a string)', '"1e40"'],
    ['1e40 (overflowing, as a JSON number)', '1e40'],
    ['1e400 (beyond a double)', '1e400'],
    ['a JSON number with 16 significant digits', '1234567890123456'],
    ['a JSON number with 17 significant digits', '0.10000000000000001'],
    ['a JSON number with 18 significant digits', '123456789.123456789'],
    ['true', 'true'],
    ['false', 'false'],
    ['null', 'null'],
    ['an empty array', '[]'],
    ['an array of the amount', '[1]'],
    ['an object', '{"value":"1"}'],
  ];
  it.each(amounts)('amount %s → 422', async (_name, json) => {
    const res = await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, bodyWith('amount', json)),
      422,
      'VALIDATION_ERROR',
    );
    // A number too precise to be a double is refused by the JSON parser, before the fields are read.
    const details = res.json().error.details;
    if (!('number' in details))
      expect(details.fields).toEqual([{ field: 'body.amount', message: expect.any(String) }]);
  });

  it.each(amounts)('a WITHDRAW with amount %s → 422 too', async (_name, json) => {
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, `{"operation_type":"WITHDRAW","amount":${json}}`),
      422,
      'VALIDATION_ERROR',
    );
  });

  const assets: [string, string, string][] = [
    ['an asset no market quotes', '"ETH"', 'UNKNOWN_ASSET'],
    ['another unknown asset', '"DOGE"', 'UNKNOWN_ASSET'],
    ['a symbol instead of an asset', '"BTCUSDT"', 'UNKNOWN_ASSET'],
    ['empty', '""', 'VALIDATION_ERROR'],
    ['one letter', '"B"', 'VALIDATION_ERROR'],
    ['21 letters', `"${'B'.repeat(21)}"`, 'VALIDATION_ERROR'],
    ['10 kB', `"${'B'.repeat(TEN_KB)}"`, 'VALIDATION_ERROR'],
    ['a space', '"US DT"', 'VALIDATION_ERROR'],
    ['a dash', '"US-DT"', 'VALIDATION_ERROR'],
    ['a NUL byte', '"USDT\\u0000"', 'VALIDATION_ERROR'],
    ['unicode letters', '"ÜSDT"', 'VALIDATION_ERROR'],
    ['an emoji', '"🚀🚀"', 'VALIDATION_ERROR'],
    ['a number', '5', 'VALIDATION_ERROR'],
    ['null', 'null', 'VALIDATION_ERROR'],
    ['a boolean', 'false', 'VALIDATION_ERROR'],
    ['an array', '["USDT"]', 'VALIDATION_ERROR'],
    ['an object', '{"code":"USDT"}', 'VALIDATION_ERROR'],
  ];
  it.each(assets)('asset %s → 422 %s', async (_name, json, code) => {
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, bodyWith('asset', json)),
      422,
      code,
    );
  });

  it.each(['operation_type', 'amount'] as const)('a body without %s → 422 naming it', async (field) => {
    const res = await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, bodyWithout(field)),
      422,
      'VALIDATION_ERROR',
    );
    expect(res.json().error.details.fields).toEqual([
      { field: `body.${field}`, message: expect.any(String) },
    ]);
  });

  const bodies: [string, string, number, string][] = [
    ['an empty object', '{}', 422, 'VALIDATION_ERROR'],
    ['an empty array', '[]', 422, 'VALIDATION_ERROR'],
    [
      'an array holding the operation',
      '[{"operation_type":"DEPOSIT","amount":"1"}]',
      422,
      'VALIDATION_ERROR',
    ],
    ['null', 'null', 422, 'VALIDATION_ERROR'],
    ['a string', '"DEPOSIT"', 422, 'VALIDATION_ERROR'],
    ['a number', '42', 422, 'VALIDATION_ERROR'],
    ['a boolean', 'true', 422, 'VALIDATION_ERROR'],
    ['truncated JSON', '{"operation_type":"DEPOSIT","amount":', 400, 'MALFORMED_JSON'],
    ['an empty body (no body)', '', 422, 'VALIDATION_ERROR'],
    ['NaN as a JSON literal', '{"operation_type":"DEPOSIT","amount":NaN}', 400, 'MALFORMED_JSON'],
    ['single quotes', "{'operation_type':'DEPOSIT','amount':'1'}", 400, 'MALFORMED_JSON'],
    ['a trailing comma', '{"operation_type":"DEPOSIT","amount":"1",}', 400, 'MALFORMED_JSON'],
    [
      'a __proto__ key',
      '{"operation_type":"DEPOSIT","amount":"1","__proto__":{"admin":true}}',
      400,
      'FORBIDDEN_JSON_KEY',
    ],
    [
      'a constructor.prototype key',
      '{"operation_type":"DEPOSIT","amount":"1","constructor":{"prototype":{"admin":true}}}',
      400,
      'FORBIDDEN_JSON_KEY',
    ],
    ['a bare NUL byte', '\u0000', 400, 'MALFORMED_JSON'],
  ];
  it.each(bodies)('a body that is %s → %i %s', async (_name, body, status, code) => {
    await expectRefusedAndUnchanged(() => postOperation(t.app, user.token, walletId, body), status, code);
  });

  it('a body over 64 kB → 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ operation_type: 'DEPOSIT', amount: '1', padding: 'x'.repeat(70 * 1024) });
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, body),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  const contentTypes: [string, Record<string, string>, string, number, string][] = [
    [
      'text/plain',
      { 'content-type': 'text/plain' },
      '{"operation_type":"DEPOSIT","amount":"1"}',
      422,
      'VALIDATION_ERROR',
    ],
    [
      'application/xml',
      { 'content-type': 'application/xml' },
      '<operation type="DEPOSIT" amount="1"/>',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'multipart/form-data',
      { 'content-type': 'multipart/form-data; boundary=x' },
      '--x\r\n\r\n--x--',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['an unknown type', { 'content-type': 'application/x-paperbroker' }, '{}', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a form with a bad amount',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'operation_type=DEPOSIT&amount=1e5',
      422,
      'VALIDATION_ERROR',
    ],
    [
      'a form with a bad operation type',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'operation_type=deposit&amount=1',
      422,
      'VALIDATION_ERROR',
    ],
  ];
  it.each(contentTypes)('a %s body → %i %s', async (_name, headers, body, status, code) => {
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, body, headers),
      status,
      code,
    );
  });

  it('a body with no content type → 415', async () => {
    await expectRefusedAndUnchanged(
      () =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/wallets/${walletId}/operation`,
          headers: bearer(user.token),
          payload: Buffer.from('{"operation_type":"DEPOSIT","amount":"1"}'),
        }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('today: a well-formed form body is accepted like JSON (the OAuth2 form parser is app-wide)', async () => {
    // Recorded as the API behaves now; bearer-token auth means a cross-site form cannot use it.
    const res = await postOperation(t.app, user.token, walletId, 'operation_type=DEPOSIT&amount=0.5', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ wallet_id: walletId, amount: '0.5', asset: 'USDT' });
    const back = await postOperation(t.app, user.token, walletId, {
      operation_type: 'WITHDRAW',
      amount: '0.5',
    });
    expect(back.statusCode).toBe(201);
  });

  it('extra fields are ignored: a body cannot choose the wallet, the user, the id or the time', async () => {
    const other = randomUUID();
    const before = await walletSnapshot(t.app, user.token, walletId);
    const res = await postOperation(t.app, user.token, walletId, {
      operation_type: 'DEPOSIT',
      amount: '2',
      wallet_id: other,
      user_id: randomUUID(),
      id: 1,
      created_at: '2000-01-01T00:00:00.000Z',
      balance: '1000000',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ wallet_id: walletId, amount: '2' });
    expect(body.id).not.toBe(1);
    expect(body.created_at).not.toBe('2000-01-01T00:00:00.000Z');
    const after = await walletSnapshot(t.app, user.token, walletId);
    expect(after.wallets.map((w) => w.id)).toEqual(before.wallets.map((w) => w.id));
    expect(after.history).toHaveLength(before.history.length + 1);
    expect(
      (await postOperation(t.app, user.token, walletId, { operation_type: 'WITHDRAW', amount: '2' }))
        .statusCode,
    ).toBe(201);
  });
});

describe('POST /api/v1/wallets/{wallet_id}/operation — the wallet id and the idempotency key', () => {
  const walletIds: [string, string][] = [
    ['not a UUID', 'not-a-uuid'],
    ['digits', '12345'],
    ['a UUID without dashes', randomUUID().replaceAll('-', '')],
    ['a UUID with one character more', `${randomUUID()}0`],
    ['a UUID with one character less', randomUUID().slice(0, -1)],
    ['a UUID of no RFC version', '12345678-1234-0234-8234-123456789012'],
    ['braces around a UUID', `{${randomUUID()}}`],
    ['64 characters', 'x'.repeat(64)],
    ['a NUL byte', '%00'],
    ['a UUID followed by a NUL byte', `${randomUUID()}%00`],
    ['unicode', '%E2%82%AC'],
    ['a space', '%20'],
    ['"null"', 'null'],
    ['"undefined"', 'undefined'],
  ];
  it.each(walletIds)('a wallet id that is %s → 422', async (_name, id) => {
    const res = await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, id, { operation_type: 'DEPOSIT', amount: '1' }),
      422,
      'VALIDATION_ERROR',
    );
    expect(res.json().error.details.fields).toEqual([
      { field: 'params.wallet_id', message: expect.any(String) },
    ]);
  });

  it('a 10 kB wallet id → 422 (or 414) in the v1 error shape', async () => {
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, 'x'.repeat(TEN_KB), { operation_type: 'DEPOSIT', amount: '1' }),
      [414, 422],
    );
  });

  it('a wallet id with a broken percent-escape → 4xx in the v1 error shape, on every route', async () => {
    for (const [method, url] of [
      ['POST', '/api/v1/wallets/%ZZ/operation'],
      ['GET', '/api/v1/wallets/%ZZ'],
      ['GET', '/api/v1/wallets/%ZZ/transactions'],
    ] as const) {
      await expectRefusedAndUnchanged(
        () =>
          t.app.inject({
            method,
            url,
            headers: { ...bearer(user.token), 'content-type': 'application/json' },
            ...(method === 'POST' ? { payload: '{"operation_type":"DEPOSIT","amount":"1"}' } : {}),
          }),
        [400, 404, 422],
      );
    }
  });

  it('a WITHDRAW from a well-formed wallet id that does not exist → 404', async () => {
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, randomUUID(), { operation_type: 'WITHDRAW', amount: '1' }),
      404,
      'NOT_FOUND',
    );
  });

  it('a WITHDRAW beyond the balance → 400 INSUFFICIENT_FUNDS, in each asset', async () => {
    for (const [amount, asset, available] of [
      ['500.00000001', 'USDT', '500'],
      ['1.00000001', 'BTC', '1'],
    ]) {
      const res = await expectRefusedAndUnchanged(
        () => postOperation(t.app, user.token, walletId, { operation_type: 'WITHDRAW', amount, asset }),
        400,
        'INSUFFICIENT_FUNDS',
      );
      expect(res.json().error.details).toEqual({ asset, available, required: amount });
    }
  });

  it('a DEPOSIT that would take the balance beyond NUMERIC(38,8) → 422, nothing moves', async () => {
    const max = `${'9'.repeat(30)}.99999999`;
    await expectRefusedAndUnchanged(
      () => postOperation(t.app, user.token, walletId, { operation_type: 'DEPOSIT', amount: max }),
      422,
    );
  });

  const keys: [string, string | string[]][] = [
    ['empty', ''],
    ['a space inside', 'a b'],
    ['only a space', ' '],
    ['a tab', 'a\tb'],
    ['256 characters', 'k'.repeat(256)],
    ['10 kB', 'k'.repeat(TEN_KB)],
    ['a Latin-1 letter', 'clé'],
    ['two values', ['key-1', 'key-2']],
  ];
  it.each(keys)(
    'an Idempotency-Key that is %s → 422, nothing moves and nothing is stored',
    async (_name, key) => {
      const res = await expectRefusedAndUnchanged(
        () =>
          t.app.inject({
            method: 'POST',
            url: `/api/v1/wallets/${walletId}/operation`,
            headers: { ...bearer(user.token), 'content-type': 'application/json', 'idempotency-key': key },
            payload: { operation_type: 'DEPOSIT', amount: '1' },
          }),
        422,
        'VALIDATION_ERROR',
      );
      expect(res.json().error.details.fields).toEqual([
        { field: 'headers.idempotency-key', message: expect.any(String) },
      ]);
    },
  );

  it('a key of 255 visible characters is accepted, and a refused request stores no answer under its key', async () => {
    const key = `~${'k'.repeat(253)}!`;
    await expectRefusedAndUnchanged(
      () =>
        postOperation(
          t.app,
          user.token,
          walletId,
          { operation_type: 'DEPOSIT', amount: '-1' },
          { 'idempotency-key': key },
        ),
      422,
    );
    const res = await postOperation(
      t.app,
      user.token,
      walletId,
      { operation_type: 'DEPOSIT', amount: '3' },
      { 'idempotency-key': key },
    );
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    const back = await postOperation(t.app, user.token, walletId, {
      operation_type: 'WITHDRAW',
      amount: '3',
    });
    expect(back.statusCode).toBe(201);
  });
});

describe('POST /api/v1/wallets — the body', () => {
  const names: [string, string, number, string][] = [
    ['an empty object', '{}', 422, 'VALIDATION_ERROR'],
    ['an empty name', '{"name":""}', 422, 'VALIDATION_ERROR'],
    ['a blank name', '{"name":"   "}', 422, 'VALIDATION_ERROR'],
    ['a name of 65 characters', JSON.stringify({ name: 'n'.repeat(65) }), 422, 'VALIDATION_ERROR'],
    ['a name of 10 kB', JSON.stringify({ name: 'n'.repeat(TEN_KB) }), 422, 'VALIDATION_ERROR'],
    ['a number', '{"name":5}', 422, 'VALIDATION_ERROR'],
    ['null', '{"name":null}', 422, 'VALIDATION_ERROR'],
    ['a boolean', '{"name":true}', 422, 'VALIDATION_ERROR'],
    ['an array', '{"name":["Main"]}', 422, 'VALIDATION_ERROR'],
    ['an object', '{"name":{"first":"Main"}}', 422, 'VALIDATION_ERROR'],
    ['a bare array', '[]', 422, 'VALIDATION_ERROR'],
    ['a bare string', '"Main"', 422, 'VALIDATION_ERROR'],
    ['null body', 'null', 422, 'VALIDATION_ERROR'],
    ['truncated JSON', '{"name":', 400, 'MALFORMED_JSON'],
    ['an empty body (no body)', '', 422, 'VALIDATION_ERROR'],
  ];
  it.each(names)('%s → %i', async (_name, body, status, code) => {
    await expectRefusedAndUnchanged(
      () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/wallets',
          headers: { ...bearer(user.token), 'content-type': 'application/json' },
          payload: body,
        }),
      status,
      code,
    );
  });

  it('a name with a NUL byte → 422 (PostgreSQL text cannot hold it)', async () => {
    await expectRefusedAndUnchanged(
      () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/wallets',
          headers: { ...bearer(user.token), 'content-type': 'application/json' },
          payload: '{"name":"Main\\u0000Street"}',
        }),
      422,
    );
  });

  it('an XML body → 415', async () => {
    await expectRefusedAndUnchanged(
      () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/wallets',
          headers: { ...bearer(user.token), 'content-type': 'application/xml' },
          payload: '<wallet name="x"/>',
        }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('the 101st wallet → 409 WALLET_LIMIT_REACHED, by POST and by a DEPOSIT to a new id alike', async () => {
    const owner = await registerUser(t.app);
    for (let i = 2; i <= 100; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallets',
        headers: bearer(owner.token),
        payload: { name: `W${i}` },
      });
      expect(res.statusCode).toBe(201);
    }
    const list = () => t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(owner.token) });
    expect((await list()).json().items).toHaveLength(100);
    const tooMany = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallets',
      headers: bearer(owner.token),
      payload: { name: 'one more' },
    });
    expectV1Error(tooMany, 409, 'WALLET_LIMIT_REACHED');
    const id = randomUUID();
    const deposit = await postOperation(t.app, owner.token, id, { operation_type: 'DEPOSIT', amount: '1' });
    expectV1Error(deposit, 409, 'WALLET_LIMIT_REACHED');
    expect((await list()).json().items).toHaveLength(100);
    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${id}`,
      headers: bearer(owner.token),
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe('GET /api/v1/wallets/{wallet_id} and /transactions — the id and the page', () => {
  const badIds: [string, string][] = [
    ['not a UUID', 'xyz'],
    ['a UUID without dashes', randomUUID().replaceAll('-', '')],
    ['a NUL byte', '%00'],
    ['unicode', '%E2%82%AC'],
    ['64 characters', 'x'.repeat(64)],
    ['65 characters', 'x'.repeat(65)],
    ['a well-formed UUID nobody holds', randomUUID()],
    ['10 kB', 'x'.repeat(TEN_KB)],
  ];
  it.each(badIds)(
    'a wallet id that is %s → 404 (422 or 414 when long) in the v1 shape',
    async (_name, id) => {
      for (const url of [`/api/v1/wallets/${id}`, `/api/v1/wallets/${id}/transactions`]) {
        const res = await expectRefusedAndUnchanged(
          () => t.app.inject({ method: 'GET', url, headers: bearer(user.token) }),
          // SPEC §3: a GET may answer a malformed id 404 (like any id not the caller's) or 422.
          [404, 414, 422],
        );
        if (id.length <= 64) expect(res.statusCode, url).toBe(404);
      }
    },
  );

  const queries: [string, string][] = [
    ['limit=0', 'limit=0'],
    ['limit=101', 'limit=101'],
    ['limit=-1', 'limit=-1'],
    ['limit=1.5', 'limit=1.5'],
    ['limit=abc', 'limit=abc'],
    ['limit=10abc', 'limit=10abc'],
    ['an empty limit', 'limit='],
    ['two limits', 'limit=1&limit=2'],
    ['a 10 kB limit', `limit=${'9'.repeat(TEN_KB)}`],
    ['limit=%00', 'limit=%00'],
    ['a cursor this server never issued', 'cursor=zzz'],
    ['an empty cursor', 'cursor='],
    ['another list’s cursor', `cursor=${Buffer.from('o:5').toString('base64url')}`],
    ['a cursor at id 0', `cursor=${Buffer.from('j:0').toString('base64url')}`],
    ['a cursor at a negative id', `cursor=${Buffer.from('j:-1').toString('base64url')}`],
    ['a cursor at a fractional id', `cursor=${Buffer.from('j:1.5').toString('base64url')}`],
    ['a cursor beyond a safe integer', `cursor=${Buffer.from(`j:${'9'.repeat(16)}`).toString('base64url')}`],
    ['a cursor with a NUL byte', `cursor=${Buffer.from('j:5\u0000').toString('base64url')}`],
    ['a 10 kB cursor', `cursor=${'x'.repeat(TEN_KB)}`],
    ['two cursors', 'cursor=a&cursor=b'],
  ];
  it.each(queries)('%s → 422', async (_name, query) => {
    await expectRefusedAndUnchanged(
      () => getHistoryPage(t.app, user.token, walletId, query),
      422,
      'VALIDATION_ERROR',
    );
  });

  it('unknown query parameters are ignored', async () => {
    const res = await getHistoryPage(t.app, user.token, walletId, 'limit=1&sort=asc&user_id=someone');
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toHaveLength(1);
  });
});
