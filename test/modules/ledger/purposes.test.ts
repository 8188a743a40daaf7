/**
 * Locked accounts per purpose, as the product moves money through them (issue 16):
 * - a short's collateral sits in an account of its own position
 *   (`wallet:<id>:USDT:locked:short_collateral:<position id>`), which follows the position's
 *   `collateral` through opens, partial closes and the full close or liquidation (then 0); a new
 *   short on the same symbol is a new position with a new account;
 * - bet stakes sit in the wallet's `bet_escrow`, which holds the pending bets' stakes and nothing
 *   once they are settled;
 * - the wallet still shows one `locked` per asset (their sum), and its history says `locked`;
 * - the whole reconcile, each purpose against its rows, is clean after every step, and does report
 *   an escrow, a collateral or an order reserve that its rows do not explain.
 * Through the HTTP API on a real database; settlement and liquidation through the worker's own
 * functions, run by the test.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { reconcileAll } from '../../../src/modules/admin/reconcile.js';
import { settleBets } from '../../../src/modules/bets/index.js';
import {
  type AccountRef,
  available,
  betEscrow,
  isReconciled,
  Ledger,
  orderReserve,
  type PurposeMismatch,
  reconcile,
  shortCollateral,
  system,
} from '../../../src/modules/ledger/index.js';
import { BinancePriceSource, createPriceService } from '../../../src/modules/market/index.js';
import { liquidateUnderwater } from '../../../src/modules/trading/liquidation.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { CommandRunner } from '../../../src/platform/commands/runner.js';
import type { Db } from '../../../src/platform/db/client.js';
import { withTransaction } from '../../../src/platform/db/tx.js';
import { MemoryEventBus } from '../../../src/platform/events/bus.js';
import { createLogger } from '../../../src/platform/observability/logger.js';
import { defined } from '../../../src/shared/assert.js';
import { systemClock } from '../../../src/shared/clock.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, getWallet, postOrder, registerUser, useTestApp } from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { placedBet, quoteAt } from '../bets/helpers.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });
const BOOK = { last: '60755.18', bid: '60755.18', ask: '60755.19' };

/** The locked accounts of a wallet: code → stored balance (no trailing zeros). */
async function lockedAccounts(db: Db, walletId: string): Promise<Record<string, string>> {
  const rows = await db.execute<{ code: string; balance: string }>(sql`
    select code, balance::text from ledger_accounts where wallet_id = ${walletId}::uuid and bucket = 'locked'
     order by code`);
  return Object.fromEntries(rows.rows.map((r) => [r.code, new Decimal(r.balance).toFixed()]));
}

async function positionOf(db: Db, positionId: string): Promise<{ status: string; collateral: string }> {
  const rows = await db.execute<{ status: string; collateral: string }>(
    sql`select status, collateral::text from positions where id = ${positionId}::uuid`,
  );
  const row = defined(rows.rows[0]);
  return { status: row.status, collateral: new Decimal(row.collateral).toFixed() };
}

/** The whole reconcile is clean: entries, and every purpose against its rows. */
async function expectReconciled(db: Db): Promise<void> {
  const report = await reconcileAll(db);
  expect(report.purposeMismatches).toEqual([]);
  expect(isReconciled(report)).toBe(true);
}

/** What the worker's liquidation check and bet settlement need, over the test's fake Binance. */
function workerDeps() {
  const cache = new MemoryCache();
  const priceLimits = {
    priceCacheTtlMs: 0,
    priceAgeMsMax: 10_000,
    priceStaleMsMax: 60_000,
    quoteAsset: 'USDT',
    upstreamTimeoutMs: 1500,
  };
  return {
    db: t.db,
    ledger: new Ledger(),
    runner: new CommandRunner(t.db),
    prices: createPriceService(
      priceLimits,
      cache,
      systemClock,
      new BinancePriceSource({ baseUrl: t.binance!.baseUrl, timeoutMs: 1500, clock: systemClock, cache }),
    ),
    clock: systemClock,
    events: new MemoryEventBus(),
    takerFeeRate: '0.001',
    margin: { initial: '0.5', maintenance: '0.3' },
    logger: createLogger('silent'),
  };
}

async function short(token: string, symbol: string, quantity: string): Promise<string> {
  const res = await postOrder(t.app, token, { symbol, side: 'short', quantity });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ position_id: string }>().position_id;
}

async function closeShort(token: string, symbol: string, quantity: string): Promise<void> {
  const res = await postOrder(t.app, token, { symbol, side: 'close_short', quantity });
  expect(res.statusCode, res.body).toBe(201);
}

async function lockedUsdt(token: string, walletId: string): Promise<string> {
  const wallet = await getWallet(t.app, token, walletId);
  return defined(wallet.balances.find((b) => b.asset === 'USDT')).locked;
}

describe('short collateral, one account per position', () => {
  it('follows each position through opens, closes and a liquidation', async () => {
    t.binance!.setQuote('BTCUSDT', BOOK);
    t.binance!.setQuote('ETHUSDT', { last: '3000', bid: '3000', ask: '3000.01' });
    const { token, walletId } = await registerUser(t.app);
    const code = (positionId: string) => `wallet:${walletId}:USDT:locked:short_collateral:${positionId}`;

    const btc = await short(token, 'BTC', '0.1');
    const eth = await short(token, 'ETH', '1');
    expect(await short(token, 'BTC', '0.05')).toBe(btc);
    let accounts = await lockedAccounts(t.db, walletId);
    expect(accounts).toEqual({
      [code(btc)]: (await positionOf(t.db, btc)).collateral,
      [code(eth)]: (await positionOf(t.db, eth)).collateral,
    });
    // The wallet shows their sum as its one `locked`.
    expect(await lockedUsdt(token, walletId)).toBe(
      new Decimal(defined(accounts[code(btc)])).plus(defined(accounts[code(eth)])).toFixed(),
    );
    await expectReconciled(t.db);

    await closeShort(token, 'BTC', '0.06');
    expect((await lockedAccounts(t.db, walletId))[code(btc)]).toBe((await positionOf(t.db, btc)).collateral);
    await expectReconciled(t.db);

    await closeShort(token, 'BTC', '0.09');
    expect(await positionOf(t.db, btc)).toEqual({ status: 'closed', collateral: '0' });
    expect((await lockedAccounts(t.db, walletId))[code(btc)]).toBe('0');
    // A new short on the symbol is a new position, with an account of its own.
    const btcAgain = await short(token, 'BTC', '0.02');
    expect(btcAgain).not.toBe(btc);
    accounts = await lockedAccounts(t.db, walletId);
    expect(accounts[code(btcAgain)]).toBe((await positionOf(t.db, btcAgain)).collateral);
    await expectReconciled(t.db);

    // ETH jumps: the worker's check liquidates that short; its account is emptied, BTC's stays.
    t.binance!.setQuote('ETHUSDT', { last: '4500', bid: '4499.99', ask: '4500' });
    expect(await liquidateUnderwater(workerDeps(), ['ETHUSDT'])).toBe(1);
    expect(await positionOf(t.db, eth)).toEqual({ status: 'closed', collateral: '0' });
    accounts = await lockedAccounts(t.db, walletId);
    expect(accounts[code(eth)]).toBe('0');
    expect(await lockedUsdt(token, walletId)).toBe(accounts[code(btcAgain)]);
    await expectReconciled(t.db);

    // The history says `locked` for a purpose account, as it did for the one locked account.
    const history = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${walletId}/transactions`,
      headers: bearer(token),
    });
    expect(history.statusCode).toBe(200);
    expect(JSON.stringify(history.json())).toContain('"account":"locked"');
    expect(JSON.stringify(history.json())).not.toContain('short_collateral');
  });
});

describe('bet escrow, one account per wallet and asset', () => {
  it('holds the stakes of the pending bets and nothing once they are settled', async () => {
    t.binance!.setQuote('BTCUSDT', quoteAt('60000'));
    const { token, walletId } = await registerUser(t.app);
    const escrow = `wallet:${walletId}:USDT:locked:bet_escrow`;
    const bet = (stake: string, durationS: number) =>
      placedBet(t.app, token, {
        symbol: 'BTC',
        direction: 'up',
        stake,
        leverage: 5,
        duration_seconds: durationS,
      });
    const first = await bet('25.5', 1);
    const second = await bet('10', 1);
    const third = await bet('4.25', 3600);
    expect(await lockedAccounts(t.db, walletId)).toEqual({ [escrow]: '39.75' });
    expect(await lockedUsdt(token, walletId)).toBe('39.75');
    await expectReconciled(t.db);

    t.binance!.setQuote('BTCUSDT', quoteAt('60600'));
    await sleep(1_100);
    const deps = workerDeps();
    expect(await settleBets(deps, [first.id])).toMatchObject([{ kind: 'settled' }]);
    expect(await lockedAccounts(t.db, walletId)).toEqual({ [escrow]: '14.25' });
    await expectReconciled(t.db);
    expect(await settleBets(deps, [second.id])).toMatchObject([{ kind: 'settled' }]);
    expect(await lockedAccounts(t.db, walletId)).toEqual({ [escrow]: '4.25' });
    expect(await lockedUsdt(token, walletId)).toBe('4.25');
    await expectReconciled(t.db);
    expect(third.status).toBe('pending');
  });
});

describe('reconcile per purpose', () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it('reports an escrow, a collateral and an order reserve that their rows do not explain', async () => {
    database = await createTestDatabase();
    const { db } = database;
    const users = await db.execute<{ id: string }>(
      sql`insert into users (username, password_hash) values ('frank', 'x'), ('grace', 'x') returning id`,
    );
    const wallets = await db.execute<{ id: string }>(sql`
      insert into wallets (user_id, name, is_default)
      select id, 'Main', true from users where id = any(${sql.param(users.rows.map((u) => u.id))}::uuid[])
      returning id`);
    const [frank, grace] = wallets.rows.map((w) => w.id) as [string, string];
    const ledger = new Ledger();
    /** Moves `amount` USDT from `source` to `destination` in a journal of its own. */
    const move = (source: AccountRef, destination: AccountRef, amount: string) =>
      withTransaction(db, (tx) =>
        ledger.post(tx, {
          kind: 'test',
          postings: [{ source, destination, asset: 'USDT', amount: new Decimal(amount) }],
        }),
      );
    for (const walletId of [frank, grace]) await move(system('funding'), available(walletId), '1000');
    const graceGrant = await db.execute<{ id: string }>(
      sql`select max(id)::text as id from journal_transactions`,
    );

    // frank: escrow without a bet, a position with more collateral than its account holds, an
    // account of a position that does not exist, an order reserve with money in it.
    await move(available(frank), betEscrow(frank), '10');
    const position = await db.execute<{ id: string }>(sql`
      insert into positions (user_id, wallet_id, symbol, base_asset, quote_asset, status, quantity, entry_price,
                             collateral, margin, open_fees)
      select user_id, id, 'BTCUSDT', 'BTC', 'USDT', 'open', 0.001, 60000, 90, 30, 0.06 from wallets where id = ${frank}::uuid
      returning id`);
    const positionId = defined(position.rows[0]).id;
    await move(available(frank), shortCollateral(frank, positionId), '80');
    await move(available(frank), shortCollateral(frank, 'no-such-position'), '5');
    await move(available(frank), orderReserve(frank), '1');
    // grace: a pending bet whose stake never reached the escrow.
    await db.execute(sql`
      insert into bets (user_id, wallet_id, symbol, quote_asset, direction, stake, leverage, duration_ms, start_price,
                        due_at, place_journal_id)
      select user_id, id, 'BTCUSDT', 'USDT', 'up', 7, 1, 60000, 60000, now(), ${defined(graceGrant.rows[0]).id}::bigint
        from wallets where id = ${grace}::uuid`);

    const report = await reconcileAll(db);
    expect(report).toMatchObject({ unbalancedJournals: [], balanceMismatches: [], brokenChains: [] });
    const mismatch = (m: Omit<PurposeMismatch, 'asset'>) => ({ ...m, asset: 'USDT' });
    const byText = (a: PurposeMismatch, b: PurposeMismatch) =>
      JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect([...report.purposeMismatches].sort(byText)).toEqual(
      [
        mismatch({ purpose: 'order_reserve', walletId: frank, reference: null, balance: '1', expected: '0' }),
        mismatch({ purpose: 'bet_escrow', walletId: frank, reference: null, balance: '10', expected: '0' }),
        mismatch({ purpose: 'bet_escrow', walletId: grace, reference: null, balance: '0', expected: '7' }),
        mismatch({
          purpose: 'short_collateral',
          walletId: frank,
          reference: positionId,
          balance: '80',
          expected: '90',
        }),
        mismatch({
          purpose: 'short_collateral',
          walletId: frank,
          reference: 'no-such-position',
          balance: '5',
          expected: '0',
        }),
      ].sort(byText),
    );
    expect(isReconciled(report)).toBe(false);

    // The ledger alone knows no bets, positions or orders: it checks only the purpose that must hold 0.
    const ledgerOnly = await reconcile(db);
    expect(ledgerOnly.purposesChecked).toEqual(['legacy']);
    expect(ledgerOnly.purposeMismatches).toEqual([]);
  });
});
