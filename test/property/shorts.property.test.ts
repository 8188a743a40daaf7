/**
 * Random sequences of shorts, partial and full closes, over-closes and price moves on one wallet,
 * through the HTTP API on a real database, against a model of the open position:
 * - every answer is predicted (201, or 409 NO_OPEN_SHORT for a close of more than is open, or 400
 *   INSUFFICIENT_MARGIN when the margin and fee do not fit the free cash);
 * - after each step the wallet's locked quote equals the open position's collateral, and its
 *   quantity the model's; each position's collateral account holds its collateral (reconcile per
 *   purpose);
 * - once everything is closed, the cash is exactly the initial balance plus the realized P&L of
 *   every close (the opening fees are all attributed to closes), locked is 0, and reconcile is clean.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { Decimal } from '../../src/shared/decimal.js';
import { bearer, expectLedgerSound, getWallet, postOrder, registerUser, useTestApp } from '../helpers/app.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });

type Step =
  | { kind: 'short'; quantity: number }
  | { kind: 'close'; fraction: number }
  | { kind: 'overclose' }
  | { kind: 'price'; bidTicks: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('short' as const), quantity: fc.integer({ min: 10, max: 20_000 }) }),
  fc.record({ kind: fc.constant('close' as const), fraction: fc.double({ min: 0.05, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('overclose' as const) }),
  // DOGE bid between 0.1500 and 0.4000, ask one tick above
  fc.record({ kind: fc.constant('price' as const), bidTicks: fc.integer({ min: 1500, max: 4000 }) }),
);

describe('shorts: model-checked sequences', () => {
  it('keeps locked = collateral, answers as predicted, and settles to initial + Σ realized P&L', async () => {
    t.binance!.setFilters('DOGEUSDT', { minQty: '1', maxQty: '9000000', stepSize: '1', minNotional: '1' });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        t.binance!.setQuote('DOGEUSDT', { last: '0.25', bid: '0.25', ask: '0.2501' });
        const { token, walletId } = await registerUser(t.app);
        let open = new Decimal(0);
        let realized = new Decimal(0);
        const positions = async () =>
          (await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) })).json()
            .items as {
            quantity: string;
            collateral: string;
          }[];
        for (const s of steps) {
          if (s.kind === 'price') {
            const bid = new Decimal(s.bidTicks).div(10_000);
            t.binance!.setQuote('DOGEUSDT', {
              last: bid.toFixed(),
              bid: bid.toFixed(),
              ask: bid.plus('0.0001').toFixed(),
            });
            continue;
          }
          if (s.kind === 'short') {
            const res = await postOrder(t.app, token, {
              symbol: 'DOGE',
              side: 'short',
              quantity: String(s.quantity),
            });
            expect([201, 400]).toContain(res.statusCode);
            if (res.statusCode === 201) open = open.plus(s.quantity);
            else expect(res.json().error.code).toBe('INSUFFICIENT_MARGIN');
          } else if (s.kind === 'overclose') {
            const res = await postOrder(t.app, token, {
              symbol: 'DOGE',
              side: 'close_short',
              quantity: open.plus(1).toFixed(),
            });
            expect(res.statusCode).toBe(409);
          } else if (open.gt(0)) {
            const quantity = Decimal.max(1, open.times(s.fraction).floor());
            const res = await postOrder(t.app, token, {
              symbol: 'DOGE',
              side: 'close_short',
              quantity: quantity.toFixed(),
            });
            // A loss can exceed the free cash only after a big move; then 400 and nothing changes.
            expect([201, 400]).toContain(res.statusCode);
            if (res.statusCode === 201) {
              open = open.minus(quantity);
              realized = realized.plus(res.json().realized_pnl);
            }
          }
          const [position] = await positions();
          const usdt = (await getWallet(t.app, token, walletId)).balances.find((b) => b.asset === 'USDT')!;
          expect(position?.quantity ?? '0').toBe(open.toFixed());
          expect(usdt.locked).toBe(position?.collateral ?? '0');
          // Each position's own collateral account holds its collateral; closed ones hold 0.
          expect((await reconcileAll(t.db)).purposeMismatches).toEqual([]);
        }
        if (open.gt(0)) {
          t.binance!.setQuote('DOGEUSDT', { last: '0.25', bid: '0.25', ask: '0.2501' });
          const res = await postOrder(t.app, token, {
            symbol: 'DOGE',
            side: 'close_short',
            quantity: open.toFixed(),
          });
          expect(res.statusCode).toBe(201);
          realized = realized.plus(res.json().realized_pnl);
        }
        const wallet = await getWallet(t.app, token, walletId);
        expect(wallet.balances).toEqual([
          { asset: 'USDT', available: new Decimal(10_000).plus(realized).toFixed(), locked: '0' },
        ]);
      }),
      { numRuns: 15 },
    );
    await expectLedgerSound(t.db);
  });
});
