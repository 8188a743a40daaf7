/**
 * The largest balance (10^15 of an asset, `BALANCE_MAX`) holds on every money route (issue 22, §1):
 * random deposits, withdrawals, orders on all four sides (by quantity and by quote amount), bets and
 * seed 000's transactions, with amounts from 10^-8 up to 10^30 — around the bound, exactly on it,
 * one unit past it, and far beyond (where NUMERIC(38,8) itself would overflow) — on wallets that
 * are empty, ordinary, or already holding close to the bound. Properties: no answer is a 5xx; an
 * answer is 201/200 or a 4xx in the documented shape, and a 422 about size names
 * `BALANCE_LIMIT_EXCEEDED` (or the amount's own validation); no wallet account ever exceeds the bound;
 * the ledger reconciles after every run.
 */

import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BALANCE_MAX, Decimal } from '../../src/shared/decimal.js';
import { bearer, expectLedgerSound, registerUser, useTestApp } from '../helpers/app.js';
import { quoteAt } from '../modules/bets/helpers.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0', RATE_LIMIT_PER_USER_PER_MIN: '0' } });

/** Amounts around the bound: 10^k, the bound ± 10^-8, and random digits, as strings or numbers. */
const amount = fc.oneof(
  fc.integer({ min: -8, max: 30 }).map((k) => new Decimal(10).pow(k).toFixed()),
  fc.constantFrom(
    BALANCE_MAX.toFixed(),
    BALANCE_MAX.minus('1e-8').toFixed(),
    BALANCE_MAX.plus('1e-8').toFixed(),
    BALANCE_MAX.times(2).toFixed(),
    '999999999999999999999999999999.99999999',
    '1000000000000000000000000000000',
    '1e15',
  ),
  fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.integer({ min: 0, max: 8 }))
    .map(([n, scale]) => new Decimal(n.toString()).div(new Decimal(10).pow(scale)).toFixed()),
);
const wire = fc.oneof(
  amount,
  amount.map((a) => Number(a)),
);

const request = fc.oneof(
  fc.record({
    route: fc.constant('operation' as const),
    type: fc.constantFrom('DEPOSIT', 'WITHDRAW'),
    asset: fc.constantFrom('USDT', 'BTC'),
    amount: wire,
  }),
  fc.record({
    route: fc.constant('order' as const),
    side: fc.constantFrom('buy', 'sell', 'short', 'close_short'),
    by: fc.constantFrom('quantity', 'quote_amount'),
    symbol: fc.constantFrom('BTCUSDT', 'CHEAPUSDT'),
    amount: wire,
  }),
  fc.record({
    route: fc.constant('bet' as const),
    stake: wire,
    leverage: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({
    route: fc.constant('seed000' as const),
    side: fc.constantFrom('buy', 'sell', 'short', 'close_short'),
    amount: wire,
  }),
);
type MoneyRequest = typeof request extends fc.Arbitrary<infer R> ? R : never;

function send(token: string, walletId: string, r: MoneyRequest) {
  const post = (url: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), payload });
  switch (r.route) {
    case 'operation':
      return post(`/api/v1/wallets/${walletId}/operation`, {
        operation_type: r.type,
        asset: r.asset,
        amount: r.amount,
      });
    case 'order':
      return post('/api/v1/orders', {
        wallet_id: walletId,
        symbol: r.symbol,
        side: r.side,
        [r.by]: r.amount,
      });
    case 'bet':
      return post('/api/v1/bets', {
        wallet_id: walletId,
        symbol: 'BTCUSDT',
        direction: 'up',
        stake: r.stake,
        leverage: r.leverage,
        duration_seconds: 3600,
      });
    case 'seed000':
      return post('/transaction', { asset_name: 'BTC', amount: r.amount, transaction_type: r.side });
  }
}

/** Wallet accounts above the bound (there must be none). */
async function accountsOverTheBound(): Promise<unknown[]> {
  const rows = await t.db.execute(
    sql`select code, balance from ledger_accounts where balance is not null and balance > ${BALANCE_MAX.toFixed()}::numeric`,
  );
  return rows.rows;
}

describe('the largest balance on every money route', () => {
  it('answers no 5xx, names BALANCE_LIMIT_EXCEEDED, and no account ever exceeds the bound', async () => {
    t.binance!.setQuote('BTCUSDT', quoteAt('50000'));
    // A coin priced at the ledger's smallest unit: huge quantities for a small notional.
    t.binance!.setQuote('CHEAPUSDT', { last: '0.00000001', bid: '0.00000001', ask: '0.00000001' });
    t.binance!.setFilters('CHEAPUSDT', {
      minQty: '1',
      maxQty: '900000000000000000000000000000',
      stepSize: '1',
      minNotional: '0.00000001',
    });
    const refusedAtTheBound = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('0', '10000', '999999999990000'),
        fc.array(request, { minLength: 1, maxLength: 12 }),
        async (startDeposit, requests) => {
          const user = await registerUser(t.app);
          if (startDeposit !== '0') {
            const funded = await send(user.token, user.walletId, {
              route: 'operation',
              type: 'DEPOSIT',
              asset: 'USDT',
              amount: startDeposit,
            });
            expect(funded.statusCode, funded.body).toBe(201);
          }
          for (const r of requests) {
            const res = await send(user.token, user.walletId, r);
            expect(res.statusCode, `${JSON.stringify(r)} → ${res.body}`).toBeLessThan(500);
            if (res.statusCode >= 400 && r.route !== 'seed000') {
              const error = res.json().error;
              expect(error, res.body).toMatchObject({
                code: expect.any(String),
                message: expect.any(String),
              });
              if (error.code === 'BALANCE_LIMIT_EXCEEDED') refusedAtTheBound.add(r.route);
              if (res.statusCode === 422)
                expect(error.code, res.body).toMatch(
                  /^(BALANCE_LIMIT_EXCEEDED|VALIDATION_ERROR|FILTER_FAILURE|UNKNOWN_ASSET)$/,
                );
            }
          }
          expect(await accountsOverTheBound()).toEqual([]);
        },
      ),
      { numRuns: 25, seed: 22_2026 },
    );
    // The bound was met, and answered in words, on each of the v1 money routes.
    expect([...refusedAtTheBound].sort()).toEqual(['bet', 'operation', 'order']);
    await expectLedgerSound(t.db);
  }, 120_000);
});
