/**
 * The liquidation job, running as the worker runs it (every 200 ms here), against a fake Binance
 * whose ask the test moves: a short whose equity falls below the maintenance margin is bought back
 * once, at the ask, with an order marked `liquidation`; a price gap beyond the collateral is paid by
 * the insurance account, never by the user; many checks racing close a position once.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/modules/ledger/index.js';
import { BinancePriceSource, createPriceService } from '../../../src/modules/market/index.js';
import { liquidateUnderwater } from '../../../src/modules/trading/liquidation.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { CommandRunner } from '../../../src/platform/commands/runner.js';
import { MemoryEventBus } from '../../../src/platform/events/bus.js';
import { createLogger } from '../../../src/platform/observability/logger.js';
import { systemClock } from '../../../src/shared/clock.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, getWallet, postOrder, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp({
  env: { PRICE_CACHE_TTL_MS: '0', LIQUIDATION_CHECK_INTERVAL_MS: '200' },
  jobs: true,
});
const BOOK = { last: '60755.18', bid: '60755.18', ask: '60755.19' };

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ordersOf(
  token: string,
): Promise<
  { side: string; liquidation: boolean; price: string; fee: string; realized_pnl: string | null }[]
> {
  const res = await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: bearer(token) });
  return res.json().items;
}

async function insuranceTotal(): Promise<string> {
  const rows = await t.db.execute<{ total: string | null }>(sql`
    select sum(e.amount)::text as total from ledger_entries e join ledger_accounts a on a.id = e.account_id
     where a.code = 'system:insurance:USDT'`);
  return new Decimal(rows.rows[0]?.total ?? 0).toFixed();
}

describe('liquidation', () => {
  it('closes a short once when its equity falls below the maintenance margin, at the ask', async () => {
    t.binance!.setQuote('BTCUSDT', BOOK);
    const { token, walletId } = await registerUser(t.app);
    expect(
      (await postOrder(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.1' })).statusCode,
    ).toBe(201);
    // collateral 9113.277; liquidated above 9113.277 / 0.13 = 70102.13…
    t.binance!.setQuote('BTCUSDT', { last: '70000', bid: '69999.99', ask: '70000' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await ordersOf(token)).filter((o) => o.liquidation)).toEqual([]);

    t.binance!.setQuote('BTCUSDT', { last: '70200', bid: '70199.99', ask: '70200' });
    const orders = await waitFor(
      () => ordersOf(token),
      (items) => items.some((o) => o.liquidation),
    );
    const liquidation = orders.find((o) => o.liquidation);
    // bought back at 70200: 7020 + fee 7.02 out of the collateral; 2086.257 back to the cash
    expect(liquidation).toMatchObject({ side: 'close_short', avg_fill_price: '70200', fee: '7.02' });
    // (60755.18 − 70200) × 0.1 − 6.075518 − 7.02
    expect(liquidation?.realized_pnl).toBe('-957.577518');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await ordersOf(token)).filter((o) => o.liquidation)).toHaveLength(1);
    const wallet = await getWallet(t.app, token, walletId);
    expect(wallet.balances).toEqual([{ asset: 'USDT', available: '9042.422482', locked: '0' }]);
    const positions = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    expect(positions.json().items).toEqual([]);
  });

  it('a price gap beyond the collateral is paid by the insurance account; the user keeps the rest', async () => {
    t.binance!.setQuote('BTCUSDT', BOOK);
    const { token, walletId } = await registerUser(t.app);
    await postOrder(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.1' });
    const insuranceBefore = new Decimal(await insuranceTotal());
    t.binance!.setQuote('BTCUSDT', { last: '100000', bid: '99999.99', ask: '100000' });
    const orders = await waitFor(
      () => ordersOf(token),
      (items) => items.some((o) => o.liquidation),
    );
    // buy-back 10000 > collateral 9113.277: insurance pays 886.723, no fee is left to charge
    expect(orders.find((o) => o.liquidation)).toMatchObject({ avg_fill_price: '100000', fee: '0' });
    expect(new Decimal(await insuranceTotal()).minus(insuranceBefore).toFixed()).toBe('-886.723');
    const wallet = await getWallet(t.app, token, walletId);
    // the margin and the opening fee are lost, nothing more: 10000 − 3037.759 − 6.075518
    expect(wallet.balances).toEqual([{ asset: 'USDT', available: '6956.165482', locked: '0' }]);
  });

  it('many checks racing over the same shorts close each exactly once', async () => {
    t.binance!.setQuote('DOGEUSDT', { last: '0.25', bid: '0.2499', ask: '0.2501' });
    const users = await Promise.all(Array.from({ length: 5 }, () => registerUser(t.app)));
    for (const user of users)
      await postOrder(t.app, user.token, { symbol: 'DOGE', side: 'short', quantity: '1000' });
    t.binance!.setQuote('DOGEUSDT', { last: '0.4', bid: '0.4', ask: '0.4' });
    const cache = new MemoryCache();
    const deps = {
      db: t.db,
      ledger: new Ledger(),
      runner: new CommandRunner(t.db),
      prices: createPriceService(
        {
          priceCacheTtlMs: 0,
          priceAgeMsMax: 10_000,
          priceStaleMsMax: 60_000,
          quoteAsset: 'USDT',
          upstreamTimeoutMs: 1500,
        },
        cache,
        systemClock,
        new BinancePriceSource({ baseUrl: t.binance!.baseUrl, timeoutMs: 1500, clock: systemClock, cache }),
      ),
      events: new MemoryEventBus(),
      takerFeeRate: '0.001',
      margin: { initial: '0.5', maintenance: '0.3' },
      logger: createLogger('silent'),
    };
    // Eight checks at once besides the job itself.
    await Promise.all(Array.from({ length: 8 }, () => liquidateUnderwater(deps)));
    for (const user of users) {
      const orders = await waitFor(
        () => ordersOf(user.token),
        (items) => items.some((o) => o.liquidation),
      );
      expect(orders.filter((o) => o.liquidation)).toHaveLength(1);
    }
    const closes = await t.db.execute<{ n: string }>(
      sql`select count(*)::text as n from orders where liquidation and symbol = 'DOGEUSDT'`,
    );
    expect(closes.rows[0]!.n).toBe('5');
  });
});
