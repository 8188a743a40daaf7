import { sql } from 'drizzle-orm';
import type { Queryable, Tx } from '../../platform/db/client.js';
import { assert } from '../../shared/assert.js';
import { AMOUNT_SCALE, Decimal } from '../../shared/decimal.js';
import type { OrderRow } from './repository.js';

/**
 * The books the portfolio reads instead of replaying a wallet's fills: per wallet and asset the
 * average-cost book (`cost_basis`), per wallet the realized P&L (`wallet_pnl`). Every writer of an
 * order calls `applyFillsToBooks` in the transaction that writes it, so the books always hold what a
 * replay of the wallet's fills in journal order would give — to the digit: the arithmetic is the
 * replay's own (decimal.js, 60 significant digits, half up) and the columns are NUMERIC without a
 * scale, so nothing is rounded on the way in or out.
 */

/** What the books read of a fill: these fields of its (filled) order row. */
export type BookedFill = Pick<OrderRow, 'walletId' | 'baseAsset' | 'side' | 'quantity'> & {
  /** quote asset */
  notional: string;
  /** quote asset */
  fee: string;
  /** the fill's journal */
  journalId: number;
  /** close_short only, quote asset */
  realizedPnl?: string | null | undefined;
};

/**
 * The fill of a filled order row, for the books.
 * @throws {Error} when the row is not filled (a bug)
 */
export function bookedFillOf(order: OrderRow): BookedFill {
  const { notional, fee, journalId } = order;
  assert(
    order.status === 'filled' && notional !== null && fee !== null && journalId !== null,
    'a filled order',
  );
  return { ...order, notional, fee, journalId };
}

/** The average-cost book of one asset: the units it holds (base asset) and what they cost (quote asset, fees included). */
export interface CostBook {
  quantity: Decimal;
  cost: Decimal;
}

/**
 * Applies a buy or a sell to `book` (changed in place) by the average-cost method: a buy adds its
 * quantity, and its notional and fee to the cost; a sell takes out what it sold — at most what the
 * book holds, since units deposited carry no cost — at the average cost, and realizes the rest of
 * its notional, net of its fee. Pure. The order of the operations is part of the result (each is
 * rounded to 60 significant digits): the migration's backfill repeats them one by one.
 * @returns the P&L the fill realized, quote asset (0 for a buy)
 */
export function bookFill(
  book: CostBook,
  fill: Pick<BookedFill, 'side' | 'quantity' | 'notional' | 'fee'> & { side: 'buy' | 'sell' },
): Decimal {
  if (fill.side === 'buy') {
    book.quantity = book.quantity.plus(fill.quantity);
    book.cost = book.cost.plus(fill.notional).plus(fill.fee);
    return new Decimal(0);
  }
  const sold = Decimal.min(fill.quantity, book.quantity);
  const soldCost = book.quantity.gt(0) ? book.cost.times(sold).div(book.quantity) : new Decimal(0);
  book.quantity = book.quantity.minus(sold);
  book.cost = book.cost.minus(soldCost);
  return new Decimal(fill.notional).minus(fill.fee).minus(soldCost);
}

/** A book row as locked: its state, the last journal applied, and whether it is stored yet. */
interface LockedBook extends CostBook {
  walletId: string;
  asset: string;
  lastJournalId: number;
  stored: boolean;
}

interface LockedPnl {
  walletId: string;
  realizedPnl: Decimal;
  lastJournalId: number;
  stored: boolean;
}

const bookKey = (walletId: string, asset: string) => `${walletId}/${asset}`;

/**
 * Applies written fills to their wallets' books, in journal order, in `tx` — the transaction that
 * wrote them, after the ledger (whose locks on the wallet's accounts already serialize every fill of
 * a wallet, in journal order). Takes one statement to lock and read the rows it changes, in
 * (wallet_id, asset) order, and one to write them, whatever the number of fills (a group commit
 * passes up to 128). Shorts change no book; a close_short adds its realized P&L to the wallet's.
 * @param fills order rows just written (or about to be, with their journal ids), in any order
 */
export async function applyFillsToBooks(tx: Tx, fills: readonly BookedFill[]): Promise<void> {
  const booked = fills.filter((f) => f.side !== 'short').sort((a, b) => a.journalId - b.journalId);
  if (booked.length === 0) return;
  for (const fill of booked) {
    // The values the replay would read back from NUMERIC(38,8) columns: the same, or a bug.
    for (const amount of [fill.quantity, fill.notional, fill.fee, fill.realizedPnl ?? '0'])
      assert(new Decimal(amount).decimalPlaces() <= AMOUNT_SCALE, 'a fill amount has at most 8 decimals');
    assert(fill.side !== 'close_short' || fill.realizedPnl != null, 'a close_short carries its realized P&L');
  }
  const bookKeys = new Map<string, { walletId: string; asset: string }>();
  const pnlWalletIds = new Set<string>();
  for (const fill of booked) {
    if (fill.side === 'buy' || fill.side === 'sell')
      bookKeys.set(bookKey(fill.walletId, fill.baseAsset), {
        walletId: fill.walletId,
        asset: fill.baseAsset,
      });
    if (fill.side !== 'buy') pnlWalletIds.add(fill.walletId);
  }
  const { books, pnls } = await lockBooks(tx, [...bookKeys.values()], [...pnlWalletIds]);

  for (const fill of booked) {
    const { side } = fill;
    let realized: Decimal;
    if (side === 'close_short') {
      realized = new Decimal(fill.realizedPnl ?? 0);
    } else {
      const book = books.get(bookKey(fill.walletId, fill.baseAsset));
      assert(book, 'the book of a fill is locked');
      assert(fill.journalId > book.lastJournalId, 'fills are applied to a book in journal order');
      realized = bookFill(book, { ...fill, side: side === 'buy' ? 'buy' : 'sell' });
      book.lastJournalId = fill.journalId;
    }
    if (side === 'buy') continue;
    const pnl = pnls.get(fill.walletId);
    assert(pnl, 'the P&L of a fill’s wallet is locked');
    // Not asserted to come in journal order, unlike a book: a liquidation's close locks no account
    // a sell of the same wallet locks (only its short's), so their journal ids may commit in either
    // order; a sum is the same in any order (to 60 significant digits).
    pnl.realizedPnl = pnl.realizedPnl.plus(realized);
    pnl.lastJournalId = Math.max(pnl.lastJournalId, fill.journalId);
  }
  await writeBooks(tx, [...books.values()], [...pnls.values()]);
}

/** Locks the books and P&L rows named (those stored), in key order; the missing ones start at zero. */
async function lockBooks(
  tx: Tx,
  keys: { walletId: string; asset: string }[],
  walletIds: string[],
): Promise<{ books: Map<string, LockedBook>; pnls: Map<string, LockedPnl> }> {
  // A wallet's P&L row is made first (at zero) when it may be new: a liquidation's close and a sell
  // of the same wallet lock no ledger account in common, so both could insert it at once and one
  // would fail with a unique violation; this way the second queues on the first's row. (A book
  // needs none of this: every buy or sell of a wallet locks its available quote account first.)
  if (walletIds.length > 0) {
    await tx.execute(sql`
      insert into wallet_pnl (wallet_id, realized_pnl, last_journal_id)
      select w, 0, 0 from unnest(${sql.param(walletIds)}::uuid[]) as w order by w
      on conflict do nothing`);
  }
  const result = await tx.execute<{
    wallet_id: string;
    asset: string | null;
    quantity: string | null;
    cost: string | null;
    realized_pnl: string | null;
    last_journal_id: string;
  }>(sql`
    with books as (
      select b.wallet_id, b.asset, b.quantity, b.cost, b.last_journal_id
        from cost_basis b
        join unnest(${sql.param(keys.map((k) => k.walletId))}::uuid[], ${sql.param(keys.map((k) => k.asset))}::text[])
          as k(wallet_id, asset) on b.wallet_id = k.wallet_id and b.asset = k.asset
       order by b.wallet_id, b.asset
         for update of b
    ), pnls as (
      select wallet_id, realized_pnl, last_journal_id from wallet_pnl
       where wallet_id = any(${sql.param(walletIds)}::uuid[])
       order by wallet_id
         for update
    )
    select wallet_id, asset, quantity::text, cost::text, null::text as realized_pnl, last_journal_id from books
    union all
    select wallet_id, null, null, null, realized_pnl::text, last_journal_id from pnls`);
  const books = new Map<string, LockedBook>();
  for (const { walletId, asset } of keys) {
    books.set(bookKey(walletId, asset), {
      walletId,
      asset,
      quantity: new Decimal(0),
      cost: new Decimal(0),
      lastJournalId: 0,
      stored: false,
    });
  }
  const pnls = new Map<string, LockedPnl>(
    walletIds.map((walletId) => [
      walletId,
      { walletId, realizedPnl: new Decimal(0), lastJournalId: 0, stored: false },
    ]),
  );
  for (const row of result.rows) {
    const lastJournalId = Number(row.last_journal_id);
    if (row.asset === null) {
      pnls.set(row.wallet_id, {
        walletId: row.wallet_id,
        realizedPnl: new Decimal(row.realized_pnl ?? 0),
        lastJournalId,
        stored: true,
      });
    } else {
      books.set(bookKey(row.wallet_id, row.asset), {
        walletId: row.wallet_id,
        asset: row.asset,
        quantity: new Decimal(row.quantity ?? 0),
        cost: new Decimal(row.cost ?? 0),
        lastJournalId,
        stored: true,
      });
    }
  }
  return { books, pnls };
}

/**
 * Writes the books back in one statement: updates the stored rows (locked by `lockBooks`), inserts
 * the new ones — a row some other transaction inserted meanwhile would be a unique violation, never
 * a lost update.
 */
async function writeBooks(tx: Tx, books: LockedBook[], pnls: LockedPnl[]): Promise<void> {
  const text = (value: Decimal) => value.toFixed();
  const result = await tx.execute<{ books: string; pnls: string }>(sql`
    with book_rows as (
      select * from unnest(
        ${sql.param(books.map((b) => b.walletId))}::uuid[], ${sql.param(books.map((b) => b.asset))}::text[],
        ${sql.param(books.map((b) => text(b.quantity)))}::numeric[],
        ${sql.param(books.map((b) => text(b.cost)))}::numeric[],
        ${sql.param(books.map((b) => b.lastJournalId))}::bigint[], ${sql.param(books.map((b) => b.stored))}::boolean[]
      ) as v(wallet_id, asset, quantity, cost, last_journal_id, stored)
    ), pnl_rows as (
      select * from unnest(
        ${sql.param(pnls.map((p) => p.walletId))}::uuid[],
        ${sql.param(pnls.map((p) => text(p.realizedPnl)))}::numeric[],
        ${sql.param(pnls.map((p) => p.lastJournalId))}::bigint[], ${sql.param(pnls.map((p) => p.stored))}::boolean[]
      ) as v(wallet_id, realized_pnl, last_journal_id, stored)
    ), updated_books as (
      update cost_basis b
         set quantity = v.quantity, cost = v.cost, last_journal_id = v.last_journal_id
        from book_rows v
       where v.stored and b.wallet_id = v.wallet_id and b.asset = v.asset
      returning 1
    ), inserted_books as (
      insert into cost_basis (wallet_id, asset, quantity, cost, last_journal_id)
      select wallet_id, asset, quantity, cost, last_journal_id from book_rows
       where not stored order by wallet_id, asset
      returning 1
    ), updated_pnls as (
      update wallet_pnl p
         set realized_pnl = v.realized_pnl, last_journal_id = v.last_journal_id
        from pnl_rows v
       where v.stored and p.wallet_id = v.wallet_id
      returning 1
    ), inserted_pnls as (
      insert into wallet_pnl (wallet_id, realized_pnl, last_journal_id)
      select wallet_id, realized_pnl, last_journal_id from pnl_rows
       where not stored order by wallet_id
      returning 1
    )
    select (select count(*) from updated_books) + (select count(*) from inserted_books) as books,
           (select count(*) from updated_pnls) + (select count(*) from inserted_pnls) as pnls`);
  const row = result.rows[0];
  assert(
    Number(row?.books) === books.length && Number(row?.pnls) === pnls.length,
    'every book and P&L row is written',
  );
}

/**
 * A wallet's books as the portfolio reads them, in one query: one row per asset it ever bought or
 * sold, plus its realized P&L (quote asset; 0 before its first sell or close).
 */
export async function readBooks(
  db: Queryable,
  walletId: string,
): Promise<{ books: Map<string, CostBook>; realizedPnl: Decimal }> {
  const result = await db.execute<{
    asset: string | null;
    quantity: string | null;
    cost: string | null;
    realized_pnl: string | null;
  }>(sql`
    select asset, quantity::text, cost::text, null::text as realized_pnl from cost_basis where wallet_id = ${walletId}
    union all
    select null, null, null, realized_pnl::text from wallet_pnl where wallet_id = ${walletId}`);
  const books = new Map<string, CostBook>();
  let realizedPnl = new Decimal(0);
  for (const row of result.rows) {
    if (row.asset === null) realizedPnl = new Decimal(row.realized_pnl ?? 0);
    else books.set(row.asset, { quantity: new Decimal(row.quantity ?? 0), cost: new Decimal(row.cost ?? 0) });
  }
  return { books, realizedPnl };
}
