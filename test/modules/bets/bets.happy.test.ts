/**
 * Price bets end to end (issue 9, SPEC C8 and §5 rules 4–5), through the real app and its jobs
 * (BullMQ with REDIS_URL, in-process timers without), with the fake Binance's price moved by the test:
 * - up/down × price up/down/unchanged → W/L/D with the profit to the cent, a loss floored at the
 *   stake, the start price the server's own last price (a client's ignored), in v1 and seed 002;
 * - the stake is held in escrow (locked) while pending and released at settlement; the wallet is
 *   credited once (checked again seconds later); settlement never comes before the due time;
 * - the settlement is published on the owner's account channel; lists and access rules.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BetView } from '../../../src/modules/bets/index.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, getWallet, registerUser, useTestApp } from '../../helpers/app.js';
import { eventually, postBet, postTrade, quoteAt, settled } from './helpers.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' }, jobs: true });
const START = '50000';

beforeAll(() => {
  t.binance!.setQuote('BTCUSDT', quoteAt(START));
});

function quoteBalance(wallet: Awaited<ReturnType<typeof getWallet>>) {
  const usdt = wallet.balances.find((b) => b.asset === 'USDT')!;
  return { available: usdt.available, locked: usdt.locked };
}

describe('a bet settles at its due time on the server’s prices', () => {
  // [direction, end price, result, profit] for stake 100 × leverage 5 from 50,000.
  const cases: ['up' | 'down', string, 'W' | 'L' | 'D', string][] = [
    ['up', '51000', 'W', '10'],
    ['up', '49000', 'L', '-10'],
    ['up', START, 'D', '0'],
    ['down', '51000', 'L', '-10'],
    ['down', '49000', 'W', '10'],
    ['down', START, 'D', '0'],
  ];

  it('pays W/L/D to the cent in v1 and seed 002, holding the stake in escrow until then', async () => {
    const user = await registerUser(t.app);
    const symbols = cases.map((_, i) => `CASE${i}USDT`);
    for (const s of symbols) t.binance!.setQuote(s, quoteAt(START));
    const placedAtMs = Date.now();
    const v1 = await Promise.all(
      cases.map(async ([direction], i) => {
        const res = await postBet(t.app, user.token, {
          symbol: symbols[i],
          direction,
          stake: '100',
          leverage: 5,
          duration_seconds: 5,
          start_price: '1',
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json<BetView>();
      }),
    );
    const seed = await Promise.all(
      cases.map(async ([direction], i) => {
        const res = await postTrade(t.app, user.token, {
          exchange: symbols[i]!.replace('USDT', ''),
          bet_amount: 100,
          leverage: 5,
          direction,
          time: 0.1,
          start_price: 1,
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json<{ id: string; status: string; start_price: number; bet_amount: number }>();
      }),
    );
    for (const bet of v1) {
      expect(bet).toMatchObject({
        status: 'pending',
        start_price: START,
        stake: '100',
        leverage: 5,
        result: null,
      });
      expect(Date.parse(bet.due_at) - placedAtMs).toBeGreaterThanOrEqual(5000);
    }
    for (const trade of seed)
      expect(trade).toMatchObject({ status: 'pending', start_price: 50000, bet_amount: 100 });
    // 12 stakes of 100 in escrow.
    expect(quoteBalance(await getWallet(t.app, user.token, user.walletId))).toEqual({
      available: '8800',
      locked: '1200',
    });
    for (const [i, [, end]] of cases.entries()) t.binance!.setQuote(symbols[i]!, quoteAt(end));
    // The end prices are in place before the first bet comes due (else the test itself was too slow).
    expect(Date.now()).toBeLessThan(Math.min(...v1.map((b) => Date.parse(b.due_at))));
    const status = await t.app.inject({
      method: 'GET',
      url: `/api/v1/trade_status/${seed[0]!.id}`,
      headers: bearer(user.token),
    });
    expect(status.json()).toEqual({ status: 'pending', result: null, profit: null });

    for (const [i, [, end, result, profit]] of cases.entries()) {
      const bet = await settled(t.app, user.token, v1[i]!.id);
      expect(bet).toMatchObject({ status: 'completed', end_price: end, result, profit, late: false });
      expect(Date.parse(bet.settled_at!)).toBeGreaterThanOrEqual(Date.parse(bet.due_at));
      await settled(t.app, user.token, seed[i]!.id);
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/trade_status/${seed[i]!.id}`,
        headers: bearer(user.token),
      });
      expect(res.json()).toEqual({ status: 'completed', result, profit: Number(profit) });
    }
    // Net: 2 × (10 − 10 + 0 + (−10) + 10 + 0) = 0; nothing left in escrow.
    const after = quoteBalance(await getWallet(t.app, user.token, user.walletId));
    expect(after).toEqual({ available: '10000', locked: '0' });
    // Credited once: the same seconds later, and one settlement journal per bet.
    await sleep(2500);
    expect(quoteBalance(await getWallet(t.app, user.token, user.walletId))).toEqual(after);
    const history = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${user.walletId}/transactions?limit=100`,
      headers: bearer(user.token),
    });
    const kinds = history.json<{ items: { kind: string }[] }>().items.map((j) => j.kind);
    expect(kinds.filter((k) => k === 'bet_settlement')).toHaveLength(12);
    expect(kinds.filter((k) => k === 'bet_escrow')).toHaveLength(12);
  });

  it('computes profit to 8 decimals, floors a loss at the stake, and publishes the settlement', async () => {
    const user = await registerUser(t.app);
    const received: unknown[] = [];
    const unsubscribe = await t.events.subscribe(`account:${user.userId}`, (m) => received.push(m));
    t.binance!.setQuote('CENTUSDT', quoteAt('50000'));
    t.binance!.setQuote('WIPEUSDT', quoteAt('50000'));
    const cent = await postBet(t.app, user.token, {
      symbol: 'CENT',
      direction: 'up',
      stake: '123.45',
      leverage: 7,
      duration_seconds: 3,
    });
    const wipe = await postBet(t.app, user.token, {
      symbol: 'WIPEUSDT',
      direction: 'up',
      stake: 200,
      leverage: 100,
      duration_seconds: 3,
    });
    expect([cent.statusCode, wipe.statusCode]).toEqual([201, 201]);
    t.binance!.setQuote('CENTUSDT', quoteAt('50123.45'));
    t.binance!.setQuote('WIPEUSDT', quoteAt('40000'));
    // 123.45 × 7 × 123.45 / 50,000 = 2.13358635 exactly; 200 × 100 × (−0.2) = −4,000 → −200.
    const a = await settled(t.app, user.token, cent.json<BetView>().id);
    expect(a).toMatchObject({ result: 'W', profit: '2.13358635', payout: '125.58358635' });
    const b = await settled(t.app, user.token, wipe.json<BetView>().id);
    expect(b).toMatchObject({ result: 'L', profit: '-200', payout: '0' });
    expect(quoteBalance(await getWallet(t.app, user.token, user.walletId))).toEqual({
      available: new Decimal(10000).plus('2.13358635').minus(200).toFixed(),
      locked: '0',
    });
    await eventually(async () => (received.length === 2 ? true : undefined));
    await unsubscribe();
    expect(received).toEqual(
      expect.arrayContaining([
        { channel: 'account', event: 'bet.settled', data: a },
        { channel: 'account', event: 'bet.settled', data: b },
      ]),
    );
  });
});
