/**
 * Bets under concurrency and failure (SPEC §5 rules 3–5):
 * - 50 bets at once whose stakes together exceed the balance: exactly the ones that fit are
 *   accepted (400 for the rest), and the escrow holds exactly their stakes;
 * - settlement run many times at once on one due bet (jobs, timers, sweepers racing) settles it once;
 * - with Redis, two workers on one queue settle each bet once, and a worker process alone settles
 *   on time the bets an API process without jobs placed; in both modes, two sweepers racing over
 *   the same overdue bets settle each once;
 * - no fresh price at the due time: the bet stays pending, untouched, and settles once a price is
 *   back (marked late), never on a stale price.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { startJobs } from '../../../src/jobs.js';
import {
  BullMqSettlementScheduler,
  type SettleDeps,
  settleBet,
  sweepDueBets,
} from '../../../src/modules/bets/index.js';
import { Ledger } from '../../../src/modules/ledger/index.js';
import { createPriceService } from '../../../src/modules/market/index.js';
import type { RedisCache } from '../../../src/platform/cache/redis.js';
import { CommandRunner } from '../../../src/platform/commands/runner.js';
import type { Db } from '../../../src/platform/db/client.js';
import {
  expectLedgerSound,
  getWallet,
  registerUser,
  type TestApp,
  useAppFactory,
} from '../../helpers/app.js';
import { eventually, getBet, placedBet, postBet, quoteAt, settled } from './helpers.js';

const factory = useAppFactory();

/** The settlement's dependencies as a worker has them, over a test app's services. */
function settleDepsOf(built: TestApp): SettleDeps {
  const { deps } = built;
  return {
    db: deps.db,
    ledger: new Ledger(),
    runner: new CommandRunner(deps.db),
    prices: createPriceService(deps.config, deps.cache, deps.clock, deps.priceSource),
    clock: deps.clock,
    events: deps.events,
    logger: deps.logger,
  };
}

/** How many settlement journals each of these bets has. */
async function settlementCounts(db: Db, betIds: string[]): Promise<number[]> {
  const rows = await db.execute<{ bet_id: string; n: number }>(sql`
    select metadata->>'bet_id' as bet_id, count(*)::int as n from journal_transactions
     where kind = 'bet_settlement' and metadata->>'bet_id' = any(${sql.param(betIds)}::text[])
     group by 1`);
  const byBet = new Map(rows.rows.map((r) => [r.bet_id, r.n]));
  return betIds.map((id) => byBet.get(id) ?? 0);
}

async function placeMany(built: TestApp, token: string, count: number, symbol: string, durationS: number) {
  return await Promise.all(
    Array.from({ length: count }, async () => {
      const bet = await placedBet(built.app, token, {
        symbol,
        direction: 'up',
        stake: '10',
        leverage: 2,
        duration_seconds: durationS,
      });
      return bet.id;
    }),
  );
}

describe('bets under concurrency', () => {
  it('accepts exactly the bets that fit when 50 stakes at once exceed the balance', async () => {
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0', RATE_LIMIT_PER_USER_PER_MIN: '0' } });
    built.binance!.setQuote('BTCUSDT', quoteAt('50000'));
    const user = await registerUser(built.app);
    // 50 × 300 = 15,000 on 10,000: 33 fit (9,900), 17 do not.
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        postBet(built.app, user.token, {
          symbol: 'BTCUSDT',
          direction: 'down',
          stake: '300',
          leverage: 3,
          duration_seconds: 600,
        }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(33);
    expect(statuses.filter((s) => s === 400)).toHaveLength(17);
    for (const refused of answers.filter((a) => a.statusCode === 400))
      expect(refused.json().error.code).toBe('INSUFFICIENT_FUNDS');
    const wallet = await getWallet(built.app, user.token, user.walletId);
    expect(wallet.balances.find((b) => b.asset === 'USDT')).toEqual({
      asset: 'USDT',
      available: '100',
      locked: '9900',
    });
    await expectLedgerSound(built.deps.db);
  });

  it('settles a due bet once however many settlements run at once', async () => {
    // No jobs: the test runs the settlements itself.
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0' } });
    built.binance!.setQuote('RACEUSDT', quoteAt('100'));
    const user = await registerUser(built.app);
    const [betId] = await placeMany(built, user.token, 1, 'RACEUSDT', 2);
    built.binance!.setQuote('RACEUSDT', quoteAt('110'));
    const deps = settleDepsOf(built);
    expect((await settleBet(deps, betId!)).kind).toBe('not-due');
    await sleep(2100);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => settleBet(deps, betId!)));
    expect(outcomes.filter((o) => o.kind === 'settled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'done')).toHaveLength(19);
    expect(await settlementCounts(built.deps.db, [betId!])).toEqual([1]);
    // 10 × 2 × 10 % = 2.
    expect(await getBet(built.app, user.token, betId!)).toMatchObject({ result: 'W', profit: '2' });
    await expectLedgerSound(built.deps.db);
  });

  it('settles each overdue bet once when two sweepers race over them', async () => {
    const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0', RATE_LIMIT_PER_USER_PER_MIN: '0' } });
    built.binance!.setQuote('SWEEPUSDT', quoteAt('100'));
    const user = await registerUser(built.app);
    const ids = await placeMany(built, user.token, 30, 'SWEEPUSDT', 1);
    built.binance!.setQuote('SWEEPUSDT', quoteAt('90'));
    await sleep(1100);
    const [a, b] = await Promise.all([sweepDueBets(settleDepsOf(built)), sweepDueBets(settleDepsOf(built))]);
    expect(a.settled + b.settled).toBe(30);
    expect(a.failed + b.failed).toBe(0);
    expect(await settlementCounts(built.deps.db, ids)).toEqual(ids.map(() => 1));
    await expectLedgerSound(built.deps.db);
  });

  it.runIf(process.env.REDIS_URL)('settles each bet once with two workers on one Redis queue', async () => {
    const built = await factory.build({
      env: { PRICE_CACHE_TTL_MS: '0', RATE_LIMIT_PER_USER_PER_MIN: '0' },
      jobs: true,
    });
    const { deps } = built;
    // A second worker process: its own scheduler (BullMQ Worker) on the same queue, its own jobs.
    const cache = deps.cache as RedisCache;
    const second = new BullMqSettlementScheduler(
      process.env.REDIS_URL!,
      `${cache.keyPrefix}bull`,
      deps.logger,
    );
    const stopSecond = await startJobs({ ...deps, betScheduler: second });
    try {
      built.binance!.setQuote('TWINUSDT', quoteAt('100'));
      const user = await registerUser(built.app);
      const ids = await placeMany(built, user.token, 40, 'TWINUSDT', 3);
      built.binance!.setQuote('TWINUSDT', quoteAt('101'));
      for (const id of ids) expect(await settled(built.app, user.token, id)).toMatchObject({ late: false });
      await sleep(1000);
      expect(await settlementCounts(deps.db, ids)).toEqual(ids.map(() => 1));
      // 40 × (10 + 10 × 2 × 1 %) = 40 × 10.2 = 408 back, on 9,600 left: 10,008.
      const wallet = await getWallet(built.app, user.token, user.walletId);
      expect(wallet.balance).toBe('10008');
    } finally {
      await stopSecond();
      await second.close();
    }
    await expectLedgerSound(deps.db);
  });
});

describe('the worker role alone', () => {
  it.runIf(process.env.REDIS_URL)(
    'settles, on time, the bets an API process without jobs placed',
    async () => {
      // The API process (`serve`): no jobs. The worker process: its own scheduler on the same queue.
      const built = await factory.build({ env: { PRICE_CACHE_TTL_MS: '0' } });
      const { deps } = built;
      const cache = deps.cache as RedisCache;
      const worker = new BullMqSettlementScheduler(
        process.env.REDIS_URL!,
        `${cache.keyPrefix}bull`,
        deps.logger,
      );
      const stopWorker = await startJobs({ ...deps, betScheduler: worker });
      try {
        built.binance!.setQuote('SPLITUSDT', quoteAt('100'));
        const user = await registerUser(built.app);
        const ids = await placeMany(built, user.token, 5, 'SPLITUSDT', 2);
        built.binance!.setQuote('SPLITUSDT', quoteAt('95'));
        for (const id of ids)
          expect(await settled(built.app, user.token, id)).toMatchObject({
            result: 'L',
            profit: '-1',
            late: false,
          });
        expect(await settlementCounts(deps.db, ids)).toEqual(ids.map(() => 1));
      } finally {
        await stopWorker();
        await worker.close();
      }
      await expectLedgerSound(deps.db);
    },
  );
});

describe('no fresh price at the due time', () => {
  it('keeps the bet pending and untouched, then settles it once, late, when a price is back', async () => {
    const built = await factory.build({
      env: {
        PRICE_CACHE_TTL_MS: '0',
        PRICE_MAX_AGE_MS: '300',
        BET_SWEEP_INTERVAL_MS: '300',
      },
      jobs: true,
    });
    built.binance!.setQuote('GAPUSDT', quoteAt('100'));
    const user = await registerUser(built.app);
    const [betId] = await placeMany(built, user.token, 1, 'GAPUSDT', 1);
    built.binance!.mode = 'error500';
    built.binance!.setQuote('GAPUSDT', quoteAt('120'));
    await sleep(2500);
    const waiting = await getBet(built.app, user.token, betId!);
    expect(waiting).toMatchObject({ status: 'pending', end_price: null, profit: null });
    expect(await settlementCounts(built.deps.db, [betId!])).toEqual([0]);
    const wallet = await getWallet(built.app, user.token, user.walletId);
    expect(wallet.balances.find((b) => b.asset === 'USDT')).toMatchObject({ locked: '10' });
    built.binance!.mode = 'ok';
    const bet = await eventually(async () => {
      const b = await getBet(built.app, user.token, betId!);
      return b.status === 'completed' ? b : undefined;
    });
    // 10 × 2 × 20 % = 4, on the price after the outage.
    expect(bet).toMatchObject({ end_price: '120', result: 'W', profit: '4', late: true });
    expect(await settlementCounts(built.deps.db, [betId!])).toEqual([1]);
    await expectLedgerSound(built.deps.db);
  });
});
