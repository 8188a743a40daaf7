/**
 * The cluster as separate OS processes (issue 15 §7; SPEC C10, C13): the real program started as
 * 2 × `serve` (A and B, two loopback ports) and 1 × `worker` (helpers/cluster.ts), on one scratch
 * database and one Redis, priced by a fake Binance and named by a fake CoinGecko on loopback. It
 * proves, in this order (each step builds on the cluster the one before left):
 * (a) an order placed on A reaches its owner's WebSocket on B as `order.filled`, `data` equal to A's
 *     201 body;
 * (b) a price move reaches the sockets of A and B, and the watched symbol costs the fake at most one
 *     request per refresh interval (max(PRICE_CACHE_TTL_MS, 1 s)) for the whole cluster;
 * (c) the tracked-price poll (one batch request for every tracked symbol) runs once per
 *     PRICE_POLL_INTERVAL_MS with one worker and with two, and goes on when one of the two stops;
 * (d) 200 bets placed through A and B alternately, by five users, with durations of 1–8 s, are
 *     settled by the worker, each with exactly one `bet_settlement` journal (SQL);
 * (e) that worker is killed with SIGKILL once it has settled some of the first 100 and others are
 *     still pending; the other 100 are placed while no worker runs, and a new worker is started once
 *     they have all come due: each bet is still settled once, every one due while no worker ran is
 *     marked late, and the ledger reconciles.
 * The bounds on request counts are computed from the elapsed time of each measured window.
 *
 * Needs REDIS_URL and DATABASE_URL (CI's third stage): without Redis separate processes share no
 * pub/sub, cache or bet queue, so the run on the embedded defaults skips this file. Redis is used in
 * a logical database of this run's own (helpers/redis-database.ts: the program's key prefix is
 * fixed), and the watched price has a symbol of this run's own (pub/sub is server-wide).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { isReconciled } from '../../src/modules/ledger/index.js';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/platform/db/scratch.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { FakeBinance } from '../helpers/fake-binance.js';
import { FakeCoinGecko } from '../helpers/fake-coingecko.js';
import { call } from '../helpers/http.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { type StreamMessage, TestSocket } from '../helpers/stream-client.js';
import { mapBounded } from '../helpers/wallets.js';
import {
  type BetRow,
  betRows,
  eventually,
  quoteAt,
  settlementJournalCounts,
} from '../modules/bets/helpers.js';

const PRICE_CACHE_TTL_MS = 1_000;
/** README "Price bets": a bet priced more than 1 s after its due time is late. */
const LATE_GRACE_MS = 1_000;
/** From pricing a batch of bets to writing its rows, on this loaded 2-core machine at most. */
const SETTLE_WRITE_SLACK_MS = 3_000;
/** SPEC §3 "Streams": a watched price is refreshed every max(PRICE_CACHE_TTL_MS, 1 s). */
const REFRESH_INTERVAL_MS = Math.max(PRICE_CACHE_TTL_MS, 1_000);
/** The smallest poll interval the program accepts: as many polls as possible in a short window. */
const POLL_INTERVAL_MS = 1_000;
/**
 * Requests waited for in each measured window. With two processes each doing the task on their own
 * the count would double: 6 requests would come within about 3 intervals, whose bound is at most
 * 3 + 2 = 5 (`requestsMax`), so a broken claim fails the check.
 */
const REQUESTS_MEASURED = 6;
const BET_COUNT = 200;
const BETTORS = ['dora', 'eli', 'fay', 'gus', 'hal'];
/**
 * The bets of (d, e), in two halves (durations in s, one after another): the first placed while
 * the worker runs — some due before it is killed, the 8 s ones still pending then; the second
 * placed while no worker runs, all due during that outage.
 */
const WHILE_WORKER_RUNS_S = [1, 2, 8];
const WHILE_NO_WORKER_S = [1, 2];
/** Bets placed at once (requests in flight), alternating between A and B. */
const PLACING_CONCURRENCY = 8;
/** How many bets the worker must have settled, and how many must still be pending, when it is killed. */
const SETTLED_BEFORE_KILL_MIN = 40;
const PENDING_AT_KILL_MIN = 10;
/**
 * A bet settled more than 1 s after its due time is late (README "Price bets"); the outage lasts
 * this long past the last due time of the bets placed during it (ms).
 */
const LATE_MARGIN_MS = 1_500;
const PASSWORD = 'correct horse battery';
/** A symbol no other run on this Redis server watches: price channels are server-wide. */
const WATCHED = `PB${randomBytes(3).toString('hex').toUpperCase()}USDT`;
const TRACKED = ['ETH', 'BNB'];

let scratch: ScratchDatabase | undefined;
let redis: RedisDatabase | undefined;
let binance: FakeBinance | undefined;
let coingecko: FakeCoinGecko | undefined;
let cluster: Cluster | undefined;
let db: Db | undefined;
const sockets: TestSocket[] = [];
let trackerToken = '';
let oneWorkerPolls: ReturnType<typeof openWindow> | undefined;

/** Poll requests: the one batch that names every tracked symbol. */
function polls(): number {
  const batch = TRACKED.map((symbol) => `${symbol}USDT`)
    .sort()
    .join(',');
  return binance!.batchRequestsBySymbols.get(batch) ?? 0;
}

/** One line of what a step measured, in the test's output. */
function report(step: string, facts: Record<string, unknown>): void {
  console.log(`[cluster] ${step}: ${JSON.stringify(facts)}`);
}

/**
 * The most requests a once-per-interval task (claimed per slot `floor(now / intervalMs)` across
 * the cluster) may have made in [startMs, endMs]: one per slot the window touches, plus one claimed
 * in the slot before it whose request was still on its way at `startMs`.
 */
function requestsMax(startMs: number, endMs: number, intervalMs: number): number {
  return Math.floor(endMs / intervalMs) - Math.floor(startMs / intervalMs) + 2;
}

/**
 * A measured window of a once-per-interval task: opened now on `count()` (requests the fake has
 * seen); `close` waits until the count has grown by `least` (the task runs), then checks that it
 * grew by at most `requestsMax` of the window (no interval ran it twice) and reports both.
 */
function openWindow(count: () => number, intervalMs: number) {
  const before = count();
  const startMs = Date.now();
  return {
    async close(step: string, least = REQUESTS_MEASURED): Promise<void> {
      await eventually(async () => (count() - before >= least ? true : undefined), 30_000);
      const endMs = Date.now();
      const counted = count() - before;
      const bound = requestsMax(startMs, endMs, intervalMs);
      report(step, { requests: counted, bound, elapsedMs: endMs - startMs, intervalMs });
      expect(counted).toBeLessThanOrEqual(bound);
    },
  };
}

async function register(baseUrl: string, username: string): Promise<string> {
  const res = await call(baseUrl, 'POST', '/api/v1/auth/register', {
    body: { username, password: PASSWORD },
  });
  expect(res.status, res.body).toBe(201);
  return res.json.access_token as string;
}

async function openSocket(baseUrl: string, token: string, channels: string[]): Promise<TestSocket> {
  const socket = await TestSocket.open(baseUrl, { bearer: token });
  sockets.push(socket);
  expect(await socket.subscribe(channels)).toEqual({ op: 'subscribed', channels });
  return socket;
}

const isTick = (symbol: string, price: string) => (m: StreamMessage) =>
  m.channel === `prices:${symbol}` && m.price === price;

/** A bet as placed: its id and due time (from the 201 body). */
interface PlacedBet {
  id: string;
  dueAtMs: number;
}

/**
 * Places `count` bets, alternately on each `serve` process, by the users of `tokens` in turn, with
 * the durations of `durationsS` in turn.
 */
async function placeBets(
  urls: string[],
  tokens: string[],
  count: number,
  durationsS: number[],
): Promise<PlacedBet[]> {
  return await mapBounded(Array.from({ length: count }), PLACING_CONCURRENCY, async (_, i) => {
    const res = await call(urls[i % urls.length]!, 'POST', '/api/v1/bets', {
      token: tokens[i % tokens.length],
      body: {
        symbol: 'BTCUSDT',
        direction: i % 3 === 0 ? 'down' : 'up',
        stake: '10',
        leverage: 2,
        duration_seconds: durationsS[i % durationsS.length],
      },
    });
    expect(res.status, res.body).toBe(201);
    return { id: res.json.id as string, dueAtMs: Date.parse(res.json.due_at as string) };
  });
}

/** How many of the bets `ids` are completed. */
async function completedCount(ids: string[]): Promise<number> {
  return (await betRows(db!, ids)).filter((row) => row.status === 'completed').length;
}

/**
 * Each bet settled exactly once: one `bet_settlement` journal per bet and none besides (SQL), and
 * `late` set exactly where it was priced more than 1 s after its due time (its row may be written
 * up to SETTLE_WRITE_SLACK_MS later than it was priced).
 * @returns the journal counts per bet that were found (all 1)
 */
async function expectSettledOnce(rows: BetRow[]): Promise<number[]> {
  const counts = await settlementJournalCounts(
    db!,
    rows.map((row) => row.id),
  );
  expect(rows.filter((row) => row.status !== 'completed' || counts.get(row.id) !== 1)).toEqual([]);
  const all = await db!.execute<{ n: number }>(
    sql`select count(*)::int as n from journal_transactions where kind = 'bet_settlement'`,
  );
  expect(all.rows[0]!.n).toBe(rows.length);
  for (const row of rows) {
    // `late` is decided when the bet is priced; its row is written a moment later (settled_at).
    const afterDueMs = row.settled_at!.getTime() - row.due_at.getTime();
    if (row.late) expect(afterDueMs, row.id).toBeGreaterThan(LATE_GRACE_MS);
    else expect(afterDueMs, row.id).toBeLessThanOrEqual(LATE_GRACE_MS + SETTLE_WRITE_SLACK_MS);
  }
  return [...new Set(counts.values())];
}

/** Starts the fakes and the cluster, on a scratch database and a Redis database of this run's own. */
async function startAll(): Promise<void> {
  scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_cluster');
  redis = await claimRedisDatabase(process.env.REDIS_URL!);
  binance = await new FakeBinance().start();
  coingecko = await new FakeCoinGecko().start();
  // Every symbol is listed before the processes start: the symbol list is kept an hour.
  binance.setQuote('BTCUSDT', quoteAt('50000'));
  binance.setQuote(WATCHED, quoteAt('20'));
  binance.setQuote('ETHUSDT', quoteAt('3000'));
  binance.setQuote('BNBUSDT', quoteAt('300'));
  db = createDb(scratch.url, 2);
  const startedMs = Date.now();
  cluster = await startCluster({
    serves: 2,
    workers: 1,
    env: {
      DATABASE_URL: scratch.url,
      REDIS_URL: redis.url,
      BINANCE_BASE_URL: binance.baseUrl,
      COINGECKO_BASE_URL: coingecko.baseUrl,
      PRICE_CACHE_TTL_MS: String(PRICE_CACHE_TTL_MS),
      PRICE_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      // Only the start-up sweep runs within the test: a bet settled before the kill was settled by
      // its BullMQ job, which the API process that placed it had scheduled.
      BET_SWEEP_INTERVAL_MS: '600000',
      RATE_LIMIT_PER_USER_PER_MIN: '0',
    },
  });
  report('started', { processes: 3, ms: Date.now() - startedMs, redisDb: redis.index });
  // (c)'s tracked symbols go in now, so that its one-worker window runs while (a) and (b) do.
  const [a] = cluster.baseUrls as [string];
  trackerToken = await register(a, 'cyd');
  for (const symbol of TRACKED) {
    const res = await call(a, 'POST', '/api/v1/tracked', { token: trackerToken, body: { symbol } });
    expect(res.status, res.body).toBe(201);
  }
  oneWorkerPolls = openWindow(polls, POLL_INTERVAL_MS);
}

async function stopAll(): Promise<void> {
  for (const socket of sockets) socket.close();
  await cluster?.stop();
  await db?.$client.end();
  await binance?.close();
  await coingecko?.close();
  await scratch?.drop();
  await redis?.release();
}

describe.runIf(process.env.REDIS_URL && process.env.DATABASE_URL)(
  '2 × serve + 1 × worker as OS processes',
  () => {
    beforeAll(startAll);
    afterAll(stopAll);

    it('(a) sends an order placed on A to its owner’s socket on B, as A answered it', async () => {
      const [a, b] = cluster!.baseUrls as [string, string];
      const token = await register(a, 'ann');
      const socket = await openSocket(b, token, ['account']);
      const order = await call(a, 'POST', '/api/v1/orders', {
        token,
        body: { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' },
      });
      expect(order.status, order.body).toBe(201);
      const filled = await socket.next((m) => m.event === 'order.filled', 10_000);
      expect(filled).toEqual({ channel: 'account', event: 'order.filled', data: order.json });
    });

    it('(b) pushes a price move to sockets on A and B, ≤ 1 upstream request per refresh interval', async () => {
      const [a, b] = cluster!.baseUrls as [string, string];
      const token = await register(b, 'bob');
      const watchers = [
        await openSocket(a, token, [`prices:${WATCHED}`]),
        await openSocket(b, token, [`prices:${WATCHED}`]),
      ];
      for (const socket of watchers) await socket.next(isTick(WATCHED, '20'), 10_000);
      const requests = () => binance!.priceRequestsBySymbol.get(WATCHED) ?? 0;
      const movedAtMs = Date.now();
      binance!.setQuote(WATCHED, quoteAt('21'));
      const delaysMs = await Promise.all(
        watchers.map(async (socket) => {
          await socket.next(isTick(WATCHED, '21'), 10_000);
          return Date.now() - movedAtMs;
        }),
      );
      report('(b) tick of the move', { delayOnAMs: delaysMs[0], delayOnBMs: delaysMs[1] });
      await openWindow(requests, REFRESH_INTERVAL_MS).close(`(b) requests for ${WATCHED}`);
    }, 60_000);

    it('(c) polls the tracked prices once per interval with one worker and with two', async () => {
      // One worker since beforeAll: a window that spans (a) and (b).
      await oneWorkerPolls!.close('(c) polls, 1 worker');
      await cluster!.add('worker');
      await openWindow(polls, POLL_INTERVAL_MS).close('(c) polls, 2 workers');
      // The first worker goes: the second polls alone — it took part, it did not just idle — and it is
      // the worker of (d) and (e).
      await cluster!.workers[0]!.stop();
      await openWindow(polls, POLL_INTERVAL_MS).close('(c) polls, the second worker alone', 2);
      const [a] = cluster!.baseUrls as [string];
      for (const symbol of TRACKED) {
        const res = await call(a, 'DELETE', `/api/v1/tracked/${symbol}`, { token: trackerToken });
        expect(res.status, res.body).toBe(204);
      }
    }, 90_000);

    it('(d, e) settles 200 bets placed through A and B once each, across a SIGKILL and restart of the worker', async () => {
      const urls = cluster!.baseUrls;
      const worker = cluster!.workers.find((member) => member.running)!;
      const tokens = await Promise.all(BETTORS.map((name, i) => register(urls[i % urls.length]!, name)));
      const placingAtMs = Date.now();
      const first = await placeBets(urls, tokens, BET_COUNT / 2, WHILE_WORKER_RUNS_S);
      const placedInMs = Date.now() - placingAtMs;
      // The price moves: wins and losses, not only draws.
      binance!.setQuote('BTCUSDT', quoteAt('50500'));
      const firstIds = first.map((bet) => bet.id);
      await eventually(async () => {
        const completed = await completedCount(firstIds);
        const midway =
          completed >= SETTLED_BEFORE_KILL_MIN && first.length - completed >= PENDING_AT_KILL_MIN;
        return midway ? true : undefined;
      }, 30_000);
      const killedAtMs = Date.now();
      expect(await worker.kill()).toBe('SIGKILL');
      const settledBeforeKill = new Set(
        (await betRows(db!, firstIds)).filter((row) => row.status === 'completed').map((row) => row.id),
      );

      // No worker: the API processes still take bets and queue their settlements.
      const second = await placeBets(urls, tokens, BET_COUNT / 2, WHILE_NO_WORKER_S);
      const lastDueMs = Math.max(...second.map((bet) => bet.dueAtMs));
      // Until the last of them is late by a margin: a computed instant, not a guess.
      await sleep(Math.max(0, lastDueMs + LATE_MARGIN_MS - Date.now()));
      const restartedAtMs = Date.now();
      await worker.restart();
      const readyAfterMs = Date.now() - restartedAtMs;
      const ids = [...firstIds, ...second.map((bet) => bet.id)];
      await eventually(async () => ((await completedCount(ids)) === BET_COUNT ? true : undefined), 30_000);

      const rows = await betRows(db!, ids);
      const journalsPerBet = await expectSettledOnce(rows);
      // Due after the kill and more than 1 s before a worker ran again: late, every one.
      const outage = rows.filter(
        (row) => row.due_at.getTime() > killedAtMs && row.due_at.getTime() < restartedAtMs - 1_000,
      );
      expect(outage.length).toBeGreaterThanOrEqual(second.length);
      expect(outage.filter((row) => !row.late).map((row) => row.id)).toEqual([]);
      const before = rows.filter((row) => settledBeforeKill.has(row.id));
      const after = rows.filter((row) => !settledBeforeKill.has(row.id));
      report('(d, e) bets', {
        placed: BET_COUNT,
        firstHalfPlacedInMs: placedInMs,
        settledBeforeKill: before.length,
        onTimeBeforeKill: before.filter((row) => !row.late).length,
        pendingAtKill: first.length - before.length,
        placedWhileNoWorker: second.length,
        dueWhileNoWorker: outage.length,
        settledAfterRestart: after.length,
        lateAfterRestart: after.filter((row) => row.late).length,
        outageMs: restartedAtMs - killedAtMs,
        workerReadyAfterMs: readyAfterMs,
        journalsPerBet,
      });
      expect(isReconciled(await reconcileAll(db!))).toBe(true);
    }, 120_000);
  },
);
