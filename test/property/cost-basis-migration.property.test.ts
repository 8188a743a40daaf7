/**
 * The cost-basis migration's backfill against the replay it replaces, on databases filled before
 * the migration: each is migrated with every migration but this one (a copy of the folder whose
 * journal leaves it out), filled through SQL with random fills of several wallets — amounts from
 * 10^-8 to 10^15, sells beyond the book, journal order unlike insertion order — and then migrated
 * to the end. Then:
 * - every wallet's books are, digit for digit, `replayBooks` over its fills;
 * - `applyFillsToBooks` goes on from the backfilled books: after one more buy and sell per wallet
 *   the books are still the replay's.
 * Before that, the migration's SQL helpers are checked against decimal.js itself (precision 60,
 * half up) on random operands, ties and runs of nines: the backfill is exact only if they are.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyFillsToBooks, type BookedFill } from '../../src/modules/trading/cost-basis.js';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { runMigrations } from '../../src/platform/db/migrate.js';
import { createScratchDatabase } from '../../src/platform/db/scratch.js';
import { withTransaction } from '../../src/platform/db/tx.js';
import { Decimal } from '../../src/shared/decimal.js';
import { replayedAsStored, storedBooks, walletFills } from '../helpers/cost-basis.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/platform/db/migrations', import.meta.url));
const OURS = /^\d{4}_cost_basis$/;

interface JournalEntry {
  tag: string;
}

let folder: string;
let ourSql: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'pb-migrations-'));
  await cp(MIGRATIONS_DIR, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: JournalEntry[] };
  // Ours and every later one are left out of the scratch folder (drizzle applies only migrations
  // newer than the newest one applied); runMigrations applies them from the real folder.
  const ours = journal.entries.findIndex((e) => OURS.test(e.tag));
  expect(ours).toBeGreaterThan(0);
  ourSql = await readFile(path.join(MIGRATIONS_DIR, `${journal.entries[ours]?.tag}.sql`), 'utf8');
  journal.entries = journal.entries.slice(0, ours);
  await writeFile(journalPath, JSON.stringify(journal));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Runs `work` on a database of its own at the migration before ours, dropped afterwards. */
async function onDatabaseBeforeOurs(work: (db: Db) => Promise<void>): Promise<void> {
  const scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_test');
  const db = createDb(scratch.url, 4);
  try {
    await migrate(db, { migrationsFolder: folder });
    const tables = await db.execute(sql`select 1 from pg_tables where tablename = 'cost_basis'`);
    expect(tables.rows).toEqual([]);
    await work(db);
  } finally {
    await db.$client.end();
    await scratch.drop();
  }
}

/** A decimal string of the value, zero unsigned (decimal.js keeps a sign on zero, NUMERIC does not). */
function text(value: Decimal | string): string {
  const d = new Decimal(value);
  return d.isZero() ? '0' : d.toFixed();
}

describe('the migration’s SQL helpers', () => {
  const digits = (minLength: number, maxLength: number) =>
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });
  const sign = fc.constantFrom('', '-');
  const plain = fc
    .tuple(sign, digits(1, 25), digits(0, 45))
    .map(([s, int, frac]) => `${s}${int}${frac ? `.${frac}` : ''}`);
  /** 61 significant digits ending in 5: exactly half way at 60 */
  const tie = fc
    .tuple(sign, digits(59, 59), fc.integer({ min: -50, max: 20 }))
    .map(([s, body, exponent]) => `${s}${new Decimal(`1${body}5e${exponent}`).toFixed()}`);
  /** a run of nines longer than 60: rounds up to the next power of ten */
  const nines = fc
    .tuple(sign, fc.integer({ min: 55, max: 70 }), fc.integer({ min: -60, max: 10 }))
    .map(([s, n, exponent]) => `${s}${new Decimal(`${'9'.repeat(n)}e${exponent}`).toFixed()}`);
  const operand = fc.oneof(
    { weight: 6, arbitrary: plain },
    { weight: 1, arbitrary: tie },
    { weight: 1, arbitrary: nines },
  );
  const divisor = fc.oneof(
    { weight: 6, arbitrary: operand.filter((v) => !new Decimal(v).isZero()) },
    { weight: 1, arbitrary: fc.constantFrom('1', '-1', '10', '0.1', '2', '3', '7') },
  );

  it('round, +, −, × and ÷ at 60 significant digits as decimal.js', async () => {
    await onDatabaseBeforeOurs(async (db) => {
      const helpers = ourSql
        .split('--> statement-breakpoint')
        .filter((statement) => /CREATE FUNCTION cost_basis_/.test(statement));
      expect(helpers).toHaveLength(3);
      for (const statement of helpers) await db.execute(sql.raw(statement));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(operand, divisor), { minLength: 1, maxLength: 200 }),
          async (pairs) => {
            const result = await db.execute<{
              round: string;
              plus: string;
              minus: string;
              times: string;
              div: string;
            }>(sql`
          select cost_basis_round(a)::text as round, cost_basis_round(a + b)::text as plus,
                 cost_basis_round(a - b)::text as minus, cost_basis_round(a * b)::text as times,
                 cost_basis_div(a, b)::text as div
            from unnest(${sql.param(pairs.map((p) => p[0]))}::numeric[], ${sql.param(pairs.map((p) => p[1]))}::numeric[])
                 with ordinality as x(a, b, n)
           order by n`);
            const got = result.rows.map((r) => [r.round, r.plus, r.minus, r.times, r.div].map(text));
            const expected = pairs.map(([a, b]) =>
              [
                // decimal.js keeps every digit of a value it is given: rounding is that of an operation
                new Decimal(a).plus(0),
                new Decimal(a).plus(b),
                new Decimal(a).minus(b),
                new Decimal(a).times(b),
                new Decimal(a).div(b),
              ].map(text),
            );
            expect(got).toEqual(expected);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

type Side = 'buy' | 'sell' | 'short' | 'close_short';
interface SeedFill {
  wallet: number;
  side: Side;
  asset: string;
  quantity: string;
  notional: string;
  fee: string;
  realizedPnl: string;
}

const WALLET_COUNT = 5;
/** a positive 8-decimal amount: mostly small, sometimes up to 10^15 (60-digit rounding then bites) */
const amount = fc
  .oneof(
    { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 12n }) },
    { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 23n }) },
  )
  .map((n) => new Decimal(n.toString()).div(1e8).toFixed());
const seedFill: fc.Arbitrary<SeedFill> = fc.record({
  wallet: fc.nat(WALLET_COUNT - 1),
  side: fc.constantFrom<Side>('buy', 'buy', 'sell', 'sell', 'short', 'close_short'),
  asset: fc.constantFrom('AAA', 'BBB', 'CCC'),
  quantity: amount,
  notional: amount,
  fee: fc.oneof(fc.constant('0'), amount),
  realizedPnl: fc.tuple(fc.constantFrom('', '-'), amount).map(([s, a]) => `${s}${a}`),
});

/** Users, wallets and one (closed) position per wallet for the shorts' orders to name. */
async function seedWallets(db: Db): Promise<{ userId: string; walletId: string; positionId: string }[]> {
  const owners = [];
  for (let n = 0; n < WALLET_COUNT; n++) {
    const user = await db.execute<{ id: string }>(
      sql`insert into users (username, password_hash) values (${`seed_${n}`}, 'x') returning id`,
    );
    const userId = String(user.rows[0]?.id);
    const wallet = await db.execute<{ id: string }>(
      sql`insert into wallets (user_id, name, is_default) values (${userId}, 'Main', true) returning id`,
    );
    const walletId = String(wallet.rows[0]?.id);
    const position = await db.execute<{ id: string }>(sql`
      insert into positions (user_id, wallet_id, symbol, base_asset, quote_asset, status, quantity, entry_price,
                             collateral, margin, open_fees, closed_at)
      values (${userId}, ${walletId}, 'AAAUSDT', 'AAA', 'USDT', 'closed', 0, 1, 0, 0, 0, now()) returning id`);
    owners.push({ userId, walletId, positionId: String(position.rows[0]?.id) });
  }
  return owners;
}

/** Writes the fills' journals in order and their orders in reverse, so that no physical order is journal order. */
async function seedFills(
  db: Db,
  owners: { userId: string; walletId: string; positionId: string }[],
  fills: SeedFill[],
): Promise<void> {
  const journals = await db.execute<{ id: string }>(sql`
    insert into journal_transactions (kind)
    select 'order_fill' from generate_series(1, ${fills.length}::int) order by 1 returning id`);
  const ids = journals.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  const rows = fills.map((fill, n) => ({ fill, owner: owners[fill.wallet], journalId: ids[n] })).reverse();
  const column = (pick: (row: (typeof rows)[number]) => string | number | null | undefined) =>
    sql.param(rows.map((row) => pick(row) ?? null));
  const short = (row: (typeof rows)[number]) => row.fill.side === 'short' || row.fill.side === 'close_short';
  await db.execute(sql`
    insert into orders (user_id, wallet_id, symbol, base_asset, quote_asset, side, quantity, price, notional, fee,
                        status, position_id, realized_pnl, journal_id)
    select u, w, s || 'USDT', s, 'USDT', side, q, 1, n, f, 'filled', p, r, j
      from unnest(${column((r) => r.owner?.userId)}::uuid[], ${column((r) => r.owner?.walletId)}::uuid[],
                  ${column((r) => r.fill.asset)}::text[], ${column((r) => r.fill.side)}::text[],
                  ${column((r) => r.fill.quantity)}::numeric[], ${column((r) => r.fill.notional)}::numeric[],
                  ${column((r) => r.fill.fee)}::numeric[],
                  ${column((r) => (short(r) ? r.owner?.positionId : null))}::uuid[],
                  ${column((r) => (r.fill.side === 'close_short' ? r.fill.realizedPnl : null))}::numeric[],
                  ${column((r) => r.journalId)}::bigint[])
           as x(u, w, s, side, q, n, f, p, r, j)`);
}

/** One more fill written as the app writes it: journal, order row and books in one transaction. */
async function writeFill(
  db: Db,
  owner: { userId: string; walletId: string },
  fill: Omit<BookedFill, 'walletId' | 'journalId'>,
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const journal = await tx.execute<{ id: string }>(
      sql`insert into journal_transactions (kind) values ('order_fill') returning id`,
    );
    const journalId = Number(journal.rows[0]?.id);
    await tx.execute(sql`
      insert into orders (user_id, wallet_id, symbol, base_asset, quote_asset, side, quantity, avg_fill_price,
                          notional, fee, liquidity, status, journal_id)
      values (${owner.userId}, ${owner.walletId}, ${`${fill.baseAsset}USDT`}, ${fill.baseAsset}, 'USDT',
              ${fill.side}, ${fill.quantity}, 1, ${fill.notional}, ${fill.fee}, 'taker', 'filled', ${journalId})`);
    await applyFillsToBooks(tx, [{ ...fill, walletId: owner.walletId, journalId }]);
  });
}

/** A wallet that buys 1 for 10 and sells a third three times, then the rest: cost with 60 digits, and what is left of it. */
const THIRDS: SeedFill[] = (
  [
    { side: 'buy', quantity: '1', notional: '10', fee: '0.01' },
    { side: 'sell', quantity: '0.33333333', notional: '4', fee: '0.004' },
    { side: 'sell', quantity: '0.33333333', notional: '4', fee: '0.004' },
    { side: 'buy', quantity: '0.7', notional: '7.77777777', fee: '0.00777778' },
    { side: 'sell', quantity: '0.33333333', notional: '3', fee: '0.003' },
    { side: 'sell', quantity: '5', notional: '9', fee: '0.009' },
    { side: 'close_short', quantity: '1', notional: '1', fee: '0', realizedPnl: '-0.12345678' },
    { side: 'buy', quantity: '3', notional: '999999999999999.99999999', fee: '999999999999.99999999' },
    { side: 'sell', quantity: '0.00000007', notional: '1', fee: '0' },
  ] as Omit<SeedFill, 'wallet' | 'asset' | 'realizedPnl'>[]
).map((f) => ({ wallet: 0, asset: 'AAA', realizedPnl: '0', ...f }));

describe('the cost-basis backfill', () => {
  it('gives every wallet the books the replay of its fills gives, and new fills go on from them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(seedFill, { minLength: 150, maxLength: 400 }),
        fc.array(amount, { minLength: 2, maxLength: 2 }),
        async (fills, [buy, sell]) => {
          await onDatabaseBeforeOurs(async (db) => {
            const owners = await seedWallets(db);
            await seedFills(db, owners, fills);
            await runMigrations(db);

            for (const owner of owners) {
              const replayed = replayedAsStored(await walletFills(db, owner.walletId));
              expect(await storedBooks(db, owner.walletId)).toEqual(replayed);
            }
            for (const owner of owners) {
              const fill = { baseAsset: 'AAA', notional: buy ?? '1', fee: '0.00000001' };
              await writeFill(db, owner, { ...fill, side: 'buy', quantity: sell ?? '1' });
              await writeFill(db, owner, { ...fill, side: 'sell', quantity: buy ?? '1' });
              const replayed = replayedAsStored(await walletFills(db, owner.walletId));
              expect(await storedBooks(db, owner.walletId)).toEqual(replayed);
            }
            const helpers = await db.execute(
              sql`select proname from pg_proc where proname like 'cost_basis_%'`,
            );
            expect(helpers.rows).toEqual([]);
          });
        },
      ),
      // One database per run: a failure is reported as found, not shrunk database by database.
      { numRuns: 5, endOnFailure: true, examples: [[THIRDS, ['1', '2']]] },
    );
  });
});
