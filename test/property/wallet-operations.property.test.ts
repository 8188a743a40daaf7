/**
 * Seed 003's operations through the HTTP API against an in-memory model, on a real database:
 * - concurrent: random deposits and withdrawals (USDT and BTC) on 2–3 wallets of 1–2 users, sent in
 *   small batches whose requests all run at once (Promise.all). The order inside a batch is unknown,
 *   so the model checks what is true whatever the order: every answer is a 201, a 400
 *   INSUFFICIENT_FUNDS (withdrawals only, decided on a balance smaller than the amount) or — for a
 *   wallet that is not the caller's — a 404; a withdrawal that fits even if every other withdrawal of
 *   its batch went first is never refused, and one larger than the balance could ever be during the
 *   batch is never accepted; each balance equals the start plus the accepted deposits minus the
 *   accepted withdrawals and is never negative; the history holds exactly the accepted operations,
 *   each once; reconcile is clean;
 * - sequential: one request at a time, with idempotency keys reused at random, the model predicts
 *   every answer exactly — status, body, error details, replays byte for byte — and every
 *   balance_after in the history.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/shared/decimal.js';
import { expectLedgerSound, getWallet, registerUser, useTestApp } from '../helpers/app.js';
import {
  createWallet,
  type OperationBody,
  postOperation,
  readHistory,
  walletEntry,
} from '../helpers/wallets.js';

const t = useTestApp();
const ASSETS = ['USDT', 'BTC'] as const;
type Asset = (typeof ASSETS)[number];
type OperationType = 'DEPOSIT' | 'WITHDRAW';

/** 0.00000001 … 60 with 0–8 decimals, so both acceptances and refusals happen around 100. */
const amount = fc
  .tuple(fc.integer({ min: 1, max: 6_000_000_000 }), fc.integer({ min: 0, max: 8 }))
  .map(([n, cut]) => new Decimal(n).div(100_000_000).toDecimalPlaces(cut, Decimal.ROUND_DOWN))
  .filter((a) => a.gt(0));

/** How an amount goes on the wire: a decimal string, or a JSON number (it has ≤ 15 digits here). */
const wire = fc.constantFrom('string', 'number');

function encode(value: Decimal, form: string): string | number {
  return form === 'number' ? Number(value.toFixed()) : value.toFixed();
}

const operation = fc.record({
  wallet: fc.integer({ min: 0, max: 2 }),
  type: fc.constantFrom<OperationType>('DEPOSIT', 'WITHDRAW'),
  asset: fc.constantFrom<Asset>(...ASSETS),
  amount,
  form: wire,
  /** sent by the other user (when there are two): must be answered 404 and move nothing */
  foreign: fc.boolean(),
});

type Balances = Record<Asset, Decimal>;
const zero = (): Balances => ({ USDT: new Decimal(0), BTC: new Decimal(0) });

describe('wallet operations against a model', () => {
  it('concurrent batches: balances, refusals and history are what the accepted operations make', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 2, max: 3 }),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        async (userCount, walletCount, batches) => {
          const users = await Promise.all(Array.from({ length: userCount }, () => registerUser(t.app)));
          // Wallet i belongs to user i mod userCount and starts empty.
          const owners = Array.from({ length: walletCount }, (_, i) => users[i % userCount]!);
          const wallets = await Promise.all(owners.map((owner) => createWallet(t.app, owner.token)));
          const model = wallets.map(zero);
          const acceptedIds = wallets.map(() => new Set<number>());

          for (const batch of batches) {
            const ops = batch.map((op) => ({ ...op, wallet: op.wallet % walletCount }));
            const startOfBatch = model.map((b) => ({ ...b }));
            const answers = await Promise.all(
              ops.map((op) => {
                const owner = owners[op.wallet]!;
                const caller = op.foreign && userCount === 2 ? users.find((u) => u !== owner)! : owner;
                return postOperation(t.app, caller.token, wallets[op.wallet]!.id, {
                  operation_type: op.type,
                  amount: encode(op.amount, op.form),
                  asset: op.asset,
                });
              }),
            );
            answers.forEach((res, i) => {
              const op = ops[i]!;
              const foreign = op.foreign && userCount === 2;
              const same = (o: (typeof ops)[number]) => o.wallet === op.wallet && o.asset === op.asset;
              const others = ops.filter((o, j) => j !== i && same(o) && !(o.foreign && userCount === 2));
              const sum = (list: typeof ops) => list.reduce((s, o) => s.plus(o.amount), new Decimal(0));
              const start = startOfBatch[op.wallet]![op.asset];
              if (foreign) {
                expect(res.statusCode, res.body).toBe(404);
                expect(res.json().error.code).toBe('NOT_FOUND');
                return;
              }
              if (op.type === 'WITHDRAW') {
                // The balance during the batch lies between these two bounds, whatever the order.
                const lowest = start.minus(sum(others.filter((o) => o.type === 'WITHDRAW')));
                const highest = start.plus(sum(others.filter((o) => o.type === 'DEPOSIT')));
                if (op.amount.lte(lowest)) expect(res.statusCode, res.body).toBe(201);
                if (op.amount.gt(highest)) expect(res.statusCode, res.body).toBe(400);
              }
              if (res.statusCode === 400) {
                expect(op.type).toBe('WITHDRAW');
                const error = res.json().error;
                expect(error.code).toBe('INSUFFICIENT_FUNDS');
                expect(error.details.asset).toBe(op.asset);
                expect(error.details.required).toBe(op.amount.toFixed());
                expect(new Decimal(error.details.available).lt(op.amount)).toBe(true);
                return;
              }
              expect(res.statusCode, res.body).toBe(201);
              const body = res.json<OperationBody>();
              expect(body).toMatchObject({
                wallet_id: wallets[op.wallet]!.id,
                operation_type: op.type,
                asset: op.asset,
                amount: op.amount.toFixed(),
              });
              acceptedIds[op.wallet]!.add(body.id);
              const balances = model[op.wallet]!;
              balances[op.asset] =
                op.type === 'DEPOSIT'
                  ? balances[op.asset].plus(op.amount)
                  : balances[op.asset].minus(op.amount);
            });
            for (const [w, wallet] of wallets.entries()) {
              for (const asset of ASSETS) expect(model[w]![asset].isNegative()).toBe(false);
              const actual = await getWallet(t.app, owners[w]!.token, wallet.id);
              const available = Object.fromEntries(actual.balances.map((b) => [b.asset, b.available]));
              expect(available.USDT).toBe(model[w]!.USDT.toFixed());
              expect(available.BTC ?? '0').toBe(model[w]!.BTC.toFixed());
            }
          }

          for (const [w, wallet] of wallets.entries()) {
            const history = await readHistory(t.app, owners[w]!.token, wallet.id);
            expect(history.map((j) => j.id).sort((a, b) => a - b)).toEqual(
              [...acceptedIds[w]!].sort((a, b) => a - b),
            );
            // Per asset, each entry continues the balance the one before it left.
            const running = zero();
            for (const journal of [...history].reverse()) {
              const entry = walletEntry(journal, wallet.id);
              const asset = entry.asset as Asset;
              running[asset] = running[asset].plus(entry.amount);
              expect(entry.balance_after).toBe(running[asset].toFixed());
            }
            for (const asset of ASSETS) expect(running[asset].toFixed()).toBe(model[w]![asset].toFixed());
          }
          await expectLedgerSound(t.db);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('sequential: the model predicts every answer, every replay and every balance_after exactly', async () => {
    const step = fc.oneof(
      // A new request; half of them carry a fresh idempotency key (`foreign` is reused as the coin).
      { weight: 4, arbitrary: operation.map((op) => ({ kind: 'new' as const, ...op, keyed: op.foreign })) },
      // Repeat an earlier keyed request (n picks which): the same body → its stored answer.
      { weight: 1, arbitrary: fc.nat().map((n) => ({ kind: 'repeat' as const, n })) },
      // Reuse an earlier key with another amount → 409 IDEMPOTENCY_KEY_REUSED.
      {
        weight: 1,
        arbitrary: fc.tuple(fc.nat(), amount).map(([n, other]) => ({ kind: 'reuse' as const, n, other })),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const user = await registerUser(t.app);
        // Two fresh wallets: one created by POST, one by a first DEPOSIT to a new id (or not at all).
        const wallets = [(await createWallet(t.app, user.token)).id, randomUUID()];
        let secondExists = false;
        const model = wallets.map(zero);
        const keyed: {
          key: string;
          wallet: number;
          payload: Record<string, unknown>;
          status: number;
          body: string;
        }[] = [];
        const afterOf = new Map<number, { wallet: number; asset: Asset; balance: string }>();

        for (const s of steps) {
          if (s.kind === 'repeat' || s.kind === 'reuse') {
            if (keyed.length === 0) continue;
            const earlier = keyed[s.n % keyed.length]!;
            const payload =
              s.kind === 'repeat'
                ? earlier.payload
                : {
                    ...earlier.payload,
                    amount: new Decimal(String(earlier.payload.amount)).plus(s.other).toFixed(),
                  };
            const res = await postOperation(t.app, user.token, wallets[earlier.wallet]!, payload, {
              'idempotency-key': earlier.key,
            });
            if (s.kind === 'repeat') {
              expect(res.statusCode).toBe(earlier.status);
              expect(res.body).toBe(earlier.body);
              expect(res.headers['idempotent-replayed']).toBe('true');
            } else {
              expect(res.statusCode, res.body).toBe(409);
              expect(res.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
            }
            continue;
          }

          const w = s.wallet % 2;
          const payload = { operation_type: s.type, amount: encode(s.amount, s.form), asset: s.asset };
          const key = s.keyed ? `k-${randomUUID()}` : undefined;
          const res = await postOperation(
            t.app,
            user.token,
            wallets[w]!,
            payload,
            key ? { 'idempotency-key': key } : {},
          );
          const balances = model[w]!;
          const exists = w === 0 || secondExists;
          if (!exists && s.type === 'WITHDRAW') {
            expect(res.statusCode, res.body).toBe(404);
            expect(res.json()).toEqual({
              error: { code: 'NOT_FOUND', message: `wallet ${wallets[w]} not found`, details: {} },
            });
          } else if (s.type === 'WITHDRAW' && s.amount.gt(balances[s.asset])) {
            expect(res.statusCode, res.body).toBe(400);
            expect(res.json()).toEqual({
              error: {
                code: 'INSUFFICIENT_FUNDS',
                message: expect.any(String),
                details: {
                  asset: s.asset,
                  available: balances[s.asset].toFixed(),
                  required: s.amount.toFixed(),
                },
              },
            });
          } else {
            expect(res.statusCode, res.body).toBe(201);
            const body = res.json<OperationBody>();
            expect(body).toEqual({
              id: expect.any(Number),
              wallet_id: wallets[w],
              operation_type: s.type,
              asset: s.asset,
              amount: s.amount.toFixed(),
              created_at: expect.any(String),
            });
            balances[s.asset] =
              s.type === 'DEPOSIT' ? balances[s.asset].plus(s.amount) : balances[s.asset].minus(s.amount);
            if (w === 1) secondExists = true;
            afterOf.set(body.id, { wallet: w, asset: s.asset, balance: balances[s.asset].toFixed() });
          }
          if (key) keyed.push({ key, wallet: w, payload, status: res.statusCode, body: res.body });
        }

        for (const [w, id] of wallets.entries()) {
          if (w === 1 && !secondExists) continue;
          const actual = await getWallet(t.app, user.token, id);
          const available = Object.fromEntries(actual.balances.map((b) => [b.asset, b.available]));
          expect(available.USDT).toBe(model[w]!.USDT.toFixed());
          expect(available.BTC ?? '0').toBe(model[w]!.BTC.toFixed());
          const history = await readHistory(t.app, user.token, id);
          const mine = [...afterOf].filter(([, a]) => a.wallet === w).map(([jid]) => jid);
          expect(history.map((j) => j.id).sort((a, b) => a - b)).toEqual(mine.sort((a, b) => a - b));
          for (const journal of history) {
            const entry = walletEntry(journal, id);
            const expected = afterOf.get(journal.id)!;
            expect({ asset: entry.asset, balance_after: entry.balance_after }).toEqual({
              asset: expected.asset,
              balance_after: expected.balance,
            });
          }
        }
        await expectLedgerSound(t.db);
      }),
      { numRuns: 40 },
    );
  });
});
