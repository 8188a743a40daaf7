/**
 * Resting orders (issue 17), in two parts on the 1,000 shared users.
 *
 * Placement: the real app answering `POST /api/v1/orders` with a limit buy far below the market
 * (it rests, reserving its cost), and with the orders scenario's market buy, measured in turn
 * (A B, B A, …) on one app so that both rates see the same moments of the machine. Goal: the
 * resting placement rate at least the market-order rate of the same run.
 *
 * Fill: 10 limit buys per wallet on one symbol the bench prices (10,000 in all, below the market),
 * placed through the real app; then one price move crosses all of them and the matcher runs as the
 * worker runs it on that tick (`matchAll` with a `MatchCommand` on a `CommandRunner`), again until
 * every one is filled. Measured: the time from the move until the last is filled. Checked: each
 * filled exactly once (one `order_fill` journal each) and the ledger reconciles.
 */
import { Ledger } from '../../src/modules/ledger/journal.js';
import { createPriceService } from '../../src/modules/market/service.js';
import { matchAll } from '../../src/modules/trading/index.js';
import { MatchCommand } from '../../src/modules/trading/match-command.js';
import type { MatcherDeps } from '../../src/modules/trading/matcher.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { CommandRunner } from '../../src/platform/commands/runner.js';
import { MemoryEventBus } from '../../src/platform/events/bus.js';
import { systemClock } from '../../src/shared/clock.js';
import { answeredBounds, type Check, checkLedger, ledgerLine } from '../harness/checks.js';
import { mapConcurrently } from '../harness/concurrency.js';
import { queryCount } from '../harness/database.js';
import type { RowDraft } from '../harness/rows.js';
import type { BenchContext, Scenario, ScenarioOutcome } from '../harness/scenario.js';
import { startApp } from '../harness/servers.js';
import { interleavedLoads, type LoadTarget } from '../harness/timed-load.js';
import { type LoadResult, type LoadSpec, runLoad } from '../load.js';
import { ORDER_BODY } from './orders.js';

/** The resting limit buy of the placement load: far below the replayed price (≈ 46,000–50,000). */
const RESTING_BODY = JSON.stringify({
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  price: '20000',
  quantity: '0.0001',
  time_in_force: 'gtc',
});

/** The fill part: 10 buys on each of the 1,000 wallets, one price move that crosses them all. */
const FILL = {
  symbol: 'ETHUSDT',
  ordersPerWallet: 10,
  quantity: '0.01',
  /** the price when they are placed; order k of a wallet rests at `limitTop − k` */
  openPrice: '3000',
  limitTop: 2990,
  /** the ask after the move, below every limit */
  crossPrice: '2900',
  placeConcurrency: 32,
  /** matcher passes stop after this long; what is then still open counts as unfilled */
  fillTimeoutMs: 60_000,
} as const;

/** Issue 17. */
const GOAL = { placementVsMarketRatioMin: 1, fillAllMsMax: 2_000 } as const;

/** A price source whose one price the bench sets (bid = ask = last), for the fill part. */
class SetPrice {
  readonly name = 'bench';
  constructor(public price: string) {}
  async fetchQuote(symbol: string) {
    const { price } = this;
    return { symbol, last: price, bid: price, ask: price, source: this.name, asOfMs: Date.now() };
  }
}

/** Both placement loads in turn on one app: market buys first, then resting limit buys. */
async function measurePlacement(ctx: BenchContext): Promise<{ market: LoadResult; limit: LoadResult }> {
  const target = await startApp(ctx);
  const tokens = ctx.sharedUsers.map((u) => u.token);
  const posting = (title: string, body: string): LoadTarget => ({
    title,
    url: `${target.url}/api/v1/orders`,
    run: (spec: LoadSpec) => runLoad({ ...spec, method: 'POST', body, tokens }, ctx.signal),
  });
  const [market, limit] = await interleavedLoads(ctx, [
    posting('resting (market orders)', ORDER_BODY),
    posting('resting (limit orders)', RESTING_BODY),
  ]);
  await target.close();
  return { market: market!, limit: limit! };
}

/** The placement rows and their stored-count checks (counts taken before and after the loads). */
async function placementOutcome(ctx: BenchContext): Promise<ScenarioOutcome> {
  const countOf = async (type: string) =>
    await queryCount(
      ctx.db,
      "SELECT count(*)::text AS n FROM orders WHERE symbol = 'BTCUSDT' AND type = $1 AND status = $2",
      [type, type === 'market' ? 'filled' : 'new'],
    );
  const before = { market: await countOf('market'), limit: await countOf('limit') };
  const { market, limit } = await measurePlacement(ctx);
  const stored = {
    market: (await countOf('market')) - before.market,
    limit: (await countOf('limit')) - before.limit,
  };
  const ratio = limit.requestsPerSec / market.requestsPerSec;
  const goalMet = ratio >= GOAL.placementVsMarketRatioMin && limit.errors === 0;
  const rows: RowDraft[] = [
    {
      id: 'resting',
      variant: 'market orders',
      scenario: `${resting.title}: market buys, in turn with limit placement`,
      result: market,
      baseline: 'baseline',
      goal: '—',
      goalMet: null,
    },
    {
      id: 'resting',
      variant: 'limit placement',
      scenario: `${resting.title}: limit buys placed (resting), in turn with market buys`,
      result: limit,
      baseline: 'baseline',
      goal: `≥ market buys' ${market.requestsPerSec.toFixed(0)}/s: ${goalMet ? 'MET' : 'MISSED'} (${ratio.toFixed(2)} ×)`,
      goalMet,
    },
  ];
  const storedCheck = (kind: 'market' | 'limit', result: LoadResult): Check => {
    const { created, atMost } = answeredBounds(result);
    return {
      scenario: 'resting',
      name: `placement: ${kind} orders stored within the answers`,
      ok: created <= stored[kind] && stored[kind] <= atMost,
      detail: `${stored[kind]} ${kind === 'limit' ? 'resting' : 'filled'} stored; ${created} answered 201, at most ${atMost} (warm-up included)`,
    };
  };
  return { rows, checks: [storedCheck('market', market), storedCheck('limit', limit)] };
}

/** Places the fill part's 10,000 buys through the real app, priced by `source`; their ids. */
async function placeFillOrders(ctx: BenchContext, source: SetPrice): Promise<string[]> {
  const config = { ...ctx.config, priceCacheTtlMs: 0 };
  const { app, close } = await startApp(ctx, { config, priceSource: source });
  const users = ctx.sharedUsers;
  const indexes = Array.from({ length: users.length * FILL.ordersPerWallet }, (_, i) => i);
  const ids = await mapConcurrently(
    indexes,
    FILL.placeConcurrency,
    async (i) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { authorization: `Bearer ${users[i % users.length]!.token}` },
        payload: {
          symbol: FILL.symbol,
          side: 'buy',
          type: 'limit',
          quantity: FILL.quantity,
          price: String(FILL.limitTop - Math.floor(i / users.length)),
        },
      });
      const body = res.json() as { id: string; status: string };
      if (res.statusCode !== 201 || body.status !== 'new')
        throw new Error(`resting order ${i} answered ${res.statusCode}: ${res.body}`);
      return body.id;
    },
    ctx.signal,
  );
  await close();
  return ids;
}

/** Moves the price through every limit, then matches as the worker does until all are filled. */
async function fillAfterMove(
  ctx: BenchContext,
  source: SetPrice,
  count: number,
): Promise<{ filled: number; passes: number; elapsedMs: number; movedAtMs: number }> {
  const config = { ...ctx.config, priceCacheTtlMs: 0 };
  const deps: MatcherDeps = {
    db: ctx.db,
    prices: createPriceService(config, new MemoryCache(), systemClock, source),
    events: new MemoryEventBus(),
    logger: ctx.logger,
    runner: new CommandRunner(ctx.db),
    clock: systemClock,
    ledger: new Ledger(),
    makerFeeRate: config.makerFeeRate,
    takerFeeRate: config.takerFeeRate,
    margin: { initial: config.shortInitialMarginRate, maintenance: config.shortMaintenanceMarginRate },
  };
  const command = new MatchCommand(deps);
  source.price = FILL.crossPrice;
  const movedAtMs = Date.now();
  const startMs = performance.now();
  let filled = 0;
  let passes = 0;
  // The worker matches on the tick of the move, then at least every second: here back to back.
  while (filled < count && performance.now() - startMs < FILL.fillTimeoutMs) {
    filled += await matchAll(deps, command, [FILL.symbol]);
    passes += 1;
  }
  return { filled, passes, elapsedMs: performance.now() - startMs, movedAtMs };
}

/** The fill part: the 10,000 placed, the move, the matching; its row and its exactly-once checks. */
async function fillOutcome(ctx: BenchContext): Promise<ScenarioOutcome> {
  const source = new SetPrice(FILL.openPrice);
  console.log(
    `resting: placing ${ctx.sharedUsers.length * FILL.ordersPerWallet} limit buys on ${FILL.symbol}, ${FILL.ordersPerWallet} per wallet…`,
  );
  const placeStartMs = performance.now();
  const ids = await placeFillOrders(ctx, source);
  const placeMs = performance.now() - placeStartMs;
  console.log(`resting: ${ids.length} resting; the price moves to ${FILL.crossPrice}, matching…`);
  const { filled, passes, elapsedMs, movedAtMs } = await fillAfterMove(ctx, source, ids.length);
  // Each order's fill instant is its transaction's start (`updated_at = now()`), before its commit.
  const lags = await ctx.db.$client.query<{ lag_ms: string }>(
    `SELECT (extract(epoch FROM updated_at) * 1000 - $2)::text AS lag_ms FROM orders
      WHERE id = ANY($1::uuid[]) AND status = 'filled' AND journal_id IS NOT NULL ORDER BY updated_at`,
    [ids, movedAtMs],
  );
  const lagMs = lags.rows.map((r) => Number(r.lag_ms));
  const at = (q: number) => lagMs[Math.min(lagMs.length - 1, Math.floor(q * lagMs.length))] ?? Number.NaN;
  const journals = await ctx.db.$client.query<{ journals: string; orders: string; twice: string }>(
    `SELECT count(*)::text AS journals, count(DISTINCT order_id)::text AS orders,
            (count(*) - count(DISTINCT order_id))::text AS twice
       FROM (SELECT metadata->>'order_id' AS order_id FROM journal_transactions
              WHERE kind = 'order_fill' AND metadata->>'order_id' = ANY($1::text[])) j`,
    [ids],
  );
  const fills = journals.rows[0]!;
  const goalMet = lagMs.length === ids.length && elapsedMs <= GOAL.fillAllMsMax;
  const unfilled = ids.length - lagMs.length;
  const result: LoadResult = {
    requestsPerSec: (lagMs.length / elapsedMs) * 1000,
    latencyP50Ms: at(0.5),
    latencyP99Ms: at(0.99),
    latencyMeanMs: lagMs.reduce((a, b) => a + b, 0) / Math.max(lagMs.length, 1),
    latencyMaxMs: at(1),
    sent: ids.length,
    responses: lagMs.length,
    ok2xx: lagMs.length,
    non2xx: 0,
    connectionErrors: 0,
    timeouts: 0,
    errors: unfilled,
    statusCodes: { filled: lagMs.length },
    durationS: elapsedMs / 1000,
  };
  const ledger = await checkLedger(ctx.db);
  const row: RowDraft = {
    id: 'resting',
    variant: 'fill after a move',
    scenario: `${resting.title}: ${ids.length} limit buys filled after one move (fills/s; lag after the move)`,
    result,
    goal: `all filled ≤ ${GOAL.fillAllMsMax / 1000} s: ${goalMet ? 'MET' : 'MISSED'} (${(elapsedMs / 1000).toFixed(2)} s, ${passes} matcher pass${passes === 1 ? '' : 'es'})`,
    goalMet,
    note: `fill lag after the move (transaction start): p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms; placing the ${ids.length} took ${(placeMs / 1000).toFixed(1)} s (${((ids.length / placeMs) * 1000).toFixed(0)}/s, ${FILL.placeConcurrency} at a time in-process)`,
  };
  return {
    rows: [row],
    checks: [
      {
        scenario: 'resting',
        name: `fill: ${ids.length} resting buys filled once each`,
        ok:
          filled === ids.length &&
          lagMs.length === ids.length &&
          Number(fills.journals) === ids.length &&
          fills.twice === '0',
        detail: `${lagMs.length} filled (matcher counted ${filled}) in ${elapsedMs.toFixed(0)} ms over ${passes} pass(es); ${fills.journals} order_fill journals for ${fills.orders} orders, ${fills.twice} extra`,
      },
      {
        scenario: 'resting',
        name: 'fill: reconcile after the fills',
        ok: ledger.ok,
        detail: ledgerLine(ledger),
      },
    ],
  };
}

export const resting: Scenario = {
  id: 'resting',
  title: 'resting orders on 1,000 wallets',
  baseline: 'baseline',
  usesSharedUsers: true,
  goal: GOAL,
  settings: {
    restingBody: JSON.parse(RESTING_BODY) as unknown,
    restingFill: { ...FILL },
  },
  async run(ctx) {
    const placement = await placementOutcome(ctx);
    const fill = await fillOutcome(ctx);
    return { rows: [...placement.rows, ...fill.rows], checks: [...placement.checks, ...fill.checks] };
  },
};
