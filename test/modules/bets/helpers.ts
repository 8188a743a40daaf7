import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { BetView } from '../../../src/modules/bets/index.js';
import type { Db } from '../../../src/platform/db/client.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer } from '../../helpers/app.js';

/** A POST as `token`'s user; an object payload goes as JSON, a string as it is. */
function postAs(url: string) {
  return (app: FastifyInstance, token: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(token), 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
}

/** `POST /api/v1/bets`. */
export const postBet = postAs('/api/v1/bets');
/** Seed 002's `POST /api/v1/trade_it/`. */
export const postTrade = postAs('/api/v1/trade_it/');

/** `POST /api/v1/bets` as `token`'s user, expecting 201; the bet placed. */
export async function placedBet(app: FastifyInstance, token: string, payload: unknown): Promise<BetView> {
  const res = await postBet(app, token, payload);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<BetView>();
}

/** `GET /api/v1/bets/{id}` as `token`'s user, expecting 200. */
export async function getBet(app: FastifyInstance, token: string, betId: string): Promise<BetView> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/bets/${betId}`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<BetView>();
}

/** Polls `check` every 50 ms until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Waits until the bet is completed and returns it. */
export async function settled(app: FastifyInstance, token: string, betId: string): Promise<BetView> {
  return await eventually(async () => {
    const bet = await getBet(app, token, betId);
    return bet.status === 'completed' ? bet : undefined;
  });
}

/** A quote with bid = last − 0.5 and ask = last + 0.5, so a test sees that bets use `last`. */
export function quoteAt(last: string): { last: string; bid: string; ask: string } {
  const price = new Decimal(last);
  return { last, bid: price.minus('0.5').toFixed(), ask: price.plus('0.5').toFixed() };
}

/** A bet as its row stores it, for tests that check settlement in SQL (the real program's database). */
export type BetRow = {
  id: string;
  status: string;
  late: boolean;
  profit: string | null;
  due_at: Date;
  settled_at: Date | null;
};

/** The rows of the bets `ids`, in id order. */
export async function betRows(db: Db, ids: string[]): Promise<BetRow[]> {
  type Raw = Omit<BetRow, 'due_at' | 'settled_at'> & { due_at: string; settled_at: string | null };
  // Drizzle's connection hands timestamps over as text.
  const rows = await db.execute<Raw>(sql`
    select id, status, late, profit, due_at, settled_at from bets
     where id = any(${sql.param(ids)}::uuid[]) order by id`);
  return rows.rows.map((row) => ({
    ...row,
    due_at: new Date(row.due_at),
    settled_at: row.settled_at === null ? null : new Date(row.settled_at),
  }));
}

/**
 * How many `bet_settlement` journals each of the bets `ids` has (SPEC §5 rule 4: exactly one once
 * settled); a bet without one is absent from the map.
 */
export async function settlementJournalCounts(db: Db, ids: string[]): Promise<Map<string, number>> {
  const rows = await db.execute<{ bet_id: string; n: number }>(sql`
    select metadata->>'bet_id' as bet_id, count(*)::int as n from journal_transactions
     where kind = 'bet_settlement' and metadata->>'bet_id' = any(${sql.param(ids)}::text[])
     group by 1`);
  return new Map(rows.rows.map((row) => [row.bet_id, row.n]));
}
