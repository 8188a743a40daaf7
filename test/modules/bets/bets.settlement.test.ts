/**
 * Settlement that one bet cannot hold back, and that a delay cannot make unfair (issue 22, §1):
 * - a settlement the ledger refuses (its payout beyond the largest balance) is recorded on its own
 *   bet — still pending, `settlement_error`, one metric count and one log line naming it — while the
 *   other bets of the same batch settle; tried again, it is not counted again, and once it fits it
 *   settles at its due time's price;
 * - a bet settled late (a recovery sweep after an outage) ends at the market's price at its due time
 *   (Binance's 1 s klines, served by the fake Binance from the prices it was given), not at the price
 *   on recovery; only where that history cannot be had does it end at the current price, and
 *   `end_price_at` says which.
 * Settlements are run by the test itself (no jobs) through the worker's own functions.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type SettleDeps, settleBets, sweepDueBets } from '../../../src/modules/bets/index.js';
import { Ledger } from '../../../src/modules/ledger/index.js';
import { createPriceService } from '../../../src/modules/market/index.js';
import { CommandRunner } from '../../../src/platform/commands/runner.js';
import { metricsRegistry } from '../../../src/platform/observability/metrics.js';
import { bearer, expectLedgerSound, registerUser, type TestApp, useAppFactory } from '../../helpers/app.js';
import { getBet, placedBet, quoteAt } from './helpers.js';

const factory = useAppFactory();

/** The worker's settlement dependencies over a test app, with a logger whose lines the test reads. */
function settleDepsOf(built: TestApp): { deps: SettleDeps; logLines: string[] } {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const { deps } = built;
  return {
    deps: {
      db: deps.db,
      ledger: new Ledger(),
      runner: new CommandRunner(deps.db),
      prices: createPriceService(deps.config, deps.cache, deps.clock, deps.priceSource),
      clock: deps.clock,
      events: deps.events,
      logger: pino({ level: 'info' }, sink),
    },
    logLines,
  };
}

/** `bet_settlement_refusals_total{reason}` as /metrics would show it now. */
async function refusalsCounted(reason: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('bet_settlement_refusals_total')?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** An `up` bet at leverage 10. */
function placeBet(built: TestApp, token: string, symbol: string, stake: string, durationS: number) {
  return placedBet(built.app, token, {
    symbol,
    direction: 'up',
    stake,
    leverage: 10,
    duration_seconds: durationS,
  });
}

async function operate(built: TestApp, token: string, walletId: string, type: string, amount: string) {
  const res = await built.app.inject({
    method: 'POST',
    url: `/api/v1/wallets/${walletId}/operation`,
    headers: bearer(token),
    payload: { operation_type: type, amount },
  });
  expect(res.statusCode, res.body).toBe(201);
}

describe('a settlement the ledger refuses', () => {
  it('is recorded on its bet alone, the others of its batch settle, and it settles once it fits', async () => {
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0' } });
    built.binance!.setQuote('CAPUSDT', quoteAt('100'));
    // The whale's wallet is 1,010 short of the largest balance once its stake is in escrow.
    const whale = await registerUser(built.app);
    await operate(built, whale.token, whale.walletId, 'DEPOSIT', '999999999989990');
    const ordinary = await registerUser(built.app);
    const big = await placeBet(built, whale.token, 'CAPUSDT', '1000', 2);
    const small = await placeBet(built, ordinary.token, 'CAPUSDT', '10', 2);
    // +10 %: the whale's payout of 2,000 does not fit; the ordinary bet's 20 does.
    built.binance!.setQuote('CAPUSDT', quoteAt('110'));
    await sleep(2_100);
    const { deps, logLines } = settleDepsOf(built);
    const countedBefore = await refusalsCounted('BALANCE_LIMIT_EXCEEDED');

    const outcomes = await settleBets(deps, [big.id, small.id]);
    expect(outcomes.map((o) => o.kind)).toEqual(['refused', 'settled']);
    expect(await getBet(built.app, ordinary.token, small.id)).toMatchObject({
      status: 'completed',
      end_price: '110',
      result: 'W',
      profit: '10',
    });
    const stuck = await getBet(built.app, whale.token, big.id);
    expect(stuck).toMatchObject({ status: 'pending', end_price: null, profit: null });
    expect(stuck.settlement_error).toMatch(/largest balance/);
    expect(await refusalsCounted('BALANCE_LIMIT_EXCEEDED')).toBe(countedBefore + 1);
    const named = logLines.map((line) => JSON.parse(line)).filter((line) => line.betId === big.id);
    expect(named).toHaveLength(1);
    expect(named[0]).toMatchObject({ reason: 'BALANCE_LIMIT_EXCEEDED', level: 50 });
    expect(named[0].msg).toMatch(/bet settlement refused.*largest balance/);

    // Tried again by the sweeper, late, so at its due time's price: refused again, not counted or
    // logged twice, not settled (at today's 90 it would fit, as a loss).
    built.binance!.setQuote('CAPUSDT', quoteAt('90'));
    await sleep(1_000);
    expect((await sweepDueBets(deps)).refused).toBe(1);
    expect(await refusalsCounted('BALANCE_LIMIT_EXCEEDED')).toBe(countedBefore + 1);
    expect(logLines.filter((line) => JSON.parse(line).betId === big.id)).toHaveLength(1);

    // Room made: the next sweep settles it once, late, at its due time's price (110), not today's 90.
    await operate(built, whale.token, whale.walletId, 'WITHDRAW', '10000');
    expect(await sweepDueBets(deps)).toMatchObject({ settled: 1, refused: 0, failed: 0 });
    const done = await getBet(built.app, whale.token, big.id);
    expect(done).toMatchObject({
      status: 'completed',
      end_price: '110',
      result: 'W',
      profit: '1000',
      late: true,
      settlement_error: null,
    });
    expect(Date.parse(done.end_price_at!)).toBeLessThanOrEqual(Date.parse(done.due_at));
    expect(Date.parse(done.end_price_at!)).toBeGreaterThan(Date.parse(done.due_at) - 1_000);
    await expectLedgerSound(built.deps.db);
  }, 30_000);
});

describe('a late settlement', () => {
  it('ends at the price of the due time, not at the price on recovery', async () => {
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0', RATE_LIMIT_PER_USER_PER_MIN: '0' } });
    built.binance!.setQuote('LATEUSDT', quoteAt('100'));
    const user = await registerUser(built.app);
    const bets = await Promise.all(
      Array.from({ length: 3 }, () => placeBet(built, user.token, 'LATEUSDT', '10', 2)),
    );
    // Up 5 % by the due time; an outage; down 10 % by the time it is over.
    built.binance!.setQuote('LATEUSDT', quoteAt('105'));
    await sleep(2_200);
    built.binance!.setQuote('LATEUSDT', quoteAt('90'));
    await sleep(1_000);
    const { deps } = settleDepsOf(built);
    expect(await sweepDueBets(deps)).toMatchObject({ settled: 3 });
    for (const bet of bets) {
      const settled = await getBet(built.app, user.token, bet.id);
      // 10 × 10 × 5 % = +5, where the recovery's price would have made it −10.
      expect(settled).toMatchObject({ end_price: '105', result: 'W', profit: '5', late: true });
      expect(Date.parse(settled.end_price_at!)).toBeLessThanOrEqual(Date.parse(settled.due_at));
    }
    await expectLedgerSound(built.deps.db);
  });

  it('ends at the current price, and says so, where the due time’s price cannot be had', async () => {
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0' } });
    built.binance!.setQuote('NOHISTUSDT', quoteAt('100'));
    const user = await registerUser(built.app);
    const bet = await placeBet(built, user.token, 'NOHISTUSDT', '10', 1);
    built.binance!.setQuote('NOHISTUSDT', quoteAt('90'));
    await sleep(2_200);
    // Binance answers prices but not klines.
    built.binance!.failPath = '/api/v3/klines';
    built.binance!.mode = 'error500';
    const { deps } = settleDepsOf(built);
    expect(await sweepDueBets(deps)).toMatchObject({ settled: 1 });
    const settled = await getBet(built.app, user.token, bet.id);
    expect(settled).toMatchObject({ end_price: '90', result: 'L', profit: '-10', late: true });
    expect(Date.parse(settled.end_price_at!)).toBeGreaterThan(Date.parse(settled.due_at) + 1_000);
    await expectLedgerSound(built.deps.db);
  });
});
