/**
 * Migration 0008 (locked accounts per purpose) on a database the previous version filled. The
 * database is built from the migrations up to 0007 only (a copy of the folder whose journal stops
 * there), then filled in SQL the way the old code wrote it: one `wallet:<id>:USDT:locked` account
 * per wallet holding the collateral of its open shorts and the stakes of its pending bets, with
 * chained entries, and the positions and bets rows that explain it; the old reconcile (the rules of
 * the entries) is clean. Then every migration is applied, and:
 * - the whole reconcile is clean, each purpose against its rows included;
 * - every wallet's available and locked per asset are what they were;
 * - each old locked account holding money got one `account_migration` journal summing to zero,
 *   and ends at 0 as a `legacy` account;
 * - the new code goes on from there (a short closes, a bet settles, from the new accounts).
 * Data the old accounts cannot explain stops the migration, which then changes nothing; a fresh
 * database migrates with nothing to move, and its constraints refuse an unnamed locked account.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { reconcileAll } from '../../../src/modules/admin/reconcile.js';
import { betOutcome, settlementPostings } from '../../../src/modules/bets/index.js';
import { completeBets } from '../../../src/modules/bets/repository.js';
import {
  Ledger,
  readWalletBalances,
  readWalletHistory,
  reconcileEntries,
} from '../../../src/modules/ledger/index.js';
import { lockPosition } from '../../../src/modules/trading/repository.js';
import { closeShort } from '../../../src/modules/trading/shorts.js';
import { createDb, type Db } from '../../../src/platform/db/client.js';
import { runMigrations } from '../../../src/platform/db/migrate.js';
import { createScratchDatabase } from '../../../src/platform/db/scratch.js';
import { violatedConstraint, withTransaction } from '../../../src/platform/db/tx.js';
import { defined } from '../../../src/shared/assert.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const MIGRATIONS_DIR = path.resolve('src/platform/db/migrations');
/** 0000 … 0007: the schema of the version before locked accounts per purpose. */
const MIGRATIONS_BEFORE_0008 = 8;

const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const database of databases.splice(0)) await database.drop();
});

/** A scratch database with only the first `count` migrations applied. */
async function databaseAtMigration(count: number): Promise<Db> {
  const database = await createEmptyDatabase();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-migrations-'));
  try {
    await fs.cp(MIGRATIONS_DIR, dir, { recursive: true });
    const journalPath = path.join(dir, 'meta', '_journal.json');
    const journal = JSON.parse(await fs.readFile(journalPath, 'utf8')) as { entries: unknown[] };
    journal.entries = journal.entries.slice(0, count);
    await fs.writeFile(journalPath, JSON.stringify(journal));
    await migrate(database.db, { migrationsFolder: dir });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return database.db;
}

/** An empty database, dropped after the test (createTestDatabase's are migrated already). */
async function createEmptyDatabase(): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_test');
  const db = createDb(scratch.url, 5);
  const database: TestDatabase = {
    url: scratch.url,
    db,
    drop: async () => {
      await db.$client.end();
      await scratch.drop();
    },
  };
  databases.push(database);
  return database;
}

/** The messages of an error and of its causes (Drizzle wraps the PostgreSQL error). */
function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages.join('\n');
}

type Code = string;
const walletCode = (walletId: string, asset: string, bucket: 'available' | 'locked') =>
  `wallet:${walletId}:${asset}:${bucket}`;
const systemCode = (name: string, asset: string) => `system:${name}:${asset}`;

/**
 * The ledger as the version before 0008 wrote it: accounts `wallet:<id>:<asset>:<bucket>` and
 * `system:<name>:<asset>`, one journal per call whose entries (two per posting, in one statement)
 * carry balance_before/after and the account version, and the stored balances updated.
 */
class OldLedger {
  private readonly accounts = new Map<Code, { id: number; balance: Decimal | null; version: number }>();

  constructor(private readonly db: Db) {}

  async post(
    kind: string,
    postings: [from: Code, to: Code, asset: string, amount: string][],
    metadata: Record<string, string> = {},
  ): Promise<number> {
    const entries: {
      account: number;
      asset: string;
      amount: Decimal;
      before: Decimal | null;
      version: number | null;
    }[] = [];
    const touch = async (code: Code, asset: string, amount: Decimal) => {
      const account = await this.account(code, asset);
      if (account.balance === null) {
        entries.push({ account: account.id, asset, amount, before: null, version: null });
        return;
      }
      account.version += 1;
      entries.push({ account: account.id, asset, amount, before: account.balance, version: account.version });
      account.balance = account.balance.plus(amount);
      expect(account.balance.isNegative(), `${code} stays ≥ 0`).toBe(false);
    };
    for (const [from, to, asset, amount] of postings) {
      await touch(from, asset, new Decimal(amount).negated());
      await touch(to, asset, new Decimal(amount));
    }
    const journal = await this.db.execute<{ id: string }>(
      sql`insert into journal_transactions (kind, metadata) values (${kind}, ${JSON.stringify(metadata)}::jsonb) returning id`,
    );
    const journalId = Number(defined(journal.rows[0]).id);
    const text = (values: (Decimal | number | null)[]) => values.map((v) => (v === null ? null : String(v)));
    await this.db.execute(sql`
      insert into ledger_entries (journal_id, account_id, asset, amount, balance_before, balance_after, account_version)
      select ${journalId}, x.account_id, x.asset, x.amount, x.before, x.before + x.amount, x.version
        from unnest(
          ${sql.param(entries.map((e) => e.account))}::bigint[],
          ${sql.param(entries.map((e) => e.asset))}::text[],
          ${sql.param(text(entries.map((e) => e.amount)))}::numeric[],
          ${sql.param(text(entries.map((e) => e.before)))}::numeric[],
          ${sql.param(text(entries.map((e) => e.version)))}::bigint[]
        ) with ordinality as x(account_id, asset, amount, before, version, n)
       order by x.n`);
    for (const account of this.accounts.values()) {
      if (account.balance === null) continue;
      await this.db.execute(
        sql`update ledger_accounts set balance = ${account.balance.toFixed()}, version = ${account.version} where id = ${account.id}`,
      );
    }
    return journalId;
  }

  private async account(code: Code, asset: string) {
    const known = this.accounts.get(code);
    if (known) return known;
    const [kind, owner, , bucket] = code.split(':');
    const row =
      kind === 'system'
        ? await this.db.execute<{ id: string }>(
            sql`insert into ledger_accounts (code, asset, bucket) values (${code}, ${asset}, 'system') returning id`,
          )
        : await this.db.execute<{ id: string }>(sql`
            insert into ledger_accounts (code, wallet_id, asset, bucket, balance)
            values (${code}, ${owner}::uuid, ${asset}, ${bucket}, 0) returning id`);
    const account = {
      id: Number(defined(row.rows[0]).id),
      balance: kind === 'system' ? null : new Decimal(0),
      version: 0,
    };
    this.accounts.set(code, account);
    return account;
  }
}

/** A user with `count` wallets (the first its default); their ids. */
async function userWithWallets(db: Db, username: string, count: number): Promise<string[]> {
  const user = await db.execute<{ id: string }>(
    sql`insert into users (username, password_hash) values (${username}, 'x') returning id`,
  );
  const userId = defined(user.rows[0]).id;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const wallet = await db.execute<{ id: string }>(sql`
      insert into wallets (user_id, name, is_default) values (${userId}::uuid, ${`Wallet ${i}`}, ${i === 0})
      returning id`);
    ids.push(defined(wallet.rows[0]).id);
  }
  return ids;
}

async function userOf(db: Db, walletId: string): Promise<string> {
  const rows = await db.execute<{ user_id: string }>(
    sql`select user_id from wallets where id = ${walletId}::uuid`,
  );
  return defined(rows.rows[0]).user_id;
}

/**
 * A short as the old code opened it: proceeds from the exchange and margin from the cash to the
 * locked account, the fee to the fee account, and its position row.
 */
async function oldShort(
  db: Db,
  ledger: OldLedger,
  walletId: string,
  symbol: string,
  quantity: string,
  price: string,
): Promise<{ positionId: string; collateral: Decimal }> {
  const notional = new Decimal(price).times(quantity);
  const margin = notional.times('0.5');
  const fee = notional.times('0.001');
  const usdt = (bucket: 'available' | 'locked') => walletCode(walletId, 'USDT', bucket);
  const collateral = notional.plus(margin);
  const position = await db.execute<{ id: string }>(sql`
    insert into positions (user_id, wallet_id, symbol, base_asset, quote_asset, status, quantity, entry_price,
                           collateral, margin, open_fees)
    values (${await userOf(db, walletId)}::uuid, ${walletId}::uuid, ${symbol}, ${symbol.replace('USDT', '')}, 'USDT',
            'open', ${quantity}, ${price}, ${collateral.toFixed()}, ${margin.toFixed()}, ${fee.toFixed()})
    returning id`);
  const positionId = defined(position.rows[0]).id;
  await ledger.post(
    'short_open',
    [
      [systemCode('exchange', 'USDT'), usdt('locked'), 'USDT', notional.toFixed()],
      [usdt('available'), usdt('locked'), 'USDT', margin.toFixed()],
      [usdt('available'), systemCode('fees', 'USDT'), 'USDT', fee.toFixed()],
    ],
    { symbol, position_id: positionId },
  );
  return { positionId, collateral };
}

/** The owner's full close of an old short at `price`: collateral back to the cash, buy-back and fee paid. */
async function oldClose(
  db: Db,
  ledger: OldLedger,
  walletId: string,
  positionId: string,
  price: string,
): Promise<void> {
  const rows = await db.execute<{ quantity: string; collateral: string }>(
    sql`select quantity, collateral from positions where id = ${positionId}::uuid`,
  );
  const { quantity, collateral } = defined(rows.rows[0]);
  const notional = new Decimal(price).times(quantity);
  const fee = notional.times('0.001');
  const usdt = (bucket: 'available' | 'locked') => walletCode(walletId, 'USDT', bucket);
  await ledger.post('short_close', [
    [usdt('locked'), usdt('available'), 'USDT', collateral],
    [usdt('available'), systemCode('exchange', 'USDT'), 'USDT', notional.toFixed()],
    [usdt('available'), systemCode('fees', 'USDT'), 'USDT', fee.toFixed()],
  ]);
  await db.execute(sql`
    update positions set status = 'closed', quantity = 0, collateral = 0, margin = 0, open_fees = 0, closed_at = now()
     where id = ${positionId}::uuid`);
}

/** A bet as the old code placed it (stake to the locked account), settled when `profit` is given. */
async function oldBet(
  db: Db,
  ledger: OldLedger,
  walletId: string,
  stake: string,
  profit?: string,
): Promise<string> {
  const usdt = (bucket: 'available' | 'locked') => walletCode(walletId, 'USDT', bucket);
  const placeJournalId = await ledger.post('bet_escrow', [
    [usdt('available'), usdt('locked'), 'USDT', stake],
  ]);
  const bet = await db.execute<{ id: string }>(sql`
    insert into bets (user_id, wallet_id, symbol, quote_asset, direction, stake, leverage, duration_ms, start_price,
                      due_at, place_journal_id)
    values (${await userOf(db, walletId)}::uuid, ${walletId}::uuid, 'BTCUSDT', 'USDT', 'up', ${stake}, 2, 60000,
            60000, now() + interval '1 minute', ${placeJournalId})
    returning id`);
  const betId = defined(bet.rows[0]).id;
  if (profit === undefined) return betId;
  const gain = new Decimal(profit);
  const postings: [Code, Code, string, string][] = [];
  if (gain.gt(0)) postings.push([systemCode('house', 'USDT'), usdt('available'), 'USDT', gain.toFixed()]);
  if (gain.lt(0))
    postings.push([usdt('locked'), systemCode('house', 'USDT'), 'USDT', gain.negated().toFixed()]);
  const returned = new Decimal(stake).plus(Decimal.min(gain, 0));
  if (returned.gt(0)) postings.push([usdt('locked'), usdt('available'), 'USDT', returned.toFixed()]);
  const settleJournalId = await ledger.post('bet_settlement', postings, { bet_id: betId });
  await db.execute(sql`
    update bets set status = 'completed', end_price = 61000, end_price_at = now(), settled_at = now(),
                    result = ${gain.gt(0) ? 'W' : gain.lt(0) ? 'L' : 'D'}, profit = ${profit},
                    settle_journal_id = ${settleJournalId}
     where id = ${betId}::uuid`);
  return betId;
}

/** Fills a database at migration 0007 as the old code would have; what it made. */
async function fillAsOldCode(db: Db) {
  const ledger = new OldLedger(db);
  const [alice, aliceSecond] = await userWithWallets(db, 'alice', 2);
  const [bob] = await userWithWallets(db, 'bob', 1);
  const [carol] = await userWithWallets(db, 'carol', 1);
  const [dave] = await userWithWallets(db, 'dave', 1);
  const wallets = [defined(alice), defined(aliceSecond), defined(bob), defined(carol), defined(dave)];
  for (const walletId of wallets)
    await ledger.post('registration_grant', [
      [systemCode('funding', 'USDT'), walletCode(walletId, 'USDT', 'available'), 'USDT', '10000'],
    ]);

  // alice: an open short, a closed one, a pending bet, a lost and a won bet, and some BTC bought.
  const aliceOpen = await oldShort(db, ledger, defined(alice), 'BTCUSDT', '0.05', '60000.12');
  const aliceClosed = await oldShort(db, ledger, defined(alice), 'ETHUSDT', '1.5', '3000');
  await oldClose(db, ledger, defined(alice), aliceClosed.positionId, '2950.5');
  const alicePending = await oldBet(db, ledger, defined(alice), '100.25');
  await oldBet(db, ledger, defined(alice), '50', '-50');
  await oldBet(db, ledger, defined(alice), '40', '12.5');
  await ledger.post('order_fill', [
    [walletCode(defined(alice), 'USDT', 'available'), systemCode('exchange', 'USDT'), 'USDT', '600'],
    [systemCode('exchange', 'BTC'), walletCode(defined(alice), 'BTC', 'available'), 'BTC', '0.01'],
  ]);
  // alice's second wallet: two open shorts and two pending bets (four postings out of one account).
  const secondShorts = [
    await oldShort(db, ledger, defined(aliceSecond), 'ETHUSDT', '0.3', '3010.01'),
    await oldShort(db, ledger, defined(aliceSecond), 'DOGEUSDT', '1000', '0.25'),
  ];
  await oldBet(db, ledger, defined(aliceSecond), '10');
  await oldBet(db, ledger, defined(aliceSecond), '20.5');
  // bob: pending bets only.
  await oldBet(db, ledger, defined(bob), '7.12345678');
  // carol: never locked anything (no locked account). dave: locked once, all of it released.
  await oldBet(db, ledger, defined(dave), '30', '-12');
  return { wallets, alice: defined(alice), aliceOpen, aliceClosed, alicePending, secondShorts };
}

async function accountsOf(db: Db) {
  const rows = await db.execute<{
    code: string;
    purpose: string | null;
    reference: string | null;
    balance: string | null;
  }>(
    sql`select code, purpose, reference, balance::text from ledger_accounts where bucket = 'locked' order by code`,
  );
  return rows.rows;
}

describe('migration 0008: locked accounts per purpose', () => {
  it('moves the old locked balances into purpose accounts with balanced journals and changes no wallet balance', async () => {
    const db = await databaseAtMigration(MIGRATIONS_BEFORE_0008);
    const made = await fillAsOldCode(db);
    const oldReport = await reconcileEntries(db);
    expect(oldReport).toMatchObject({ unbalancedJournals: [], balanceMismatches: [], brokenChains: [] });
    const before = await readWalletBalances(db, made.wallets);
    const historyBefore = await readWalletHistory(db, made.alice, 100, undefined);
    expect((before.get(made.alice) ?? []).find((b) => b.asset === 'USDT')?.locked).toBe(
      made.aliceOpen.collateral.plus('100.25').toFixed(8),
    );

    await runMigrations(db);

    const report = await reconcileAll(db);
    expect(report.purposesChecked).toEqual(['legacy', 'bet_escrow', 'short_collateral', 'order_reserve']);
    expect(report).toMatchObject({
      unbalancedJournals: [],
      balanceMismatches: [],
      brokenChains: [],
      purposeMismatches: [],
    });
    expect(report.assetTotals.every((t) => new Decimal(t.total).isZero())).toBe(true);
    expect(await readWalletBalances(db, made.wallets)).toEqual(before);

    // One journal per old account holding money (alice's two wallets, bob); each sums to zero.
    const journals = await db.execute<{ id: string; asset: string; total: string; entries: string }>(sql`
      select j.id::text, e.asset, sum(e.amount)::text as total, count(*)::text as entries
        from journal_transactions j join ledger_entries e on e.journal_id = j.id
       where j.kind = 'account_migration'
       group by j.id, e.asset order by j.id`);
    expect(journals.rows).toHaveLength(3);
    for (const row of journals.rows) expect(new Decimal(row.total).isZero()).toBe(true);
    // bob: his escrow; alice: her escrow and one short; her second wallet: its escrow and two shorts.
    expect(journals.rows.map((r) => Number(r.entries)).sort()).toEqual([2, 4, 6]);

    const alice = made.alice;
    const second = defined(made.wallets[1]);
    const accounts = await accountsOf(db);
    const byCode = new Map(accounts.map((a) => [a.code, a]));
    expect(
      byCode.get(`wallet:${alice}:USDT:locked:short_collateral:${made.aliceOpen.positionId}`),
    ).toMatchObject({
      purpose: 'short_collateral',
      reference: made.aliceOpen.positionId,
      balance: made.aliceOpen.collateral.toFixed(8),
    });
    expect(byCode.get(`wallet:${alice}:USDT:locked:bet_escrow`)?.balance).toBe('100.25000000');
    expect(byCode.get(`wallet:${second}:USDT:locked:bet_escrow`)?.balance).toBe('30.50000000');
    for (const short of made.secondShorts)
      expect(byCode.get(`wallet:${second}:USDT:locked:short_collateral:${short.positionId}`)?.balance).toBe(
        short.collateral.toFixed(8),
      );
    // The closed short gets no account; every old account is legacy and empty, carol never had one.
    expect(accounts.some((a) => a.reference === made.aliceClosed.positionId)).toBe(false);
    const legacy = accounts.filter((a) => a.purpose === 'legacy');
    expect(legacy.map((a) => a.code).sort()).toEqual(
      [0, 1, 2, 4].map((i) => `wallet:${made.wallets[i]}:USDT:locked`).sort(),
    );
    for (const account of legacy) expect(account.balance).toBe('0.00000000');

    // The history keeps saying `locked` for every locked account, old or new.
    const history = await readWalletHistory(db, alice, 100, undefined);
    expect(history.slice(1)).toEqual(historyBefore);
    expect(history[0]).toMatchObject({ kind: 'account_migration' });
    expect(defined(history[0]).entries.map((e) => e.account)).toEqual([
      'locked',
      'locked',
      'locked',
      'locked',
    ]);
  });

  it('lets the new code close a migrated short and settle a migrated bet from the new accounts', async () => {
    const db = await databaseAtMigration(MIGRATIONS_BEFORE_0008);
    const made = await fillAsOldCode(db);
    const before = await readWalletBalances(db, [made.alice]);
    await runMigrations(db);

    const ledger = new Ledger();
    await withTransaction(db, async (tx) => {
      const position = defined(await lockPosition(tx, made.aliceOpen.positionId));
      const price = new Decimal('59000');
      const notional = price.times(position.quantity);
      await closeShort(
        tx,
        ledger,
        position,
        { price, quantity: new Decimal(position.quantity), notional, fee: new Decimal(0) },
        false,
      );

      const bet = await tx.execute<{ stake: string }>(
        sql`select stake from bets where id = ${made.alicePending}::uuid`,
      );
      const stake = new Decimal(defined(bet.rows[0]).stake);
      const outcome = betOutcome('up', stake, 2, new Decimal(60000), new Decimal(61000));
      const journal = await ledger.post(tx, {
        kind: 'bet_settlement',
        postings: settlementPostings(made.alice, 'USDT', stake, outcome),
      });
      const now = new Date();
      await completeBets(tx, [
        {
          id: made.alicePending,
          endPrice: '61000',
          endPriceAt: now,
          result: outcome.result,
          profit: outcome.profit.toFixed(),
          settledAt: now,
          late: false,
          settleJournalId: journal.journalId,
        },
      ]);
    });

    const report = await reconcileAll(db);
    expect(report).toMatchObject({ balanceMismatches: [], brokenChains: [], purposeMismatches: [] });
    const usdt = (await readWalletBalances(db, [made.alice]))
      .get(made.alice)
      ?.find((b) => b.asset === 'USDT');
    expect(usdt?.locked).toBe('0.00000000');
    expect(
      new Decimal(defined(usdt).available).gt(
        defined(before.get(made.alice)?.find((b) => b.asset === 'USDT')).available,
      ),
    ).toBe(true);
  });

  it('stops, changing nothing, when an old locked account holds other than its shorts and bets', async () => {
    const db = await databaseAtMigration(MIGRATIONS_BEFORE_0008);
    const made = await fillAsOldCode(db);
    // A pending bet whose stake never reached the locked account.
    await db.execute(sql`
      insert into bets (user_id, wallet_id, symbol, quote_asset, direction, stake, leverage, duration_ms, start_price,
                        due_at, place_journal_id)
      select user_id, id, 'BTCUSDT', 'USDT', 'down', 5, 1, 60000, 60000, now(),
             (select max(id) from journal_transactions where kind = 'registration_grant')
        from wallets where id = ${made.alice}::uuid`);
    const before = await readWalletBalances(db, made.wallets);

    const error = await runMigrations(db).then(
      () => undefined,
      (e: unknown) => e,
    );
    // alice's account holds her short's collateral and 100.25 of stakes; her bets ask 5 more.
    const locked = made.aliceOpen.collateral.plus('100.25');
    expect(messagesOf(error)).toContain(
      `migration 0008: wallet ${made.alice} holds ${locked.toFixed(8)} USDT locked, but its open shorts' collateral and pending bets' stakes come to ${locked.plus(5).toFixed(8)}`,
    );

    const applied = await db.execute<{ n: string }>(
      sql`select count(*)::text as n from drizzle.__drizzle_migrations`,
    );
    expect(applied.rows[0]?.n).toBe(String(MIGRATIONS_BEFORE_0008));
    const columns = await db.execute(
      sql`select 1 from information_schema.columns where table_name = 'ledger_accounts' and column_name = 'purpose'`,
    );
    expect(columns.rows).toEqual([]);
    expect(await readWalletBalances(db, made.wallets)).toEqual(before);
  });

  it('migrates a fresh database with nothing to move; its constraints refuse a locked account of no purpose', async () => {
    const { db } = await createTestDatabase().then((database) => {
      databases.push(database);
      return database;
    });
    const report = await reconcileAll(db);
    expect(report).toMatchObject({ unbalancedJournals: [], purposeMismatches: [], assetTotals: [] });
    const [walletId] = await userWithWallets(db, 'erin', 1);
    const insert = (code: string, purpose: string | null, reference: string | null, balance = '0') =>
      db.execute(sql`
        insert into ledger_accounts (code, wallet_id, asset, bucket, purpose, reference, balance)
        values (${code}, ${walletId}::uuid, 'USDT', 'locked', ${purpose}, ${reference}, ${balance})`);
    const refusedBy = (insert: Promise<unknown>) => insert.then(() => 'accepted', violatedConstraint);
    const code = `wallet:${walletId}:USDT:locked`;
    expect(await refusedBy(insert(code, null, null))).toBe('ledger_accounts_purpose_check');
    expect(await refusedBy(insert(code, 'margin', null))).toBe('ledger_accounts_purpose_check');
    expect(await refusedBy(insert(code, 'short_collateral', null))).toBe('ledger_accounts_reference_check');
    expect(await refusedBy(insert(code, 'bet_escrow', 'x'))).toBe('ledger_accounts_reference_check');
    expect(await refusedBy(insert(code, 'legacy', null, '1'))).toBe('ledger_accounts_legacy_empty_check');
    const availableWithPurpose = db.execute(sql`
      insert into ledger_accounts (code, wallet_id, asset, bucket, purpose, balance)
      values (${`wallet:${walletId}:USDT:available`}, ${walletId}::uuid, 'USDT', 'available', 'bet_escrow', 0)`);
    expect(await refusedBy(availableWithPurpose)).toBe('ledger_accounts_purpose_check');
    await insert(`${code}:bet_escrow`, 'bet_escrow', null);
  });
});
