/**
 * Ledger properties on a real database, against an in-memory model (as pgledger's property tests):
 * - any sequence of buys and sells, run concurrently on a few wallets, leaves every wallet exactly
 *   as the model says (each accepted fill applied once, each refused one not at all), no balance
 *   negative, every journal summing to zero, and reconcile clean;
 * - 50 concurrent buys that together exceed the cash: the accepted ones fit exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/shared/decimal.js';
import { expectLedgerSound, getWallet, postOrder, registerUser, useTestApp } from '../helpers/app.js';

const t = useTestApp({ env: { INITIAL_BALANCE: '1000' } });
const ASK = new Decimal('60755.19');
const BID = new Decimal('60755.18');
const FEE_RATE = new Decimal('0.001');
const MIN_NOTIONAL = new Decimal(10);

async function balances(token: string, walletId: string): Promise<Record<string, string>> {
  const wallet = await getWallet(t.app, token, walletId);
  return Object.fromEntries(wallet.balances.map((b) => [b.asset, b.available]));
}

describe('ledger properties', () => {
  it('concurrent random orders leave each wallet as the model says', async () => {
    const order = fc.record({
      wallet: fc.integer({ min: 0, max: 2 }),
      side: fc.constantFrom('buy', 'sell'),
      // 0.00001 … 0.02 BTC: fills, filter refusals and refusals for funds all happen with 1 000 USDT
      quantity: fc.integer({ min: 1, max: 2000 }).map((n) => new Decimal(n).div(100_000)),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(order, { minLength: 1, maxLength: 25 }), async (orders) => {
        const users = await Promise.all([registerUser(t.app), registerUser(t.app), registerUser(t.app)]);
        const results = await Promise.all(
          orders.map((o) =>
            postOrder(t.app, users[o.wallet]!.token, {
              symbol: 'BTCUSDT',
              side: o.side,
              quantity: o.quantity.toFixed(),
            }),
          ),
        );
        // The model: apply exactly the accepted orders. A notional below Binance's MIN_NOTIONAL (10 in
        // the recorded exchangeInfo) is refused by the filter; other refusals are INSUFFICIENT_FUNDS only.
        const model = users.map(() => ({ USDT: new Decimal(1000), BTC: new Decimal(0) }));
        results.forEach((res, i) => {
          const o = orders[i]!;
          if ((o.side === 'buy' ? ASK : BID).times(o.quantity).lt(MIN_NOTIONAL)) {
            expect(res.statusCode).toBe(422);
            expect(res.json().error).toMatchObject({
              code: 'FILTER_FAILURE',
              details: { filter: 'NOTIONAL' },
            });
            return;
          }
          if (res.statusCode === 400) {
            expect(res.json().error.code).toBe('INSUFFICIENT_FUNDS');
            return;
          }
          expect(res.statusCode).toBe(201);
          const price = o.side === 'buy' ? ASK : BID;
          const notional = price.times(o.quantity).toDecimalPlaces(8, Decimal.ROUND_HALF_UP);
          const fee = price.times(o.quantity).times(FEE_RATE).toDecimalPlaces(8, Decimal.ROUND_HALF_UP);
          expect(res.json()).toMatchObject({ notional: notional.toFixed(), fee: fee.toFixed() });
          const w = model[o.wallet]!;
          if (o.side === 'buy') {
            w.USDT = w.USDT.minus(notional).minus(fee);
            w.BTC = w.BTC.plus(o.quantity);
          } else {
            w.USDT = w.USDT.plus(notional).minus(fee);
            w.BTC = w.BTC.minus(o.quantity);
          }
        });
        for (const [i, user] of users.entries()) {
          const actual = await balances(user.token, user.walletId);
          const expected = model[i]!;
          expect(expected.USDT.isNegative() || expected.BTC.isNegative()).toBe(false);
          expect(actual.USDT).toBe(expected.USDT.toFixed());
          expect(actual.BTC ?? '0').toBe(expected.BTC.toFixed());
        }
        await expectLedgerSound(t.db);
      }),
      { numRuns: 12 },
    );
  });

  it('50 concurrent buys that together exceed the cash: the accepted ones fit exactly', async () => {
    const user = await registerUser(t.app);
    // each buy costs 60.75519 + 0.06075519 = 60.81594519 USDT: 16 fit in 1 000, 17 do not
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        postOrder(t.app, user.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' }),
      ),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(16);
    expect(codes.filter((c) => c === 400)).toHaveLength(34);
    const after = await balances(user.token, user.walletId);
    expect(after).toEqual({
      BTC: '0.016',
      USDT: new Decimal(1000).minus(new Decimal('60.81594519').times(16)).toFixed(),
    });
    await expectLedgerSound(t.db);
  });
});
