/**
 * One hot balance, by raw SQL and over HTTP:
 *
 * - `hot-sql` (B): a bare Fastify app with one route, `POST /hot`, doing what SPEC §6's reference
 *   pgbench figure describes, one hot row locked, updated and logged per transaction;
 * - `hot`: the real app answering withdrawals of 0.01 on ONE wallet, compared to B.
 *
 * Both start from a balance of 100,000,000 and check it exactly afterwards.
 */
import { Decimal } from '../../src/shared/decimal.js';
import { answeredBounds, type Check, walletLedgerState } from '../harness/checks.js';
import { throughputRow } from '../harness/rows.js';
import type { BenchContext, Scenario } from '../harness/scenario.js';
import { startApp, startBareServer } from '../harness/servers.js';
import { runTimedLoad } from '../harness/timed-load.js';
import { createUsers, QUOTE_ASSET } from '../harness/users.js';

/** Hot wallet (and the raw-SQL hot row): each request withdraws this… */
const HOT_AMOUNT = '0.01';
/** …from a balance large enough for any run: 2,000/s × 3,600 s × 0.01 = 72,000. */
const HOT_INITIAL_BALANCE = '100000000';
const HOT_BODY = JSON.stringify({ operation_type: 'WITHDRAW', amount: HOT_AMOUNT });
/** SPEC §6. */
const GOAL = { requestsPerSecMin: 2_000, p99MsMax: 100 } as const;

/** Creates B's tables, its one row holding {@link HOT_INITIAL_BALANCE}. */
async function createHotTables(ctx: BenchContext): Promise<void> {
  await ctx.db.$client.query(
    'CREATE TABLE bench_hot (id int PRIMARY KEY, balance numeric(38,8) NOT NULL CHECK (balance >= 0))',
  );
  await ctx.db.$client.query(
    `CREATE TABLE bench_hot_log (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       hot_id int NOT NULL REFERENCES bench_hot (id),
       amount numeric(38,8) NOT NULL,
       balance_after numeric(38,8) NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now())`,
  );
  await ctx.db.$client.query('INSERT INTO bench_hot (id, balance) VALUES (1, $1)', [HOT_INITIAL_BALANCE]);
}

/** B's final balance, exactly {@link HOT_INITIAL_BALANCE} − {@link HOT_AMOUNT} × the rows logged. */
async function hotRowCheck(ctx: BenchContext): Promise<Check> {
  const state = await ctx.db.$client.query<{ balance: string; logged: string }>(
    'SELECT balance::text AS balance, (SELECT count(*) FROM bench_hot_log)::text AS logged FROM bench_hot WHERE id = 1',
  );
  const balance = new Decimal(state.rows[0]!.balance);
  const logged = Number(state.rows[0]!.logged);
  const expected = new Decimal(HOT_INITIAL_BALANCE).minus(new Decimal(HOT_AMOUNT).times(logged));
  return {
    scenario: 'hot-sql',
    name: 'final balance exact',
    ok: balance.eq(expected),
    detail: `${balance.toFixed()} = ${HOT_INITIAL_BALANCE} − ${HOT_AMOUNT} × ${logged} logged updates (warm-up included)`,
  };
}

/**
 * B: `BEGIN; SELECT … FOR UPDATE; UPDATE …; INSERT INTO bench_hot_log …; COMMIT` (a balance too
 * small would answer 400).
 */
export const hotSql: Scenario = {
  id: 'hot-sql',
  title: 'B. baseline: bare Fastify + pg, hot row by raw SQL',
  baselineLabel: 'B',
  settings: {
    hotInitialBalance: `${HOT_INITIAL_BALANCE} ${QUOTE_ASSET}`,
    hotBody: JSON.parse(HOT_BODY) as unknown,
  },
  async run(ctx) {
    await createHotTables(ctx);
    const server = await startBareServer(ctx, '/hot', async (client, body) => {
      const amount = String((body as { amount?: unknown } | undefined)?.amount ?? HOT_AMOUNT);
      await client.query('BEGIN');
      const locked = await client.query<{ enough: boolean }>(
        'SELECT balance, balance >= $1::numeric AS enough FROM bench_hot WHERE id = 1 FOR UPDATE',
        [amount],
      );
      if (!locked.rows[0]?.enough) {
        await client.query('ROLLBACK');
        return 400;
      }
      const updated = await client.query<{ balance: string }>(
        'UPDATE bench_hot SET balance = balance - $1::numeric WHERE id = 1 RETURNING balance::text',
        [amount],
      );
      await client.query('INSERT INTO bench_hot_log (hot_id, amount, balance_after) VALUES (1, $1, $2)', [
        amount,
        updated.rows[0]!.balance,
      ]);
      await client.query('COMMIT');
      return 201;
    });
    const result = await runTimedLoad(ctx, { title: 'hot-sql', url: server.url, body: HOT_BODY });
    await server.close();
    return {
      rows: [{ id: 'hot-sql', scenario: hotSql.title, result, goal: '—', goalMet: null }],
      checks: [await hotRowCheck(ctx)],
    };
  },
};

/** Withdrawals of 0.01 on ONE wallet over HTTP; the final balance must be exact. */
export const hot: Scenario = {
  id: 'hot',
  title: 'hot wallet: withdrawals on ONE wallet over HTTP',
  baseline: 'hot-sql',
  goal: GOAL,
  async run(ctx) {
    const [user] = await createUsers(ctx, 'bench_hot', 1, HOT_INITIAL_BALANCE);
    const target = await startApp(ctx);
    const result = await runTimedLoad(ctx, {
      title: 'hot',
      url: `${target.url}/api/v1/wallets/${user!.walletId}/operation`,
      body: HOT_BODY,
      tokens: [user!.token],
    });
    await target.close();

    // Requests cut off in flight at the end of a run may still have been applied: count what is
    // stored, and check it against what was answered and sent.
    const state = await walletLedgerState(ctx.db, user!.walletId, 'withdrawal');
    const expected = new Decimal(HOT_INITIAL_BALANCE).minus(new Decimal(HOT_AMOUNT).times(state.journals));
    const bounds = answeredBounds(result);
    return {
      rows: [throughputRow({ id: 'hot', scenario: hot.title, result, baseline: 'hot-sql' }, GOAL)],
      checks: [
        {
          scenario: 'hot',
          name: 'withdrawals stored',
          ok: state.journals >= bounds.created && state.journals <= bounds.atMost,
          detail:
            `${state.journals} withdrawals stored (warm-up included); ${bounds.created} answered 201, ` +
            `≤ ${bounds.atMost} sent and not refused`,
        },
        {
          scenario: 'hot',
          name: 'final balance exact',
          ok: state.balance.eq(expected),
          detail: `${state.balance.toFixed()} = ${HOT_INITIAL_BALANCE} − ${HOT_AMOUNT} × ${state.journals} withdrawals`,
        },
      ],
    };
  },
};
