/**
 * Seed 003's burst: exactly 1,000 withdrawals of 100, 64 at a time, on a wallet holding exactly
 * 10,000 → exactly 100 × 201, 900 × 400, no 5xx, final balance "0". Not a timed run. First the same
 * burst on another wallet, as warm-up (checked too, figures discarded).
 */
import { type Check, walletLedgerState } from '../harness/checks.js';
import type { BenchContext, Scenario } from '../harness/scenario.js';
import { startApp } from '../harness/servers.js';
import { CONNECTIONS } from '../harness/timed-load.js';
import { type BenchUser, createUsers } from '../harness/users.js';
import { type LoadResult, runBurst } from '../load.js';

/** Seed 003: 1,000 withdrawals of 100 at once on a wallet holding exactly 10,000. */
const BURST = {
  count: 1_000,
  balance: '10000',
  amount: '100',
  expected201: 100,
  expected400: 900,
  concurrency: CONNECTIONS,
  timeoutMs: 60_000,
} as const;
const BURST_BODY = JSON.stringify({ operation_type: 'WITHDRAW', amount: BURST.amount });

/**
 * Seed 003's answers and the wallet's final state after one burst.
 * @param apiBalance what `GET /api/v1/wallets/{id}` showed afterwards (the measured burst only),
 *   null when it did not answer 200
 */
async function burstCheck(
  ctx: BenchContext,
  run: LoadResult,
  user: BenchUser,
  label: string,
  shown: { apiBalance: string | null; status: number } | undefined,
): Promise<Check> {
  const state = await walletLedgerState(ctx.db, user.walletId, 'withdrawal');
  const count = (code: string) => run.statusCodes[code] ?? 0;
  const fiveXx = Object.entries(run.statusCodes)
    .filter(([code]) => code.startsWith('5'))
    .reduce((total, [, n]) => total + n, 0);
  const ok =
    run.responses === BURST.count &&
    count('201') === BURST.expected201 &&
    count('400') === BURST.expected400 &&
    fiveXx === 0 &&
    run.connectionErrors === 0 &&
    state.journals === BURST.expected201 &&
    state.balance.isZero() &&
    (shown === undefined || shown.apiBalance === '0');
  return {
    scenario: 'burst',
    name: `${label}: seed 003 answers and final balance`,
    ok,
    detail:
      `${count('201')}×201, ${count('400')}×400, ${fiveXx}×5xx, ${run.connectionErrors} connection errors ` +
      `of ${BURST.count}; ${state.journals} withdrawals stored; balance ${state.balance.toFixed()}` +
      (shown ? ` (API "${shown.apiBalance ?? `HTTP ${shown.status}`}")` : '') +
      ` — expected ${BURST.expected201}×201, ${BURST.expected400}×400, 0×5xx, balance "0"`,
  };
}

export const burst: Scenario = {
  id: 'burst',
  title: `seed 003 burst: ${BURST.count.toLocaleString('en-US')} withdrawals of ${BURST.amount} on 10,000`,
  settings: { burst: { ...BURST, body: JSON.parse(BURST_BODY) as unknown } },
  async run(ctx) {
    const [warmupUser, user] = await createUsers(ctx, 'bench_burst', 2, BURST.balance);
    const target = await startApp(ctx);
    console.log(
      `burst: ${BURST.count} withdrawals of ${BURST.amount} (${BURST.concurrency} at a time) on a warm-up wallet, then on the measured one…`,
    );
    const fire = (u: BenchUser, title: string) =>
      runBurst(
        {
          title,
          url: `${target.url}/api/v1/wallets/${u.walletId}/operation`,
          body: BURST_BODY,
          token: u.token,
          count: BURST.count,
          concurrency: BURST.concurrency,
          expectedStatuses: [201, 400],
          timeoutMs: BURST.timeoutMs,
        },
        ctx.signal,
      );
    const warmup = await fire(warmupUser!, 'burst warm-up');
    const result = { ...(await fire(user!, 'burst')), warmup };
    // Every request has been answered: the balance the API shows now is final.
    const shown = await target.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${user!.walletId}`,
      headers: { authorization: `Bearer ${user!.token}` },
    });
    const apiBalance =
      shown.statusCode === 200 ? String((shown.json() as { balance?: unknown }).balance) : null;
    await target.close();

    const checks = [
      await burstCheck(ctx, warmup, warmupUser!, 'warm-up burst', undefined),
      await burstCheck(ctx, result, user!, 'burst', { apiBalance, status: shown.statusCode }),
    ];
    const passed = checks.every((c) => c.ok);
    const row = {
      id: 'burst',
      scenario: burst.title,
      result,
      goal: `${BURST.expected201}×201, ${BURST.expected400}×400, 0×5xx, balance 0: ${passed ? 'OK' : 'FAIL'}`,
      goalMet: passed,
      note: `wall time ${result.durationS.toFixed(2)} s (warm-up burst ${result.warmup.durationS.toFixed(2)} s)`,
    };
    return { rows: [row], checks };
  },
};
