/**
 * Random sequences of resting-order requests and price moves on one wallet, through the HTTP API on
 * a real database, the matcher driven by the test (one `matchAll` pass after each move, then no due
 * order may remain). Steps: place (every resting type and market, buy or sell, prices around the
 * current one, all four sides), cancel, cancel-replace (PATCH), OCO (buy or sell), and price moves of the fake
 * Binance. After every step:
 * - no answer is a 5xx; an order's status only goes from `new` to one terminal status, once;
 * - every filled order has one journal of its own (no order fills twice, no journal fills two);
 * - a maker fill is at the order's own limit price, on a book the fake served that crossed it; a
 *   taker fill at an ask (buy) or a bid (sell) the fake served; its fee is the notional × the
 *   liquidity's rate (maker 0.05 %, taker 0.1 % here, so a wrong label shows);
 * - the wallet's locked balance per asset = Σ its open orders' `reserved` + its open OCOs' `reserved`
 *   + its open short's collateral (each run starts with 0.05 BTC bought and 0.03 BTC shorted);
 * - reconcile (every journal balanced, balances, chains, each purpose against its rows) is clean.
 * 25 runs × 3 to 30 steps, seeded: RESTING_PROPERTY_SEED=<n> replays a failure fast-check reports.
 */
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, roundAmount } from '../../src/shared/decimal.js';
import {
  bearer,
  buildTestApp,
  expectLedgerSound,
  getWallet,
  postOrder,
  registerUser,
  type TestApp,
} from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createTestMatcher, type TestMatcher } from '../helpers/matcher.js';
import type { TestQuote } from '../helpers/resting.js';

const SEED = Number(process.env.RESTING_PROPERTY_SEED ?? 14_2026);
const RUNS = 25;
const STEPS_MAX = 30;
const MAKER_FEE_RATE = '0.0005';
const TAKER_FEE_RATE = '0.001';
const SYMBOL = 'BTCUSDT';
/** the price every run starts at, and the centre of its moves */
const CENTRE = 60_000;

let database: TestDatabase;
let built: TestApp;
let matcher: TestMatcher;

beforeAll(async () => {
  database = await createTestDatabase();
  built = await buildTestApp(database.db, {
    env: { PRICE_CACHE_TTL_MS: '0', MAKER_FEE_RATE, TAKER_FEE_RATE },
  });
  matcher = createTestMatcher(built.deps);
});
afterAll(async () => {
  await matcher?.close();
  await built?.close();
  await database?.drop();
});

type Side = 'buy' | 'sell' | 'short' | 'close_short';
/** buy and close_short buy the base (at the ask), sell and short sell it (at the bid) */
const buys = (side: Side) => side === 'buy' || side === 'close_short';
type Type =
  | 'market'
  | 'limit'
  | 'limit_maker'
  | 'stop_loss'
  | 'stop_loss_limit'
  | 'take_profit'
  | 'take_profit_limit';

type Step =
  | {
      kind: 'place';
      type: Type;
      side: Side;
      /** price and stop price offsets from the last price, in dollars */
      priceOffset: number;
      stopOffset: number;
      tif: 'gtc' | 'ioc' | 'fok';
      quantityMilli: number;
    }
  | { kind: 'cancel'; pick: number }
  | { kind: 'replace'; pick: number; priceOffset: number; quantityMilli: number | null }
  | {
      kind: 'oco';
      side: Side;
      limitOffset: number;
      stopOffset: number;
      withLimit: boolean;
      quantityMilli: number;
    }
  | { kind: 'price'; lastOffset: number; spreadCents: number };

const offset = fc.integer({ min: -1500, max: 1500 });
const quantityMilli = fc.integer({ min: 1, max: 15 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('place' as const),
      type: fc.constantFrom<Type>(
        'market',
        'limit',
        'limit_maker',
        'stop_loss',
        'stop_loss_limit',
        'take_profit',
        'take_profit_limit',
      ),
      side: fc.constantFrom<Side>('buy', 'sell', 'buy', 'sell', 'short', 'close_short'),
      priceOffset: offset,
      stopOffset: offset,
      tif: fc.constantFrom('gtc' as const, 'gtc' as const, 'ioc' as const, 'fok' as const),
      quantityMilli,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      pick: fc.nat(),
      priceOffset: offset,
      quantityMilli: fc.option(quantityMilli, { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('oco' as const),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      limitOffset: fc.integer({ min: 1, max: 1500 }),
      stopOffset: fc.integer({ min: 1, max: 1500 }),
      withLimit: fc.boolean(),
      quantityMilli,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('price' as const),
      lastOffset: fc.integer({ min: -2500, max: 2500 }),
      spreadCents: fc.integer({ min: 1, max: 300 }),
    }),
  },
);

type OrderRowView = {
  id: string;
  side: Side;
  type: Type;
  status: string;
  price: string | null;
  avg_fill_price: string | null;
  notional: string | null;
  fee: string | null;
  liquidity: string | null;
  journal_id: string | null;
  reserved: string;
  reserve_asset: string | null;
};

async function walletOrders(walletId: string): Promise<OrderRowView[]> {
  const rows = await database.db.execute<OrderRowView>(sql`
    select id, side, type, status, price::text, avg_fill_price::text, notional::text, fee::text, liquidity,
           journal_id::text, reserved::text, reserve_asset
      from orders where wallet_id = ${walletId}::uuid order by id`);
  return rows.rows;
}

/** Σ reserved per asset over the wallet's open orders and open OCOs, plus its open shorts' collateral. */
async function reservedByAsset(walletId: string): Promise<Map<string, Decimal>> {
  const rows = await database.db.execute<{ asset: string; total: string }>(sql`
    select asset, sum(amount)::text as total from (
      select reserve_asset as asset, reserved as amount from orders
       where wallet_id = ${walletId}::uuid and status = 'new' and reserved > 0
      union all
      select reserve_asset, reserved from order_lists
       where wallet_id = ${walletId}::uuid and status = 'open' and reserved > 0
      union all
      select quote_asset, collateral from positions
       where wallet_id = ${walletId}::uuid and status = 'open') r
     group by asset`);
  return new Map(rows.rows.map((r) => [r.asset, new Decimal(r.total)]));
}

/** Journals naming each order as the one they filled (the matcher's metadata). */
async function fillJournalsPerOrder(walletId: string): Promise<Map<string, number>> {
  const rows = await database.db.execute<{ order_id: string; n: string }>(sql`
    select j.metadata->>'order_id' as order_id, count(*)::text as n
      from journal_transactions j
     where j.kind = 'order_fill' and j.metadata ? 'order_id'
       and (j.metadata->>'order_id')::uuid in (select id from orders where wallet_id = ${walletId}::uuid)
     group by 1`);
  return new Map(rows.rows.map((r) => [r.order_id, Number(r.n)]));
}

type OpenRow = {
  id: string;
  side: Side;
  type: Type;
  price: string | null;
  stop_price: string | null;
  triggered: boolean;
};

async function openOrders(walletId: string): Promise<OpenRow[]> {
  const rows = await database.db.execute<OpenRow>(sql`
    select id, side, type, price::text, stop_price::text, triggered_at is not null as triggered
      from orders where wallet_id = ${walletId}::uuid and status = 'new' order by id`);
  return rows.rows;
}

/**
 * Whether `quote` makes an open order due, as Binance states it: a limit (or a triggered stop-limit)
 * when the book reached its price; a stop_loss when the last price moved through its stop against
 * the position (a buy at last ≥ stop, a sell at last ≤ stop), a take_profit the other way round.
 */
function isDue(order: OpenRow, quote: TestQuote): boolean {
  if (order.stop_price !== null && !order.triggered) {
    const last = new Decimal(quote.last);
    const stopLoss = order.type.startsWith('stop_loss');
    const rises = stopLoss === buys(order.side);
    return rises ? last.gte(order.stop_price) : last.lte(order.stop_price);
  }
  if (order.price === null) return false;
  return buys(order.side) ? new Decimal(quote.ask).lte(order.price) : new Decimal(quote.bid).gte(order.price);
}

const TALLY = new Map<string, number>();
// RESTING_PROPERTY_TALLY=1 prints how each kind of step was answered, over every run.
afterAll(() => {
  if (process.env.RESTING_PROPERTY_TALLY) console.info([...TALLY].sort());
});
const dollars = (n: number) => new Decimal(n).toFixed(2);

describe('resting orders: model-checked sequences', () => {
  it('fills each order once, at a price the market reached, and keeps locked = Σ reserved', async () => {
    const binance = built.binance!;
    const { app } = built;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: STEPS_MAX, size: 'max' }), async (steps) => {
        let quote: TestQuote = { last: dollars(CENTRE), bid: dollars(CENTRE - 0.01), ask: dollars(CENTRE) };
        binance.setQuote(SYMBOL, quote);
        /** every bid and ask the fake has served in this run, and every book */
        const books: TestQuote[] = [quote];
        const { token, walletId } = await registerUser(app);
        // Some BTC to sell from (0.05 at the ask: 3000 USDT and its fee) and a short to close (0.03).
        for (const side of ['buy', 'short']) {
          const quantity = side === 'buy' ? '0.05' : '0.03';
          const res = await postOrder(app, token, { symbol: 'BTC', side, quantity });
          expect(res.statusCode, res.body).toBe(201);
        }
        /** each order's status as last seen: it may leave `new` once, and never change again */
        const seen = new Map<string, string>();
        const known: string[] = [];

        const check = async (label: string) => {
          const rows = await walletOrders(walletId);
          const journals = new Set<string>();
          const perOrder = await fillJournalsPerOrder(walletId);
          for (const row of rows) {
            const before = seen.get(row.id);
            if (before !== undefined && before !== 'new')
              expect(row.status, `${label}: ${row.id} was ${before}`).toBe(before);
            seen.set(row.id, row.status);
            if (!known.includes(row.id)) known.push(row.id);
            expect(perOrder.get(row.id) ?? 0, `${label}: fill journals of ${row.id}`).toBeLessThanOrEqual(1);
            if (row.status !== 'filled') {
              expect(row.journal_id).toBeNull();
              expect(perOrder.get(row.id) ?? 0).toBe(0);
              continue;
            }
            const journal = row.journal_id!;
            expect(journals.has(journal), `${label}: journal ${journal} fills two orders`).toBe(false);
            journals.add(journal);
            const price = new Decimal(row.avg_fill_price!);
            if (row.liquidity === 'maker') {
              expect(row.price, `${label}: a maker fills at its limit`).not.toBeNull();
              expect(price.eq(row.price!), `${label}: maker ${row.id} at ${price} ≠ ${row.price}`).toBe(true);
              const crossed = books.some((b) =>
                buys(row.side) ? new Decimal(b.ask).lte(price) : new Decimal(b.bid).gte(price),
              );
              expect(crossed, `${label}: no served book crossed ${row.side} ${price}`).toBe(true);
            } else {
              expect(row.liquidity).toBe('taker');
              const served = books.map((b) => new Decimal(buys(row.side) ? b.ask : b.bid));
              expect(
                served.some((p) => p.eq(price)),
                `${label}: taker ${row.side} ${row.id} at ${price}, not a served ${buys(row.side) ? 'ask' : 'bid'}`,
              ).toBe(true);
            }
            const rate = row.liquidity === 'maker' ? MAKER_FEE_RATE : TAKER_FEE_RATE;
            expect(row.fee, `${label}: fee of ${row.id}`).toBe(
              roundAmount(new Decimal(row.notional!).times(rate)).toFixed(8),
            );
          }
          const reserved = await reservedByAsset(walletId);
          const wallet = await getWallet(app, token, walletId);
          for (const asset of ['USDT', 'BTC']) {
            const locked = new Decimal(wallet.balances.find((b) => b.asset === asset)?.locked ?? 0);
            expect(locked.toFixed(), `${label}: ${asset} locked`).toBe(
              (reserved.get(asset) ?? new Decimal(0)).toFixed(),
            );
          }
          await expectLedgerSound(database.db);
        };

        const answered = (label: string, res: { statusCode: number; body: string }, ok: number[]) => {
          const key = `${JSON.parse(label.slice(label.indexOf('{'))).kind} ${res.statusCode} ${res.statusCode >= 400 ? JSON.parse(res.body).error.code : ''}`;
          TALLY.set(key, (TALLY.get(key) ?? 0) + 1);
          expect(res.statusCode, `${label}: ${res.body}`).toBeLessThan(500);
          if (!ok.includes(res.statusCode)) {
            // A refusal names its reason with a code, and is a client error.
            expect(res.statusCode, `${label}: ${res.body}`).toBeGreaterThanOrEqual(400);
            expect(JSON.parse(res.body).error.code, res.body).toMatch(/^[A-Z_]+$/);
          }
        };
        const last = () => new Decimal(quote.last);
        const at = (delta: number) => Decimal.max(last().plus(delta), 1).toFixed(2);
        const pick = (n: number) => {
          const open = known.filter((id) => seen.get(id) === 'new');
          return open.length > 0 ? open[n % open.length] : known[n % Math.max(known.length, 1)];
        };

        await check('start');
        for (const [n, s] of steps.entries()) {
          const label = `step ${n} ${JSON.stringify(s)}`;
          switch (s.kind) {
            case 'place': {
              const payload: Record<string, unknown> = {
                symbol: 'BTC',
                side: s.side,
                type: s.type,
                quantity: new Decimal(s.quantityMilli).div(1000).toFixed(),
              };
              if (['limit', 'limit_maker', 'stop_loss_limit', 'take_profit_limit'].includes(s.type))
                payload.price = at(s.priceOffset);
              if (s.type.startsWith('stop_loss') || s.type.startsWith('take_profit'))
                payload.stop_price = at(s.stopOffset);
              if (['limit', 'stop_loss_limit', 'take_profit_limit'].includes(s.type))
                payload.time_in_force = s.tif;
              answered(label, await postOrder(app, token, payload), [201]);
              break;
            }
            case 'cancel': {
              const id = pick(s.pick);
              if (!id) break;
              const res = await app.inject({
                method: 'DELETE',
                url: `/api/v1/orders/${id}`,
                headers: bearer(token),
              });
              // 200, or 409 for an order no longer open.
              answered(label, res, [200]);
              if (res.statusCode !== 200) expect(res.statusCode, res.body).toBe(409);
              break;
            }
            case 'replace': {
              const id = pick(s.pick);
              if (!id) break;
              const order = (await walletOrders(walletId)).find((o) => o.id === id)!;
              const payload: Record<string, unknown> = {};
              if (order.price !== null) payload.price = at(s.priceOffset);
              if (s.quantityMilli !== null)
                payload.quantity = new Decimal(s.quantityMilli).div(1000).toFixed();
              if (Object.keys(payload).length === 0) payload.quantity = '0.001';
              const res = await app.inject({
                method: 'PATCH',
                url: `/api/v1/orders/${id}`,
                headers: bearer(token),
                payload,
              });
              answered(label, res, [201]);
              break;
            }
            case 'oco': {
              const buy = s.side === 'buy';
              const payload: Record<string, unknown> = {
                symbol: 'BTC',
                side: s.side,
                quantity: new Decimal(s.quantityMilli).div(1000).toFixed(),
                price: at(buy ? -s.limitOffset : s.limitOffset),
                stop_price: at(buy ? s.stopOffset : -s.stopOffset),
              };
              if (s.withLimit) payload.stop_limit_price = at(buy ? s.stopOffset + 50 : -s.stopOffset - 50);
              const res = await app.inject({
                method: 'POST',
                url: '/api/v1/orders/oco',
                headers: bearer(token),
                payload,
              });
              answered(label, res, [201]);
              break;
            }
            case 'price': {
              const lastPrice = new Decimal(CENTRE).plus(s.lastOffset);
              const spread = new Decimal(s.spreadCents).div(100);
              // The last trade sits inside the book, at the bid or the ask or between.
              quote = {
                last: lastPrice.toFixed(2),
                bid: lastPrice.minus(spread.div(2).toDecimalPlaces(2)).toFixed(2),
                ask: lastPrice.plus(spread.minus(spread.div(2).toDecimalPlaces(2))).toFixed(2),
              };
              binance.setQuote(SYMBOL, quote);
              books.push(quote);
              await matcher.match([SYMBOL]);
              // One pass leaves no order the book or the last price makes due.
              const due = (await openOrders(walletId)).filter((o) => isDue(o, quote));
              expect(due, `${label}: due after a pass`).toEqual([]);
              break;
            }
          }
          await check(label);
        }
        // Everything still open cancels, and then only the open short's collateral is locked.
        const all = await app.inject({
          method: 'DELETE',
          url: '/api/v1/orders?symbol=BTC',
          headers: bearer(token),
        });
        expect(all.statusCode, all.body).toBe(200);
        await check('cancel-all');
        const open = await database.db.execute(
          sql`select 1 from orders where wallet_id = ${walletId}::uuid and status = 'new'`,
        );
        expect(open.rows).toEqual([]);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // The sequences reach every outcome the checks are about (else they would check little).
    const outcomes = await database.db.execute<{ outcome: string; n: string }>(sql`
      select outcome, count(*)::text as n from (
        select 'resting ' || liquidity || ' fill' as outcome from orders where status = 'filled' and type <> 'market'
        union all
        select 'resting ' || side || ' fill' from orders where status = 'filled' and type <> 'market'
        union all
        select status from orders where order_list_id is null and replaced_by is null
        union all
        select 'replaced' from orders where replaced_by is not null
        union all
        select 'oco leg ' || status from orders where order_list_id is not null) o
       group by outcome order by outcome`);
    const counts = Object.fromEntries(outcomes.rows.map((r) => [r.outcome, Number(r.n)]));
    for (const outcome of [
      'resting maker fill',
      'resting taker fill',
      'resting short fill',
      'resting close_short fill',
      'canceled',
      'expired',
      'replaced',
      'oco leg canceled',
      'oco leg filled',
    ])
      expect(counts[outcome] ?? 0, `${outcome} in ${JSON.stringify(counts)}`).toBeGreaterThan(0);
  }, 300_000);
});
