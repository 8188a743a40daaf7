/**
 * Who may touch a wallet (SPEC C2, C3). Without a valid bearer token every wallet route answers
 * 401 and nothing moves or is created. Another user's wallet is answered on every route exactly like
 * a wallet that does not exist — 404 with the same body but for the id, so its existence does not
 * leak — and nothing of it moves, not even by a DEPOSIT (which, for an id nobody holds, would create
 * the wallet), whatever the id's letter case. Two users racing to create one new wallet id: one gets
 * it, the other a 404. Idempotency keys are scoped to their user, and a create body cannot choose a
 * wallet's id, owner, default flag or balance.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, getWallet, registerUser, TEST_JWT_SECRET, useTestApp } from '../../helpers/app.js';
import { expectV1Error, postOperation, walletSnapshot } from '../../helpers/wallets.js';

const t = useTestApp();
type User = Awaited<ReturnType<typeof registerUser>>;
let alice: User;
let bob: User;
/** Bob's second wallet, holding 300 USDT and 0.5 BTC: the target of Alice's attempts. */
let bobWallet: string;

beforeAll(async () => {
  [alice, bob] = await Promise.all([registerUser(t.app), registerUser(t.app)]);
  bobWallet = randomUUID();
  for (const [amount, asset] of [
    ['300', 'USDT'],
    ['0.5', 'BTC'],
  ])
    expect(
      (await postOperation(t.app, bob.token, bobWallet, { operation_type: 'DEPOSIT', amount, asset }))
        .statusCode,
    ).toBe(201);
});

/** Everything both users can see of their wallets. */
async function bothSnapshots() {
  return {
    bob: await walletSnapshot(t.app, bob.token, bobWallet),
    bobDefault: await walletSnapshot(t.app, bob.token, bob.walletId),
    alice: await walletSnapshot(t.app, alice.token, alice.walletId),
  };
}

async function walletRowCount(id: string): Promise<number> {
  const rows = await t.db.execute<{ n: string }>(sql`select count(*) as n from wallets where id = ${id}`);
  return Number(rows.rows[0]!.n);
}

describe('no valid token → 401 on every wallet route, nothing moves', () => {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const tokens: [string, () => Promise<Record<string, string>>][] = [
    ['no Authorization header', async () => ({})],
    ['a Basic scheme', async () => ({ authorization: 'Basic YWxpY2U6cGFzcw==' })],
    ['"Bearer" and no token', async () => ({ authorization: 'Bearer ' })],
    ['a garbage token', async () => bearer('not.a.jwt')],
    ['a 10 kB token', async () => bearer('x'.repeat(10 * 1024))],
    [
      'an expired token of the wallet’s owner',
      async () =>
        bearer(
          await new SignJWT({ role: 'user' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(bob.userId)
            .setIssuedAt(now - 7200)
            .setExpirationTime(now - 3600)
            .sign(key),
        ),
    ],
    [
      'the owner’s id signed with another key',
      async () =>
        bearer(
          await new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(bob.userId)
            .setExpirationTime(now + 600)
            .sign(new TextEncoder().encode('another-secret-of-sufficient-length-000000')),
        ),
    ],
    [
      'an unsigned (alg none) token for the owner',
      async () => {
        const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return bearer(
          `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: bob.userId, role: 'user', exp: now + 600 })}.`,
        );
      },
    ],
  ];

  it.each(tokens)('%s', async (_name, headersOf) => {
    const headers = await headersOf();
    const newId = randomUUID();
    const before = await bothSnapshots();
    const requests = [
      { method: 'GET' as const, url: '/api/v1/wallets' },
      { method: 'POST' as const, url: '/api/v1/wallets', payload: { name: 'intruder' } },
      { method: 'GET' as const, url: `/api/v1/wallets/${bobWallet}` },
      { method: 'GET' as const, url: `/api/v1/wallets/${bobWallet}/transactions` },
      {
        method: 'POST' as const,
        url: `/api/v1/wallets/${bobWallet}/operation`,
        payload: { operation_type: 'WITHDRAW', amount: '300' },
      },
      {
        method: 'POST' as const,
        url: `/api/v1/wallets/${bobWallet}/operation`,
        payload: { operation_type: 'DEPOSIT', amount: '1' },
      },
      {
        method: 'POST' as const,
        url: `/api/v1/wallets/${newId}/operation`,
        payload: { operation_type: 'DEPOSIT', amount: '1' },
      },
    ];
    for (const request of requests) {
      const res = await t.app.inject({
        ...request,
        headers: { ...headers, 'idempotency-key': `k-${newId}` },
      });
      expectV1Error(res, 401, 'UNAUTHORIZED');
    }
    expect(await bothSnapshots()).toEqual(before);
    expect(await walletRowCount(newId)).toBe(0);
  });
});

describe('another user’s wallet is answered like a missing one, on every route', () => {
  /** The body a missing wallet gets, with `id` where the missing id was. */
  function asIfMissing(body: string, missingId: string, id: string): string {
    return body.replaceAll(missingId, id);
  }

  it('GET /api/v1/wallets/{id} and its /transactions → 404, the same body as a missing id', async () => {
    const missing = randomUUID();
    for (const suffix of [
      '',
      '/transactions',
      '/transactions?limit=1',
      `/transactions?cursor=${Buffer.from('j:999999').toString('base64url')}`,
    ]) {
      const theirs = await t.app.inject({
        method: 'GET',
        url: `/api/v1/wallets/${bobWallet}${suffix}`,
        headers: bearer(alice.token),
      });
      const none = await t.app.inject({
        method: 'GET',
        url: `/api/v1/wallets/${missing}${suffix}`,
        headers: bearer(alice.token),
      });
      expectV1Error(theirs, 404, 'NOT_FOUND');
      expect(theirs.body).toBe(asIfMissing(none.body, missing, bobWallet));
      expect(theirs.body).not.toContain(bob.userId);
      expect(theirs.body).not.toContain('300');
    }
    // The owner still reads it.
    expect((await getWallet(t.app, bob.token, bobWallet)).balance).toBe('300');
  });

  it('the list shows only the caller’s own wallets', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(alice.token) });
    const ids = list.json().items.map((w: { id: string }) => w.id);
    expect(ids).not.toContain(bobWallet);
    expect(ids).not.toContain(bob.walletId);
  });

  const attempts: [string, Record<string, string>][] = [
    ['a WITHDRAW of USDT', { operation_type: 'WITHDRAW', amount: '1' }],
    ['a WITHDRAW of everything', { operation_type: 'WITHDRAW', amount: '300' }],
    ['a WITHDRAW of BTC', { operation_type: 'WITHDRAW', amount: '0.5', asset: 'BTC' }],
    ['a DEPOSIT (which would create a missing wallet)', { operation_type: 'DEPOSIT', amount: '1' }],
    ['a DEPOSIT of BTC', { operation_type: 'DEPOSIT', amount: '1', asset: 'BTC' }],
    ['a WITHDRAW beyond the balance', { operation_type: 'WITHDRAW', amount: '1000000' }],
  ];
  it.each(attempts)('POST operation: %s → 404, nothing of either user moves', async (_name, payload) => {
    const before = await bothSnapshots();
    for (const id of [bobWallet, bobWallet.toUpperCase(), bob.walletId]) {
      for (const headers of [{}, { 'idempotency-key': `try-${randomUUID()}` }] as Record<string, string>[]) {
        const res = await postOperation(t.app, alice.token, id, payload, headers);
        expectV1Error(res, 404, 'NOT_FOUND');
        expect(res.body).not.toContain(bob.userId);
      }
    }
    expect(await bothSnapshots()).toEqual(before);
    expect(await walletRowCount(bobWallet)).toBe(1);
  });

  it('the same attempts all at once change nothing either', async () => {
    const before = await bothSnapshots();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        postOperation(t.app, alice.token, bobWallet, attempts[i % attempts.length]![1]),
      ),
    );
    for (const res of answers) expectV1Error(res, 404, 'NOT_FOUND');
    expect(await bothSnapshots()).toEqual(before);
  });

  it('a key Alice used on Bob’s wallet does not touch Bob’s own use of that key', async () => {
    const key = `collide-${randomUUID()}`;
    const payload = { operation_type: 'DEPOSIT', amount: '5' };
    const hers = await postOperation(t.app, alice.token, bobWallet, payload, { 'idempotency-key': key });
    expectV1Error(hers, 404, 'NOT_FOUND');
    const his = await postOperation(t.app, bob.token, bobWallet, payload, { 'idempotency-key': key });
    expect(his.statusCode, his.body).toBe(201);
    expect(his.headers['idempotent-replayed']).toBeUndefined();
    // Alice's repeat still gets her own stored answer, never Bob's 201.
    const again = await postOperation(t.app, alice.token, bobWallet, payload, { 'idempotency-key': key });
    expect(again.statusCode).toBe(404);
    expect(again.body).toBe(hers.body);
    expect(
      (await postOperation(t.app, bob.token, bobWallet, { operation_type: 'WITHDRAW', amount: '5' }))
        .statusCode,
    ).toBe(201);
  });
});

describe('creating wallets', () => {
  it('two users racing to create one new wallet id: exactly one gets it, the other a 404', async () => {
    for (let round = 0; round < 10; round++) {
      const id = randomUUID();
      const before = {
        alice: (await walletSnapshot(t.app, alice.token, alice.walletId)).wallets,
        bob: (await walletSnapshot(t.app, bob.token, bob.walletId)).wallets,
      };
      const [a, b] = await Promise.all([
        postOperation(t.app, alice.token, id, { operation_type: 'DEPOSIT', amount: '7' }),
        postOperation(t.app, bob.token, id, { operation_type: 'DEPOSIT', amount: '11' }),
      ]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([201, 404]);
      const [winner, loser, amount] = a.statusCode === 201 ? [alice, bob, '7'] : [bob, alice, '11'];
      expect((await getWallet(t.app, winner.token, id)).balance).toBe(amount);
      const hidden = await t.app.inject({
        method: 'GET',
        url: `/api/v1/wallets/${id}`,
        headers: bearer(loser.token),
      });
      expect(hidden.statusCode).toBe(404);
      const loserWallets = (await walletSnapshot(t.app, loser.token, loser.walletId)).wallets;
      expect(loserWallets).toEqual(loser === alice ? before.alice : before.bob);
      expect(await walletRowCount(id)).toBe(1);
    }
  });

  it('a create body cannot choose the id, the owner, the default flag or the balance', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallets',
      headers: bearer(alice.token),
      payload: { name: 'Mine', id: bobWallet, user_id: bob.userId, is_default: true, balance: '1000000' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const wallet = res.json();
    expect(wallet.id).not.toBe(bobWallet);
    expect(wallet).toMatchObject({ name: 'Mine', is_default: false, balance: '0' });
    // Bob's wallet is still Bob's, and Alice's default is still her first one.
    expect((await getWallet(t.app, bob.token, bobWallet)).balance).toBe('300');
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(alice.token) });
    const defaults = list.json().items.filter((w: { is_default: boolean }) => w.is_default);
    expect(defaults.map((w: { id: string }) => w.id)).toEqual([alice.walletId]);
  });
});
