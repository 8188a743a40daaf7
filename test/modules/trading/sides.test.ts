/**
 * Every side of a market order against a fake Binance whose book the test sets: fill price, fee and
 * ledger entries to the last decimal for BTC (step 0.00001) and DOGE (step 1); orders by quote amount;
 * Binance's LOT_SIZE and NOTIONAL filters; shorts with margin, partial and full closes; positions and
 * the portfolio checked against the ledger; 50 concurrent buys that together exceed the cash.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, getWallet, postOrder, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });
const BTC_BOOK = { last: '60755.18', bid: '60755.18', ask: '60755.19' };
const DOGE_BOOK = { last: '0.25', bid: '0.2499', ask: '0.2501' };

beforeAll(() => {
  t.binance!.setQuote('DOGEUSDT', DOGE_BOOK);
  t.binance!.setFilters('DOGEUSDT', { minQty: '1', maxQty: '9000000', stepSize: '1', minNotional: '1' });
  // minQty ten steps: a partial close can leave less than minQty open.
  t.binance!.setQuote('ETHUSDT', { last: '2000', bid: '1999.9', ask: '2000.1' });
  t.binance!.setFilters('ETHUSDT', { minQty: '0.01', maxQty: '9000', stepSize: '0.001', minNotional: '5' });
});
beforeEach(() => {
  t.binance!.setQuote('BTCUSDT', BTC_BOOK);
});

/** The wallet's balance of each asset by the sum of its ledger entries (available + locked). */
async function ledgerTotals(walletId: string): Promise<Record<string, string>> {
  const rows = await t.db.execute<{ asset: string; bucket: string; total: string }>(sql`
    select a.asset, a.bucket, sum(e.amount)::text as total
      from ledger_entries e join ledger_accounts a on a.id = e.account_id
     where a.wallet_id = ${walletId} group by a.asset, a.bucket order by a.asset, a.bucket`);
  return Object.fromEntries(rows.rows.map((r) => [`${r.asset}:${r.bucket}`, new Decimal(r.total).toFixed()]));
}

async function balancesOf(token: string, walletId: string): Promise<Record<string, [string, string]>> {
  const wallet = await getWallet(t.app, token, walletId);
  return Object.fromEntries(wallet.balances.map((b) => [b.asset, [b.available, b.locked]]));
}

describe('buy and sell at the book', () => {
  it('fills a step-1 asset (DOGE) at the ask and the bid, to the last decimal', async () => {
    const { token, walletId } = await registerUser(t.app);
    const buy = await postOrder(t.app, token, { symbol: 'DOGE', side: 'buy', quantity: '100' });
    expect(buy.statusCode).toBe(201);
    // 0.2501 × 100 = 25.01; fee 0.02501
    expect(buy.json()).toMatchObject({
      avg_fill_price: '0.2501',
      quantity: '100',
      notional: '25.01',
      fee: '0.02501',
    });
    const sell = await postOrder(t.app, token, { symbol: 'DOGEUSDT', side: 'sell', quantity: 40 });
    // 0.2499 × 40 = 9.996; fee 0.009996
    expect(sell.json()).toMatchObject({ avg_fill_price: '0.2499', notional: '9.996', fee: '0.009996' });
    const usdt = new Decimal(10000).minus('25.01').minus('0.02501').plus('9.996').minus('0.009996');
    expect(await balancesOf(token, walletId)).toEqual({ DOGE: ['60', '0'], USDT: [usdt.toFixed(), '0'] });
    expect(await ledgerTotals(walletId)).toEqual({
      'DOGE:available': '60',
      'USDT:available': usdt.toFixed(),
    });
  });

  it('buys by quote amount: at most that much spent, fee included, quantity rounded down to the step', async () => {
    const { token } = await registerUser(t.app);
    const btc = await postOrder(t.app, token, { symbol: 'BTC', side: 'buy', quote_amount: '100' });
    expect(btc.statusCode).toBe(201);
    // 100 / (60755.19 × 1.001) = 0.0016443… → 0.00164; 60755.19 × 0.00164 = 99.6385116
    expect(btc.json()).toMatchObject({ quantity: '0.00164', notional: '99.6385116', fee: '0.09963851' });
    const doge = await postOrder(t.app, token, { symbol: 'DOGE', side: 'buy', quote_amount: 10 });
    // 10 / (0.2501 × 1.001) = 39.94… → 39
    expect(doge.json()).toMatchObject({ quantity: '39', notional: '9.7539', fee: '0.0097539' });
    const sell = await postOrder(t.app, token, { symbol: 'DOGE', side: 'sell', quote_amount: '5' });
    // notional at most 5 at the bid: 5 / 0.2499 = 20.008… → 20
    expect(sell.json()).toMatchObject({ quantity: '20', notional: '4.998' });
  });

  it('rejects LOT_SIZE and NOTIONAL failures with 422 naming the filter, and moves nothing', async () => {
    const { token, walletId } = await registerUser(t.app);
    const cases: [Record<string, unknown>, string][] = [
      [{ symbol: 'BTC', side: 'buy', quantity: '0.000015' }, 'LOT_SIZE'],
      [{ symbol: 'BTC', side: 'buy', quantity: '9001' }, 'LOT_SIZE'],
      [{ symbol: 'DOGE', side: 'buy', quantity: '10.5' }, 'LOT_SIZE'],
      [{ symbol: 'BTC', side: 'buy', quantity: '0.0001' }, 'NOTIONAL'],
      [{ symbol: 'BTC', side: 'short', quantity: '0.0001' }, 'NOTIONAL'],
      [{ symbol: 'DOGE', side: 'buy', quantity: '3' }, 'NOTIONAL'],
    ];
    for (const [payload, filter] of cases) {
      const res = await postOrder(t.app, token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().error, JSON.stringify(payload)).toMatchObject({
        code: 'FILTER_FAILURE',
        details: { filter },
      });
      expect(res.json().error.message).toContain(`Filter failure: ${filter}`);
    }
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['10000', '0'] });
  });
});

describe('shorts with margin', () => {
  it('round trip: balance after = before + (bid₁ − ask₂) × q − both fees, and the margin is released', async () => {
    const { token, walletId } = await registerUser(t.app);
    const short = await postOrder(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.1' });
    expect(short.statusCode).toBe(201);
    // notional 6075.518 at the bid; fee 6.075518; initial margin 0.5 × 6075.518 = 3037.759
    expect(short.json()).toMatchObject({
      side: 'short',
      avg_fill_price: '60755.18',
      notional: '6075.518',
      fee: '6.075518',
    });
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['6956.165482', '9113.277'] });

    const positions = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    expect(positions.json().items).toEqual([
      expect.objectContaining({
        symbol: 'BTCUSDT',
        quantity: '0.1',
        entry_price: '60755.18',
        mark_price: '60755.19',
        unrealized_pnl: '-0.001',
        margin: '3037.759',
        collateral: '9113.277',
        // 9113.277 / (0.1 × 1.3)
        liquidation_price: '70102.13076923',
      }),
    ]);

    t.binance!.setQuote('BTCUSDT', { last: '61000', bid: '60999.99', ask: '61000' });
    const close = await postOrder(t.app, token, { symbol: 'BTC', side: 'close_short', quantity: '0.1' });
    expect(close.statusCode).toBe(201);
    // (60755.18 − 61000) × 0.1 − 6.075518 − 6.1 = −36.657518
    expect(close.json()).toMatchObject({
      side: 'close_short',
      avg_fill_price: '61000',
      notional: '6100',
      fee: '6.1',
      realized_pnl: '-36.657518',
      liquidation: false,
      position_id: short.json().position_id,
    });
    const expected = new Decimal(10000)
      .plus(new Decimal('60755.18').minus('61000').times('0.1'))
      .minus('6.075518')
      .minus('6.1');
    expect(await balancesOf(token, walletId)).toEqual({ USDT: [expected.toFixed(), '0'] });
    expect(await ledgerTotals(walletId)).toMatchObject({
      'USDT:available': expected.toFixed(),
      'USDT:locked': '0',
    });
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    expect(after.json().items).toEqual([]);
  });

  it('closes part of a short and releases its margin and proceeds pro rata', async () => {
    const { token, walletId } = await registerUser(t.app);
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'short', quantity: '1000' });
    // notional 249.9; margin 124.95; collateral 374.85; fee 0.2499
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['9874.8001', '374.85'] });
    const part = await postOrder(t.app, token, { symbol: 'DOGE', side: 'close_short', quantity: '400' });
    // 400 / 1000 of the collateral released (149.94); buy-back 0.2501 × 400 = 100.04, fee 0.10004
    // realized = (0.2499 − 0.2501) × 400 − 0.09996 − 0.10004 = −0.28
    expect(part.json()).toMatchObject({ notional: '100.04', fee: '0.10004', realized_pnl: '-0.28' });
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['9924.60006', '224.91'] });
    const positions = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    expect(positions.json().items[0]).toMatchObject({
      quantity: '600',
      margin: '74.97',
      collateral: '224.91',
    });
    const rest = await postOrder(t.app, token, { symbol: 'DOGE', side: 'close_short', quantity: '600' });
    expect(rest.statusCode).toBe(201);
    const expected = new Decimal(10000)
      .plus(new Decimal('0.2499').minus('0.2501').times(1000))
      .minus('0.2499')
      .minus('0.10004')
      .minus('0.15006');
    expect(await balancesOf(token, walletId)).toEqual({ USDT: [expected.toFixed(), '0'] });
  });

  it('lets close_short buy back a whole position smaller than minQty, and only a whole one', async () => {
    const { token, walletId } = await registerUser(t.app);
    expect(
      (await postOrder(t.app, token, { symbol: 'ETH', side: 'short', quantity: '0.015' })).statusCode,
    ).toBe(201);
    const tooSmall = await postOrder(t.app, token, { symbol: 'ETH', side: 'close_short', quantity: '0.005' });
    expect(tooSmall.statusCode).toBe(422);
    expect(tooSmall.json().error).toMatchObject({
      code: 'FILTER_FAILURE',
      details: { filter: 'LOT_SIZE', minQty: '0.01', open_quantity: '0.015' },
    });
    expect(
      (await postOrder(t.app, token, { symbol: 'ETH', side: 'close_short', quantity: '0.01' })).statusCode,
    ).toBe(201);
    const before = await balancesOf(token, walletId);
    const partOfRest = await postOrder(t.app, token, {
      symbol: 'ETH',
      side: 'close_short',
      quantity: '0.004',
    });
    expect(partOfRest.statusCode).toBe(422);
    expect(partOfRest.json().error.details).toMatchObject({ filter: 'LOT_SIZE', open_quantity: '0.005' });
    expect(await balancesOf(token, walletId)).toEqual(before);
    const offStep = await postOrder(t.app, token, { symbol: 'ETH', side: 'close_short', quantity: '0.0045' });
    expect(offStep.json().error.details).toMatchObject({ filter: 'LOT_SIZE', stepSize: '0.001' });
    const rest = await postOrder(t.app, token, { symbol: 'ETH', side: 'close_short', quantity: '0.005' });
    expect(rest.statusCode).toBe(201);
    expect(rest.json()).toMatchObject({ quantity: '0.005', avg_fill_price: '2000.1' });
    const positions = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    expect(positions.json().items).toEqual([]);
    expect((await balancesOf(token, walletId)).USDT![1]).toBe('0');
  });

  it('adds to an open short at a weighted entry price', async () => {
    const { token } = await registerUser(t.app);
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'short', quantity: '100' });
    t.binance!.setQuote('DOGEUSDT', { last: '0.26', bid: '0.2599', ask: '0.2601' });
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'short', quantity: '300' });
    t.binance!.setQuote('DOGEUSDT', DOGE_BOOK);
    const positions = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    // (0.2499 × 100 + 0.2599 × 300) / 400 = 0.2574
    expect(positions.json().items).toEqual([
      expect.objectContaining({ quantity: '400', entry_price: '0.2574' }),
    ]);
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'close_short', quantity: '400' });
  });

  it('refuses a short without enough free quote for margin and fee (400 INSUFFICIENT_MARGIN): nothing opens', async () => {
    const { token, walletId } = await registerUser(t.app);
    // 0.33 BTC: margin 10024.6047 > 10000
    const res = await postOrder(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.33' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INSUFFICIENT_MARGIN');
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['10000', '0'] });
    const positions = await t.db.execute(sql`select 1 from positions where wallet_id = ${walletId}`);
    expect(positions.rows).toEqual([]);
  });

  it('answers 409 NO_OPEN_SHORT to close_short without an open short, or for more than is open', async () => {
    const { token, walletId } = await registerUser(t.app);
    const none = await postOrder(t.app, token, { symbol: 'BTC', side: 'close_short', quantity: '0.01' });
    expect(none.statusCode).toBe(409);
    expect(none.json().error.code).toBe('NO_OPEN_SHORT');
    await postOrder(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.01' });
    const before = await balancesOf(token, walletId);
    const more = await postOrder(t.app, token, { symbol: 'BTC', side: 'close_short', quantity: '0.02' });
    expect(more.statusCode).toBe(409);
    expect(more.json().error).toMatchObject({ code: 'NO_OPEN_SHORT', details: { open_quantity: '0.01' } });
    expect(await balancesOf(token, walletId)).toEqual(before);
  });

  it('opens one position for concurrent shorts on one wallet and symbol', async () => {
    const { token } = await registerUser(t.app);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        postOrder(t.app, token, { symbol: 'DOGE', side: 'short', quantity: '100' }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    const positions = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(token) });
    expect(positions.json().items).toEqual([
      expect.objectContaining({ quantity: '1000', collateral: '374.85' }),
    ]);
  });
});

describe('portfolio', () => {
  it('equity = cash + Σ holdings × bid − Σ shorts × ask, checked against the ledger', async () => {
    const { token, walletId } = await registerUser(t.app);
    await postOrder(t.app, token, { symbol: 'BTC', side: 'buy', quantity: '0.05' });
    await postOrder(t.app, token, { symbol: 'BTC', side: 'sell', quantity: '0.01' });
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'short', quantity: '2000' });
    t.binance!.setQuote('BTCUSDT', { last: '62000', bid: '62000', ask: '62000.5' });
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${walletId}/portfolio`,
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(200);
    const portfolio = res.json();
    const ledger = await ledgerTotals(walletId);
    const cash = new Decimal(ledger['USDT:available']!).plus(ledger['USDT:locked']!);
    expect(portfolio.totals.cash).toBe(cash.toFixed());
    const equity = cash.plus(new Decimal('0.04').times('62000')).minus(new Decimal(2000).times('0.2501'));
    expect(portfolio.totals.equity).toBe(equity.toFixed());
    // average cost (60755.19 × 0.05 + fee) / 0.05 = 60815.94519
    expect(portfolio.holdings).toEqual([
      {
        asset: 'BTC',
        quantity: '0.04',
        average_cost: '60815.94519',
        mark_price: '62000',
        market_value: '2480',
        unrealized_pnl: '47.3621924',
      },
    ]);
    // realized: 607.5518 − 0.6075518 − 0.01 × 60815.94519 = −1.2152037
    expect(portfolio.totals.realized_pnl).toBe('-1.2152037');
    expect(portfolio.totals.margin_used).toBe('249.9');
    expect(portfolio.shorts).toEqual([expect.objectContaining({ symbol: 'DOGEUSDT', quantity: '2000' })]);
    // unrealized: holdings 47.3621924 + short (0.2499 − 0.2501) × 2000 = −0.4
    expect(portfolio.totals.unrealized_pnl).toBe('46.9621924');
  });

  it('answers 404 for a wallet id that is not a UUID', async () => {
    const { token } = await registerUser(t.app);
    for (const id of ['abc', '1', "x'--"]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/wallets/${encodeURIComponent(id)}/portfolio`,
        headers: bearer(token),
      });
      expect(res.statusCode, id).toBe(404);
    }
  });

  it('answers 404 for another user’s wallet', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${alice.walletId}/portfolio`,
      headers: bearer(bob.token),
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('order lists', () => {
  it('filters the caller’s orders by symbol (either spelling) and side', async () => {
    const { token } = await registerUser(t.app);
    await postOrder(t.app, token, { symbol: 'BTC', side: 'buy', quantity: '0.001' });
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'buy', quantity: '100' });
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'short', quantity: '100' });
    const list = async (query: string) => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/orders?${query}`,
        headers: bearer(token),
      });
      expect(res.statusCode, query).toBe(200);
      return res.json().items.map((o: { symbol: string; side: string }) => `${o.symbol}:${o.side}`);
    };
    expect(await list('symbol=doge')).toEqual(['DOGEUSDT:short', 'DOGEUSDT:buy']);
    expect(await list('symbol=BTCUSDT')).toEqual(['BTCUSDT:buy']);
    expect(await list('side=buy')).toEqual(['DOGEUSDT:buy', 'BTCUSDT:buy']);
    expect(await list('symbol=DOGE&side=short')).toEqual(['DOGEUSDT:short']);
    expect(await list('symbol=B%2FTC')).toEqual([]);
    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/v1/orders?side=hold',
      headers: bearer(token),
    });
    expect(bad.statusCode).toBe(422);
    await postOrder(t.app, token, { symbol: 'DOGE', side: 'close_short', quantity: '100' });
  });
});

describe('prices at the ledger’s scale', () => {
  it('rounds a price with more than 8 decimals once, half-up, and refuses to trade on one below 0.00000001', async () => {
    const { token, walletId } = await registerUser(t.app);
    t.binance!.setQuote('PEPEUSDT', {
      last: '0.0000123456789',
      bid: '0.0000123446789',
      ask: '0.0000123466789',
    });
    const price = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/PEPE' });
    expect(price.json()).toMatchObject({ price: '0.00001235', bid: '0.00001234', ask: '0.00001235' });
    const buy = await postOrder(t.app, token, { symbol: 'PEPE', side: 'buy', quantity: '1000000' });
    expect(buy.statusCode).toBe(201);
    expect(buy.json()).toMatchObject({ avg_fill_price: '0.00001235', notional: '12.35' });
    t.binance!.setQuote('DUSTUSDT', { last: '0.000000001', bid: '0.000000001', ask: '0.000000001' });
    const dust = await postOrder(t.app, token, { symbol: 'DUST', side: 'buy', quantity: '1000000000' });
    expect(dust.statusCode).toBe(503);
    expect(dust.json().error.code).toBe('PRICE_UNAVAILABLE');
    expect(await balancesOf(token, walletId)).toMatchObject({
      USDT: [new Decimal(10000).minus('12.35').minus('0.01235').toFixed(), '0'],
    });
  });

  it('answers a retried Idempotency-Key with its first answer even after the price moved', async () => {
    const { token } = await registerUser(t.app);
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { ...bearer(token), 'idempotency-key': 'near-min-notional' },
        payload: { symbol: 'DOGE', side: 'buy', quantity: '5' },
      });
    const first = await send();
    expect(first.statusCode).toBe(201);
    // At this price the same order would now fail MIN_NOTIONAL (5 × 0.1 < 1).
    t.binance!.setQuote('DOGEUSDT', { last: '0.1', bid: '0.1', ask: '0.1' });
    const again = await send();
    t.binance!.setQuote('DOGEUSDT', DOGE_BOOK);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
  });
});

describe('concurrency', () => {
  it('50 concurrent buys that together exceed the cash: the accepted ones fit exactly, nothing negative', async () => {
    const { token, walletId } = await registerUser(t.app);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        postOrder(t.app, token, { symbol: 'BTC', side: 'buy', quantity: '0.01' }),
      ),
    );
    const filled = results.filter((r) => r.statusCode === 201).length;
    expect(results.filter((r) => r.statusCode !== 201).map((r) => r.statusCode)).toEqual(
      Array(50 - filled).fill(400),
    );
    // each costs 607.5519 + 0.6075519 = 608.1594519: 16 fit in 10000
    expect(filled).toBe(16);
    const usdt = new Decimal(10000).minus(new Decimal('608.1594519').times(16));
    expect(await balancesOf(token, walletId)).toEqual({ BTC: ['0.16', '0'], USDT: [usdt.toFixed(), '0'] });
  });
});

describe('bad input on every field', () => {
  const bodies: [string, unknown][] = [
    ['negative quantity', { symbol: 'BTC', side: 'buy', quantity: '-1' }],
    ['zero quantity', { symbol: 'BTC', side: 'buy', quantity: 0 }],
    ['1e309', '{"symbol":"BTC","side":"buy","quantity":1e309}'],
    ['NaN', { symbol: 'BTC', side: 'buy', quantity: 'NaN' }],
    ['30-digit decimal', { symbol: 'BTC', side: 'buy', quantity: '0.123456789012345678901234567890' }],
    ['unknown side', { symbol: 'BTC', side: 'hold', quantity: '0.01' }],
    ['both amounts', { symbol: 'BTC', side: 'buy', quantity: '0.01', quote_amount: '10' }],
    ['no amount', { symbol: 'BTC', side: 'buy' }],
    ['negative quote amount', { symbol: 'BTC', side: 'buy', quote_amount: '-5' }],
    ['tiny quote amount', { symbol: 'BTC', side: 'buy', quote_amount: '0.01' }],
    ['odd symbol', { symbol: 'B/T C', side: 'buy', quantity: '0.01' }],
    [
      'long client order id',
      { symbol: 'BTC', side: 'short', quantity: '0.01', client_order_id: 'x'.repeat(49) },
    ],
  ];
  it.each(bodies)('%s → 422, nothing moves', async (_name, body) => {
    const { token, walletId } = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toMatch(/VALIDATION_ERROR|FILTER_FAILURE/);
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['10000', '0'] });
  });

  it('unknown symbol → 404 for every side', async () => {
    const { token } = await registerUser(t.app);
    for (const side of ['buy', 'sell', 'short', 'close_short']) {
      const res = await postOrder(t.app, token, { symbol: 'NOPECOIN', side, quantity: '1' });
      expect(res.statusCode, side).toBe(404);
    }
  });

  it('Idempotency-Key: a repeat answers the first order byte for byte and shorts once', async () => {
    const { token, walletId } = await registerUser(t.app);
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { ...bearer(token), 'idempotency-key': 'short-1' },
        payload: { symbol: 'DOGE', side: 'short', quantity: '100' },
      });
    const first = await send();
    const again = await send();
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // margin 12.495 and fee 0.02499 out of the cash; proceeds 24.99 and the margin locked
    expect(await balancesOf(token, walletId)).toEqual({ USDT: ['9987.48001', '37.485'] });
  });
});
