/**
 * Resting orders under concurrency, on one real database with two app instances (two processes'
 * runners and pools of connections) and matchers driven by the test:
 * - a cancel (DELETE through the API) racing a match that fills the same order: exactly one wins —
 *   the cancel answers 200 and nothing filled, or it answers 409 ORDER_NOT_OPEN and the order filled
 *   once — never a 5xx, and the ledger stays sound; the same for the cancel of an OCO's stop leg
 *   racing the fill of its limit leg;
 * - two matchers (two command runners, as two workers) matching the same crossed orders at once:
 *   each order fills exactly once, with one journal;
 * - concurrent placements on one wallet just below the 200-open-orders limit, through both
 *   instances: never more than 200 open, the rest refused with 409 TOO_MANY_OPEN_ORDERS.
 * Which side of a race wins is left to timing (staggered by a few ms); RACES_VERBOSE=1 prints how
 * often each did (both do, e.g. 31 cancels / 17 fills and 21 / 11 on an idle machine).
 */
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/shared/decimal.js';
import {
  bearer,
  buildTestApp,
  expectLedgerSound,
  getWallet,
  postOrder,
  registerUser,
  type TestApp,
} from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createTestMatcher, type TestMatcher } from '../../helpers/matcher.js';
import { placeOk, type TestQuote } from '../../helpers/resting.js';

const START: TestQuote = { last: '60000', bid: '59999.99', ask: '60000' };
const DOWN: TestQuote = { last: '58900', bid: '58899.99', ask: '58900' };

let database: TestDatabase;
let first: TestApp;
let second: TestApp;
let matchers: TestMatcher[];

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { PRICE_CACHE_TTL_MS: '0' };
  first = await buildTestApp(database.db, { env });
  second = await buildTestApp(database.db, { env });
  matchers = [createTestMatcher(first.deps), createTestMatcher(second.deps)];
});
afterEach(async () => expectLedgerSound(database.db));
afterAll(async () => {
  for (const matcher of matchers ?? []) await matcher.close();
  await first?.close();
  await second?.close();
  await database?.drop();
});

/** Sets the quote on both instances' fake Binance (each instance has its own). */
function setQuote(quote: TestQuote): void {
  first.binance!.setQuote('BTCUSDT', quote);
  second.binance!.setQuote('BTCUSDT', quote);
}

async function orderState(id: string): Promise<{ status: string; journals: number }> {
  const rows = await database.db.execute<{ status: string; journals: string }>(sql`
    select o.status,
           (select count(*) from journal_transactions j
             where j.kind = 'order_fill' and j.metadata->>'order_id' = o.id::text)::text as journals
      from orders o where o.id = ${id}::uuid`);
  const row = rows.rows[0]!;
  return { status: row.status, journals: Number(row.journals) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('resting orders: races', () => {
  it('cancel vs fill of one order: exactly one wins, 200 or 409, never both, never a 5xx', async () => {
    const ROUNDS = 12;
    const ORDERS_PER_ROUND = 4;
    const users = await Promise.all(
      Array.from({ length: ORDERS_PER_ROUND }, (_, n) => registerUser((n % 2 ? second : first).app)),
    );
    const outcomes = { canceled: 0, filled: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      setQuote(START);
      const placed = await Promise.all(
        users.map((u) =>
          placeOk(first.app, u.token, {
            symbol: 'BTC',
            side: 'buy',
            type: 'limit',
            price: '59000',
            quantity: '0.01',
          }),
        ),
      );
      // The book crosses them all; the match and the cancels start together, the cancels a little
      // staggered so that both orders of arrival happen.
      setQuote(DOWN);
      const [, ...cancels] = await Promise.all([
        matchers[round % 2]!.match(['BTCUSDT']),
        ...placed.map(async (order, n) => {
          await sleep((round * 3 + n * 5) % 12);
          return (n % 2 ? second : first).app.inject({
            method: 'DELETE',
            url: `/api/v1/orders/${order.id}`,
            headers: bearer(users[n]!.token),
          });
        }),
      ]);
      for (const [n, res] of cancels.entries()) {
        const state = await orderState(placed[n]!.id);
        if (res.statusCode === 200) {
          expect(state).toEqual({ status: 'canceled', journals: 0 });
          outcomes.canceled += 1;
        } else {
          expect([res.statusCode, res.json().error.code], res.body).toEqual([409, 'ORDER_NOT_OPEN']);
          expect(state).toEqual({ status: 'filled', journals: 1 });
          outcomes.filled += 1;
        }
      }
      await expectLedgerSound(database.db);
    }
    if (process.env.RACES_VERBOSE) console.info(outcomes);
    expect(outcomes.canceled + outcomes.filled).toBe(ROUNDS * ORDERS_PER_ROUND);
    for (const u of users) {
      const usdt = (await getWallet(first.app, u.token, u.walletId)).balances.find(
        (b) => b.asset === 'USDT',
      )!;
      expect(usdt.locked).toBe('0');
    }
  });

  it('cancel of one OCO leg vs the fill of the other: the OCO ends once, either way', async () => {
    const ROUNDS = 8;
    const UP: TestQuote = { last: '61100', bid: '61100', ask: '61100.01' };
    setQuote(START);
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(first.app)));
    for (const u of users)
      await placeOk(first.app, u.token, { symbol: 'BTC', side: 'buy', quantity: '0.08' });
    const outcomes = { canceled: 0, filled: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      setQuote(START);
      const lists = await Promise.all(
        users.map(async (u) => {
          const res = await first.app.inject({
            method: 'POST',
            url: '/api/v1/orders/oco',
            headers: bearer(u.token),
            payload: { symbol: 'BTC', side: 'sell', quantity: '0.01', price: '61000', stop_price: '59000' },
          });
          expect(res.statusCode, res.body).toBe(201);
          return res.json<{ orders: { id: string }[] }>().orders;
        }),
      );
      // The book crosses the limit legs; each stop leg is canceled (which cancels its OCO) meanwhile.
      setQuote(UP);
      const [, ...cancels] = await Promise.all([
        matchers[round % 2]!.match(['BTCUSDT']),
        ...lists.map(async (legs, n) => {
          await sleep((round * 5 + n * 3) % 12);
          return (n % 2 ? first : second).app.inject({
            method: 'DELETE',
            url: `/api/v1/orders/${legs[1]!.id}`,
            headers: bearer(users[n]!.token),
          });
        }),
      ]);
      for (const [n, res] of cancels.entries()) {
        const [limit, stop] = [await orderState(lists[n]![0]!.id), await orderState(lists[n]![1]!.id)];
        if (res.statusCode === 200) {
          expect([limit, stop]).toEqual([
            { status: 'canceled', journals: 0 },
            { status: 'canceled', journals: 0 },
          ]);
          outcomes.canceled += 1;
        } else {
          expect([res.statusCode, res.json().error.code], res.body).toEqual([409, 'ORDER_NOT_OPEN']);
          expect([limit, stop]).toEqual([
            { status: 'filled', journals: 1 },
            { status: 'canceled', journals: 0 },
          ]);
          outcomes.filled += 1;
        }
      }
      await expectLedgerSound(database.db);
    }
    if (process.env.RACES_VERBOSE) console.info(outcomes);
    expect(outcomes.canceled + outcomes.filled).toBe(ROUNDS * users.length);
    for (const u of users) {
      // Every round's base sold by a fill leaves none (an asset at zero is not listed): none locked either way.
      const btc = (await getWallet(first.app, u.token, u.walletId)).balances.find((b) => b.asset === 'BTC');
      expect(btc?.locked ?? '0').toBe('0');
    }
  });

  it('two matchers on the same crossed orders at once fill each exactly once', async () => {
    const ROUNDS = 4;
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(first.app)));
    for (let round = 0; round < ROUNDS; round++) {
      setQuote(START);
      const placed = (
        await Promise.all(
          users.map(async (u, n) => {
            const orders = [];
            for (let k = 0; k < 6; k++) {
              orders.push(
                await placeOk((n % 2 ? second : first).app, u.token, {
                  symbol: 'BTC',
                  side: 'buy',
                  type: k % 3 === 2 ? 'limit_maker' : 'limit',
                  price: String(59_000 + 100 * k),
                  quantity: '0.001',
                }),
              );
            }
            return orders;
          }),
        )
      ).flat();
      // What the owners' account streams announce: each fill once.
      const announced: string[] = [];
      const unsubscribes = await Promise.all(
        [first, second].flatMap((instance) =>
          users.map((u) =>
            instance.events.subscribe(`account:${u.userId}`, (payload) => {
              const { event, data } = payload as { event: string; data: { id: string } };
              if (event === 'order.filled') announced.push(data.id);
            }),
          ),
        ),
      );
      setQuote(DOWN);
      const filled = await Promise.all([
        matchers[0]!.match(['BTCUSDT']),
        matchers[1]!.match(['BTCUSDT']),
        matchers[0]!.match(['BTCUSDT']),
      ]);
      for (const order of placed)
        expect(await orderState(order.id)).toEqual({ status: 'filled', journals: 1 });
      const deadline = Date.now() + 2000;
      while (announced.length < placed.length && Date.now() < deadline) await sleep(10);
      await sleep(50);
      for (const unsubscribe of unsubscribes) await unsubscribe();
      expect(announced.sort(), `order.filled events in round ${round}`).toEqual(
        placed.map((o) => o.id).sort(),
      );
      expect(
        filled.reduce((a, b) => a + b, 0),
        `fills counted in round ${round}`,
      ).toBe(placed.length);
      await expectLedgerSound(database.db);
    }
  });

  it('concurrent placements near the 200-open-orders limit never leave more than 200 open', async () => {
    setQuote(START);
    const user = await registerUser(first.app);
    const order = { symbol: 'BTC', side: 'buy', type: 'limit', price: '30000', quantity: '0.001' };
    for (let n = 0; n < 190; n++) {
      const res = await postOrder(first.app, user.token, order);
      expect(res.statusCode, res.body).toBe(201);
    }
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => postOrder((n % 2 ? second : first).app, user.token, order)),
    );
    const codes = answers.map((res) =>
      res.statusCode === 201 ? '201' : `${res.statusCode} ${res.json().error.code}`,
    );
    expect(codes.filter((c) => c === '201')).toHaveLength(10);
    expect(codes.filter((c) => c !== '201')).toEqual(Array(30).fill('409 TOO_MANY_OPEN_ORDERS'));
    const open = await database.db.execute<{ n: string }>(
      sql`select count(*)::text as n from orders where wallet_id = ${user.walletId}::uuid and status = 'new'`,
    );
    expect(open.rows[0]!.n).toBe('200');
    // Each open order reserves 30 + 0.03 fee: locked is exactly 200 of them.
    const usdt = (await getWallet(first.app, user.token, user.walletId)).balances.find(
      (b) => b.asset === 'USDT',
    )!;
    expect(new Decimal(usdt.locked).toFixed()).toBe(new Decimal('30.03').times(200).toFixed());
    // And a cancel makes room for exactly one more.
    const openIds = await database.db.execute<{ id: string }>(
      sql`select id from orders where wallet_id = ${user.walletId}::uuid and status = 'new' limit 1`,
    );
    const del = await second.app.inject({
      method: 'DELETE',
      url: `/api/v1/orders/${openIds.rows[0]!.id}`,
      headers: bearer(user.token),
    });
    expect(del.statusCode, del.body).toBe(200);
    const again = await Promise.all(
      Array.from({ length: 6 }, (_, n) => postOrder((n % 2 ? second : first).app, user.token, order)),
    );
    expect(again.filter((res) => res.statusCode === 201)).toHaveLength(1);
  });
});
