/**
 * Migration 0010 (resting orders) on a database the previous version filled. The database is built
 * from the migrations up to 0009 only (a copy of the folder whose journal stops there), then filled
 * the way the old code wrote market orders: each fill's journal through the ledger (unchanged by
 * 0010), its books, and its order row in 0009's shape (`price` = the fill price, every column NOT
 * NULL) — buys and sells, a short opened and partly closed, a short closed whole, over two users.
 * Then every migration is applied, and:
 * - every old row keeps its values, its fill price now in `avg_fill_price`, `price` null, type
 *   `market`, liquidity `taker`, `seq` = its journal id, nothing reserved;
 * - the order list, paged two at a time, still lists the old orders newest first, and a new order
 *   comes before them;
 * - the new code places resting orders on the migrated wallets and fills them (a buy, a sell, and a
 *   close_short of the migrated open short), and reconcile is clean before and after.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Ledger } from '../../../src/modules/ledger/index.js';
import { applyFillsToBooks } from '../../../src/modules/trading/cost-basis.js';
import { type Fill, fillAt, fillPostings } from '../../../src/modules/trading/fills.js';
import { closeShort, openShort, requireOpenShort } from '../../../src/modules/trading/shorts.js';
import { createFundedUser } from '../../../src/modules/users/index.js';
import { createDb, type Db, type Tx } from '../../../src/platform/db/client.js';
import { runMigrations } from '../../../src/platform/db/migrate.js';
import { createScratchDatabase } from '../../../src/platform/db/scratch.js';
import { withTransaction } from '../../../src/platform/db/tx.js';
import { defined } from '../../../src/shared/assert.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, buildTestApp, expectLedgerSound, type TestApp } from '../../helpers/app.js';
import type { TestDatabase } from '../../helpers/db.js';
import { createTestMatcher } from '../../helpers/matcher.js';
import { getOrderBody, type OrderBody, placeOk } from '../../helpers/resting.js';

const MIGRATIONS_DIR = path.resolve('src/platform/db/migrations');
/** 0000 … 0009: the schema of the version before resting orders. */
const MIGRATIONS_BEFORE_0010 = 10;
const PASSWORD = 'correct horse battery';
const MARGIN = { initial: '0.5', maintenance: '0.3' };
const TAKER_FEE_RATE = '0.001';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A scratch database with only the first `count` migrations applied, dropped after the test. */
async function databaseAtMigration(count: number): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_test');
  const db = createDb(scratch.url, 10);
  const database: TestDatabase = {
    url: scratch.url,
    db,
    drop: async () => {
      await db.$client.end();
      await scratch.drop();
    },
  };
  cleanups.push(() => database.drop());
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-migrations-'));
  try {
    await fs.cp(MIGRATIONS_DIR, dir, { recursive: true });
    const journalPath = path.join(dir, 'meta', '_journal.json');
    const journal = JSON.parse(await fs.readFile(journalPath, 'utf8')) as { entries: unknown[] };
    journal.entries = journal.entries.slice(0, count);
    await fs.writeFile(journalPath, JSON.stringify(journal));
    await migrate(db, { migrationsFolder: dir });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return database;
}

interface Owner {
  userId: string;
  walletId: string;
  username: string;
}

/** An old order as written, to compare with the migrated row. */
interface OldOrder {
  id: string;
  walletId: string;
  side: string;
  quantity: string;
  price: string;
  notional: string;
  fee: string;
  journalId: number;
  positionId: string | null;
  realizedPnl: string | null;
}

/** The order row in 0009's shape: `price` is the fill price, there is no type, status is `filled`. */
async function insertOldOrder(
  tx: Tx,
  owner: Owner,
  side: string,
  fill: Fill,
  journalId: number,
  extra: { positionId?: string; realizedPnl?: string } = {},
): Promise<OldOrder> {
  const rows = await tx.execute<{ id: string }>(sql`
    insert into orders (user_id, wallet_id, symbol, base_asset, quote_asset, side, quantity, price, notional, fee,
                        status, position_id, realized_pnl, journal_id)
    values (${owner.userId}::uuid, ${owner.walletId}::uuid, 'BTCUSDT', 'BTC', 'USDT', ${side},
            ${fill.quantity.toFixed()}, ${fill.price.toFixed()}, ${fill.notional.toFixed()}, ${fill.fee.toFixed()},
            'filled', ${extra.positionId ?? null}::uuid, ${extra.realizedPnl ?? null}::numeric, ${journalId})
    returning id`);
  return {
    id: defined(rows.rows[0]).id,
    walletId: owner.walletId,
    side,
    quantity: fill.quantity.toFixed(),
    price: fill.price.toFixed(),
    notional: fill.notional.toFixed(),
    fee: fill.fee.toFixed(),
    journalId,
    positionId: extra.positionId ?? null,
    realizedPnl: extra.realizedPnl ?? null,
  };
}

/** A market buy or sell as the old order command wrote it: the fill's journal, the books, the row. */
async function oldSpotOrder(
  db: Db,
  ledger: Ledger,
  owner: Owner,
  side: 'buy' | 'sell',
  quantity: string,
  price: string,
): Promise<OldOrder> {
  return await withTransaction(db, async (tx) => {
    const fill = fillAt(new Decimal(price), new Decimal(quantity), TAKER_FEE_RATE);
    const journal = await ledger.post(tx, {
      kind: 'order_fill',
      postings: fillPostings(owner.walletId, side, 'BTC', 'USDT', fill),
      metadata: { symbol: 'BTCUSDT', side },
    });
    const order = await insertOldOrder(tx, owner, side, fill, journal.journalId);
    await applyFillsToBooks(tx, [
      {
        walletId: owner.walletId,
        baseAsset: 'BTC',
        side,
        quantity,
        notional: order.notional,
        fee: order.fee,
        journalId: journal.journalId,
      },
    ]);
    return order;
  });
}

/** A market short as the old code wrote it (the position's journal and row, then the order row). */
async function oldShort(db: Db, ledger: Ledger, owner: Owner, quantity: string, price: string) {
  return await withTransaction(db, async (tx) => {
    const fill = fillAt(new Decimal(price), new Decimal(quantity), TAKER_FEE_RATE);
    const target = { ...owner, symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' };
    const opened = await openShort(tx, ledger, target, fill, MARGIN);
    return await insertOldOrder(tx, owner, 'short', fill, opened.journalId, {
      positionId: opened.position.id,
    });
  });
}

/** A market close_short as the old code wrote it, its realized P&L on the row and in the books. */
async function oldClose(db: Db, ledger: Ledger, owner: Owner, quantity: string, price: string) {
  return await withTransaction(db, async (tx) => {
    const fill = fillAt(new Decimal(price), new Decimal(quantity), TAKER_FEE_RATE);
    const position = await requireOpenShort(tx, owner.walletId, 'BTCUSDT', fill.quantity);
    const closed = await closeShort(tx, ledger, position, fill, false);
    const realizedPnl = closed.realizedPnl.toFixed();
    const order = await insertOldOrder(tx, owner, 'close_short', fill, closed.journalId, {
      positionId: position.id,
      realizedPnl,
    });
    await applyFillsToBooks(tx, [
      {
        walletId: owner.walletId,
        baseAsset: 'BTC',
        side: 'close_short',
        quantity,
        notional: order.notional,
        fee: order.fee,
        journalId: closed.journalId,
        realizedPnl,
      },
    ]);
    return order;
  });
}

async function oldUser(db: Db, ledger: Ledger, username: string): Promise<Owner> {
  const passwordHash = await bcrypt.hash(PASSWORD, 4);
  const user = await createFundedUser(
    { db, ledger, initialBalance: '10000', quoteAsset: 'USDT' },
    { username, email: null, passwordHash },
  );
  const wallets = await db.execute<{ id: string }>(
    sql`select id from wallets where user_id = ${user.id}::uuid`,
  );
  return { userId: user.id, walletId: defined(wallets.rows[0]).id, username };
}

/** Fills a database at 0009 as the old code would have: alice trades and shorts, bob closes a short whole. */
async function fillAsOldCode(db: Db) {
  const ledger = new Ledger();
  const alice = await oldUser(db, ledger, 'alice');
  const bob = await oldUser(db, ledger, 'bob');
  const orders = [
    await oldSpotOrder(db, ledger, alice, 'buy', '0.05', '60000.12'),
    await oldShort(db, ledger, bob, '0.02', '60100'),
    await oldSpotOrder(db, ledger, alice, 'sell', '0.01', '61000.5'),
    await oldShort(db, ledger, alice, '0.03', '60500'),
    await oldClose(db, ledger, alice, '0.01', '59900.01'),
    await oldClose(db, ledger, bob, '0.02', '59000'),
    await oldSpotOrder(db, ledger, alice, 'buy', '0.002', '59950'),
  ];
  return { alice, bob, orders };
}

async function login(built: TestApp, username: string): Promise<string> {
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password: PASSWORD },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ access_token: string }>().access_token;
}

/** Every page of the caller's orders, `limit` at a time, following next_cursor. */
async function allPages(built: TestApp, token: string, limit: number): Promise<OrderBody[]> {
  const items: OrderBody[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await built.app.inject({
      method: 'GET',
      url: `/api/v1/orders?${query}`,
      headers: bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ items: OrderBody[]; next_cursor: string | null }>();
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('more than 50 pages');
}

describe('migration 0010: resting orders', () => {
  it('moves the old fill price to avg_fill_price, keeps every old order in its place, and lets the new code rest and fill orders', async () => {
    const { db } = await databaseAtMigration(MIGRATIONS_BEFORE_0010);
    const made = await fillAsOldCode(db);
    const before = await db.execute(
      sql`select wallet_id, asset, quantity::text, cost::text from cost_basis order by wallet_id, asset`,
    );

    await runMigrations(db);
    await expectLedgerSound(db);

    const rows = await db.execute<{
      id: string;
      type: string;
      status: string;
      price: string | null;
      avg_fill_price: string;
      notional: string;
      fee: string;
      liquidity: string;
      seq: string;
      journal_id: string;
      reserved: string;
      time_in_force: string | null;
      stop_price: string | null;
      position_id: string | null;
      realized_pnl: string | null;
    }>(sql`
      select id, type, status, price::text, avg_fill_price::text, notional::text, fee::text, liquidity, seq::text,
             journal_id::text, reserved::text, time_in_force, stop_price::text, position_id, realized_pnl::text
        from orders`);
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    expect(rows.rows).toHaveLength(made.orders.length);
    for (const old of made.orders) {
      const row = defined(byId.get(old.id));
      expect({
        type: row.type,
        status: row.status,
        price: row.price,
        avgFillPrice: new Decimal(row.avg_fill_price).toFixed(),
        notional: new Decimal(row.notional).toFixed(),
        fee: new Decimal(row.fee).toFixed(),
        liquidity: row.liquidity,
        seq: Number(row.seq),
        journalId: Number(row.journal_id),
        reserved: new Decimal(row.reserved).toFixed(),
        timeInForce: row.time_in_force,
        stopPrice: row.stop_price,
        positionId: row.position_id,
        realizedPnl: row.realized_pnl === null ? null : new Decimal(row.realized_pnl).toFixed(),
      }).toEqual({
        type: 'market',
        status: 'filled',
        price: null,
        avgFillPrice: old.price,
        notional: old.notional,
        fee: old.fee,
        liquidity: 'taker',
        seq: old.journalId,
        journalId: old.journalId,
        reserved: '0',
        timeInForce: null,
        stopPrice: null,
        positionId: old.positionId,
        realizedPnl: old.realizedPnl === null ? null : new Decimal(old.realizedPnl).toFixed(),
      });
    }
    expect(
      (
        await db.execute(
          sql`select wallet_id, asset, quantity::text, cost::text from cost_basis order by wallet_id, asset`,
        )
      ).rows,
    ).toEqual(before.rows);

    // The new code over the migrated database.
    const built = await buildTestApp(db, { env: { PRICE_CACHE_TTL_MS: '0' } });
    cleanups.push(() => built.close());
    const matcher = createTestMatcher(built.deps);
    cleanups.push(() => matcher.close());
    const binance = defined(built.binance);
    binance.setQuote('BTCUSDT', { last: '60000', bid: '59999.99', ask: '60000' });
    const token = await login(built, made.alice.username);

    // The API shows the old orders as market fills, newest first, over pages of two.
    const aliceOld = made.orders
      .filter((o) => o.walletId === made.alice.walletId)
      .sort((a, b) => b.journalId - a.journalId);
    const listed = await allPages(built, token, 2);
    expect(listed.map((o) => o.id)).toEqual(aliceOld.map((o) => o.id));
    for (const [n, order] of listed.entries()) {
      const old = defined(aliceOld[n]);
      expect(order).toMatchObject({
        type: 'market',
        status: 'filled',
        price: null,
        avg_fill_price: old.price,
        filled_quantity: old.quantity,
        fills: [{ price: old.price, quantity: old.quantity, fee: old.fee, liquidity: 'taker' }],
      });
    }

    // Resting orders on the migrated wallet: a buy, a sell of what it holds, a close_short of its short.
    const buy = await placeOk(built.app, token, {
      symbol: 'BTC',
      side: 'buy',
      type: 'limit',
      price: '59000',
      quantity: '0.01',
    });
    const sell = await placeOk(built.app, token, {
      symbol: 'BTC',
      side: 'sell',
      type: 'limit',
      price: '61000',
      quantity: '0.01',
    });
    const close = await placeOk(built.app, token, {
      symbol: 'BTC',
      side: 'close_short',
      type: 'limit',
      price: '59000',
      quantity: '0.02',
    });
    expect([buy.status, sell.status, close.status]).toEqual(['new', 'new', 'new']);
    const afterPlacing = await allPages(built, token, 2);
    expect(afterPlacing.map((o) => o.id)).toEqual([close.id, sell.id, buy.id, ...aliceOld.map((o) => o.id)]);
    await expectLedgerSound(db);

    binance.setQuote('BTCUSDT', { last: '58900', bid: '58899.99', ask: '58900' });
    expect(await matcher.match(['BTCUSDT'])).toBe(2);
    binance.setQuote('BTCUSDT', { last: '61100', bid: '61100', ask: '61100.01' });
    expect(await matcher.match(['BTCUSDT'])).toBe(1);
    for (const [order, price] of [
      [buy, '59000'],
      [sell, '61000'],
      [close, '59000'],
    ] as const) {
      expect(await getOrderBody(built.app, token, order.id)).toMatchObject({
        status: 'filled',
        avg_fill_price: price,
        fills: [{ liquidity: 'maker' }],
      });
    }
    const positions = await built.app.inject({
      method: 'GET',
      url: '/api/v1/positions',
      headers: bearer(token),
    });
    expect(positions.json().items).toEqual([]);
    await expectLedgerSound(db);
  });
});
