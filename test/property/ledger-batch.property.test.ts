/**
 * The ledger's batch path (`Ledger.postBatch`, used by group commit) against an in-memory model, on a
 * real database, with transfers between wallets as well as deposits and withdrawals:
 * - any sequence of journals, cut into batches at random points, gives exactly the outcome of posting
 *   them one by one: the same journals accepted, the same refused with INSUFFICIENT_FUNDS, the same
 *   final balances (the model decides each journal on the balance left by the ones before it);
 * - batches run concurrently in separate database transactions never overdraw: every wallet ends at
 *   its start plus the accepted journals, no balance below zero, reconcile clean.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JournalRequest } from '../../src/modules/ledger/index.js';
import { available, InsufficientFundsError, Ledger, system } from '../../src/modules/ledger/index.js';
import type { Db } from '../../src/platform/db/client.js';
import { withTransaction } from '../../src/platform/db/tx.js';
import { Decimal } from '../../src/shared/decimal.js';
import { expectLedgerSound, getWallet, registerUser, useTestApp } from '../helpers/app.js';

const START = new Decimal(100);
const t = useTestApp({ env: { INITIAL_BALANCE: START.toFixed() } });

/** A journal of the model: money from one wallet (or the funding account, -1) to another (or -1). */
interface Move {
  from: number;
  to: number;
  amount: Decimal;
}

const move = fc
  .record({
    from: fc.integer({ min: -1, max: 2 }),
    to: fc.integer({ min: -1, max: 2 }),
    // 0.00000001 … 80: both acceptances and refusals happen around a balance of 100
    amount: fc.integer({ min: 1, max: 8_000_000_000 }).map((n) => new Decimal(n).div(100_000_000)),
  })
  .filter((m) => m.from !== m.to);

function journalOf(m: Move, walletIds: string[]): JournalRequest {
  const ref = (i: number) => (i < 0 ? system('funding') : available(walletIds[i]!));
  return {
    kind: 'transfer',
    postings: [{ source: ref(m.from), destination: ref(m.to), asset: 'USDT', amount: m.amount }],
  };
}

async function threeWallets(): Promise<{ ids: string[]; tokens: string[] }> {
  const users = await Promise.all([registerUser(t.app), registerUser(t.app), registerUser(t.app)]);
  return { ids: users.map((u) => u.walletId), tokens: users.map((u) => u.token) };
}

async function balancesOf(wallets: { ids: string[]; tokens: string[] }): Promise<string[]> {
  return await Promise.all(
    wallets.ids.map(async (id, i) => (await getWallet(t.app, wallets.tokens[i]!, id)).balance),
  );
}

async function postInBatches(db: Db, ledger: Ledger, journals: JournalRequest[], cuts: number[]) {
  const outcomes: boolean[] = [];
  let start = 0;
  for (const end of [...new Set(cuts.map((c) => c % (journals.length + 1)))]
    .sort((a, b) => a - b)
    .concat(journals.length)) {
    if (end <= start) continue;
    const batch = journals.slice(start, end);
    const posted = await withTransaction(db, (tx) => ledger.postBatch(tx, batch));
    outcomes.push(...posted.map((p) => !(p instanceof InsufficientFundsError)));
    start = end;
  }
  return outcomes;
}

describe('ledger batches', () => {
  it('a sequence cut into batches anywhere gives the outcome of posting one by one', async () => {
    const ledger = new Ledger();
    await fc.assert(
      fc.asyncProperty(
        fc.array(move, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (moves, cuts) => {
          const wallets = await threeWallets();
          const outcomes = await postInBatches(
            t.db,
            ledger,
            moves.map((m) => journalOf(m, wallets.ids)),
            cuts,
          );
          const model = wallets.ids.map(() => START);
          const expected = moves.map((m) => {
            if (m.from >= 0 && model[m.from]!.lt(m.amount)) return false;
            if (m.from >= 0) model[m.from] = model[m.from]!.minus(m.amount);
            if (m.to >= 0) model[m.to] = model[m.to]!.plus(m.amount);
            return true;
          });
          expect(outcomes).toEqual(expected);
          expect(await balancesOf(wallets)).toEqual(model.map((b) => b.toFixed()));
        },
      ),
      { numRuns: 20 },
    );
    await expectLedgerSound(t.db);
  });

  it('concurrent batches in separate transactions never overdraw and account for every accepted journal', async () => {
    const ledger = new Ledger();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(move, { minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 6 }),
        async (batches) => {
          const wallets = await threeWallets();
          const results = await Promise.all(
            batches.map((moves) =>
              withTransaction(t.db, (tx) =>
                ledger.postBatch(
                  tx,
                  moves.map((m) => journalOf(m, wallets.ids)),
                ),
              ),
            ),
          );
          const model = wallets.ids.map(() => START);
          for (const [b, moves] of batches.entries()) {
            for (const [i, m] of moves.entries()) {
              if (results[b]![i] instanceof InsufficientFundsError) continue;
              if (m.from >= 0) model[m.from] = model[m.from]!.minus(m.amount);
              if (m.to >= 0) model[m.to] = model[m.to]!.plus(m.amount);
            }
          }
          for (const balance of model) expect(balance.isNegative()).toBe(false);
          expect(await balancesOf(wallets)).toEqual(model.map((b) => b.toFixed()));
        },
      ),
      { numRuns: 12 },
    );
    await expectLedgerSound(t.db);
  });
});
