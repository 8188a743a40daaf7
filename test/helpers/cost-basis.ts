/**
 * The reference the portfolio's stored books are checked against: the average-cost replay over every
 * fill of a wallet that `getPortfolio` ran on each request before the books existed, unchanged, and
 * readers of the orders and the stored books for comparing the two.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/platform/db/client.js';
import { Decimal, formatDecimal } from '../../src/shared/decimal.js';

/** A fill as the replay read it from the orders table. */
export interface ReplayedFill {
  baseAsset: string;
  side: string;
  quantity: string;
  notional: string;
  fee: string;
  realizedPnl: string | null;
}

/**
 * The reference: `getPortfolio`'s replay before the books (average-cost method over every fill of
 * the wallet in journal order, decimal.js arithmetic), unchanged.
 */
export function replayBooks(fills: ReplayedFill[]): {
  books: Map<string, { quantity: Decimal; cost: Decimal }>;
  realized: Decimal;
} {
  const books = new Map<string, { quantity: Decimal; cost: Decimal }>();
  let realized = new Decimal(0);
  for (const fill of fills) {
    if (fill.side === 'close_short') realized = realized.plus(fill.realizedPnl ?? 0);
    if (fill.side !== 'buy' && fill.side !== 'sell') continue;
    const book = books.get(fill.baseAsset) ?? { quantity: new Decimal(0), cost: new Decimal(0) };
    books.set(fill.baseAsset, book);
    if (fill.side === 'buy') {
      book.quantity = book.quantity.plus(fill.quantity);
      book.cost = book.cost.plus(fill.notional).plus(fill.fee);
      continue;
    }
    const sold = Decimal.min(fill.quantity, book.quantity);
    const soldCost = book.quantity.gt(0) ? book.cost.times(sold).div(book.quantity) : new Decimal(0);
    realized = realized.plus(new Decimal(fill.notional).minus(fill.fee).minus(soldCost));
    book.quantity = book.quantity.minus(sold);
    book.cost = book.cost.minus(soldCost);
  }
  return { books, realized };
}

/** Every fill of a wallet in journal order, as the replay read them. */
export async function walletFills(db: Db, walletId: string): Promise<ReplayedFill[]> {
  const rows = await db.execute<{
    base_asset: string;
    side: string;
    quantity: string;
    notional: string;
    fee: string;
    realized_pnl: string | null;
  }>(sql`
    select base_asset, side, quantity::text, notional::text, fee::text, realized_pnl::text
      from orders where wallet_id = ${walletId} order by journal_id`);
  return rows.rows.map((r) => ({
    baseAsset: r.base_asset,
    side: r.side,
    quantity: r.quantity,
    notional: r.notional,
    fee: r.fee,
    realizedPnl: r.realized_pnl,
  }));
}

/** The stored books of a wallet, values as decimal strings with no trailing zeros. */
export async function storedBooks(
  db: Db,
  walletId: string,
): Promise<{ books: Record<string, [string, string]>; realized: string | undefined }> {
  const books = await db.execute<{ asset: string; quantity: string; cost: string }>(
    sql`select asset, quantity::text, cost::text from cost_basis where wallet_id = ${walletId}`,
  );
  const pnl = await db.execute<{ realized_pnl: string }>(
    sql`select realized_pnl::text from wallet_pnl where wallet_id = ${walletId}`,
  );
  return {
    books: Object.fromEntries(
      books.rows.map((r) => [r.asset, [formatDecimal(r.quantity), formatDecimal(r.cost)]]),
    ),
    realized: pnl.rows[0] ? formatDecimal(pnl.rows[0].realized_pnl) : undefined,
  };
}

/** What the replay gives, in the shape of `storedBooks` (a wallet that never sold or closed has no P&L row). */
export function replayedAsStored(fills: ReplayedFill[]): {
  books: Record<string, [string, string]>;
  realized: string | undefined;
} {
  const { books, realized } = replayBooks(fills);
  return {
    books: Object.fromEntries(
      [...books].map(([asset, b]) => [asset, [formatDecimal(b.quantity), formatDecimal(b.cost)]]),
    ),
    realized: fills.some((f) => f.side === 'sell' || f.side === 'close_short')
      ? formatDecimal(realized)
      : undefined,
  };
}
