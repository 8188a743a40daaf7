/**
 * Crashes under a mixed load (issue 21, point 2; SPEC §5 rules 2–4). The real server runs as a child
 * process in the `all` role (API and jobs in one process; BullMQ when REDIS_URL is set, in-process
 * timers otherwise) on a scratch database, priced by a fake Binance on loopback. Four users send a
 * mixed burst — deposits, withdrawals, market orders on all four sides (buy, sell, short,
 * close_short), resting limit buys and bets of 1–3 s — each request with its own Idempotency-Key. At a seeded random
 * moment (after 20–60 % of the answers) the process is frozen and killed with SIGKILL, and a new one
 * is started on the same database. That happens three times. After each restart:
 * - every request answered 2xx is in the database: an operation under the journal id it was
 *   answered with (kind and amount), an order by its id (and its journal), a bet by its id (and its
 *   escrow journal); every lost one is there once or not at all (its unique amount, its
 *   client_order_id, its unique stake say which);
 * - no journal is partial or unaccounted for: reconcile is clean (every journal sums to zero, the
 *   balances and chains agree, the escrow, collateral and order-reserve accounts match their bets,
 *   shorts and open orders), and
 *   every journal is a registration grant, a wallet operation, an order's or a bet's;
 * - every answered request sent again with its key gets its first answer byte for byte; every lost
 *   one sent again is replayed if it had committed (same id) or runs now if not;
 * - every bet due by then is settled exactly once (one bet_settlement journal, the bet's own), and
 *   still once after another sweep.
 * The seed is printed; CRASH_SEED=<n> runs the same bursts and kill points again.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { isReconciled } from '../../src/modules/ledger/index.js';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/platform/db/scratch.js';
import { FakeBinance } from '../helpers/fake-binance.js';
import {
  type MixedKind as Kind,
  mixedBurst,
  type MixedRequest as Request,
  registerMixedUsers,
  sendMixed,
  type MixedUser as User,
} from '../helpers/mixed-load.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';
import { mapBounded, seededRandom } from '../helpers/wallets.js';
import { quoteAt, settlementJournalCounts } from '../modules/bets/helpers.js';

const USER_COUNT = 4;
const KILLS = 3;
/** Requests per burst (one burst before each kill). */
const BURST_SIZE = 150;
const CONCURRENCY = 32;
/** The kill comes after this fraction of a burst's answers, drawn from the seed. */
const KILL_FRACTION_MIN = 0.2;
const KILL_FRACTION_MAX = 0.6;
/** Budget of one request (ms): a request to a dead server fails at once; this bounds a hung one. */
const REQUEST_TIMEOUT_MS = 20_000;
/** How long the server stays frozen before the kill (ms): a COMMIT already on the wire completes. */
const FROZEN_MS = 300;
/** The bet sweeper's interval in the child (ms): overdue bets are found this often. */
const SWEEP_MS = 500;
/** How long bets due by now get to be settled after a restart (ms). */
const SETTLE_WAIT_MS = 15_000;
/** The price of BTCUSDT in each burst: it moves, so bets win and lose. */
const PRICES = ['50000', '50150', '49850'];
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);

/** What the client saw: an answer, or nothing (the connection failed). */
type Outcome = { status: number; body: string } | { lost: string };
type Answered = { request: Request; status: number; body: string };

let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
let binance: FakeBinance | undefined;
let db: Db | undefined;
/** With REDIS_URL: a logical database of this run's own (the program's Redis keys have a fixed prefix). */
let redis: RedisDatabase | undefined;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_crash_mixed');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-crash-mixed-'));
  binance = await new FakeBinance().start();
  binance.setQuote('BTCUSDT', quoteAt(PRICES[0]!));
  db = createDb(scratch.url, 2);
  if (process.env.REDIS_URL) redis = await claimRedisDatabase(process.env.REDIS_URL);
});

afterAll(async () => {
  for (const server of servers) if (server.running) await server.stop(2_000);
  await db?.$client.end();
  await binance?.close();
  await scratch?.drop();
  await redis?.release();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

async function startServer(): Promise<ServerProcess> {
  const env = childEnv({
    DATABASE_URL: scratch!.url,
    DATA_DIR: dataDir!,
    // Errors only: the child's recent output then says why, should a request answer 5xx.
    LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'error',
    BINANCE_BASE_URL: binance!.baseUrl,
    PRICE_CACHE_TTL_MS: '0',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    BET_SWEEP_INTERVAL_MS: String(SWEEP_MS),
  });
  if (redis) env.REDIS_URL = redis.url;
  const server = await ServerProcess.start(env, 'all');
  servers.push(server);
  return server;
}

/** Freezes the server (SIGSTOP) so that PostgreSQL finishes what it was sent, then kills it. */
async function crash(server: ServerProcess): Promise<void> {
  server.kill('SIGSTOP');
  await sleep(FROZEN_MS);
  server.kill('SIGKILL');
}

/** The id a 2xx answer names: a journal id for an operation, an order's or a bet's uuid. */
const idOf = (a: { body: string }) => (JSON.parse(a.body) as { id: number | string }).id;

/**
 * What the database holds of `request`, by what names it: the journal ids of an operation (its
 * unique amount), the ids of an order (its client_order_id) or a bet (its unique stake).
 */
async function committed(users: User[], request: Request): Promise<(number | string)[]> {
  const user = users[request.user]!;
  if (request.kind === 'DEPOSIT' || request.kind === 'WITHDRAW') {
    const rows = await db!.execute<{ id: number }>(sql`
      select distinct j.id::int as id from journal_transactions j join ledger_entries e on e.journal_id = j.id
       where j.kind in ('deposit', 'withdrawal') and j.metadata->>'wallet_id' = ${user.walletId}
         and abs(e.amount) = ${request.body.amount as string}::numeric`);
    return rows.rows.map((r) => r.id);
  }
  if (request.kind === 'bet') {
    const rows = await db!.execute<{ id: string }>(sql`
      select id from bets where user_id = ${user.userId} and stake = ${request.body.stake as string}::numeric`);
    return rows.rows.map((r) => r.id);
  }
  const rows = await db!.execute<{ id: string }>(sql`
    select id from orders where user_id = ${user.userId} and client_order_id = ${request.key}`);
  return rows.rows.map((r) => r.id);
}

/** Checks that an acknowledged 2xx is in the database with what it was answered with. */
async function expectStored(users: User[], a: Answered): Promise<void> {
  const id = idOf(a);
  const label = `${a.request.key} (${a.request.kind})`;
  expect(await committed(users, a.request), label).toEqual([id]);
  if (a.request.kind === 'DEPOSIT' || a.request.kind === 'WITHDRAW') {
    const rows = await db!.execute<{ kind: string; n: number }>(sql`
      select j.kind, count(e.id)::int as n from journal_transactions j join ledger_entries e on e.journal_id = j.id
       where j.id = ${id as number} group by j.kind`);
    expect(rows.rows, label).toEqual([
      { kind: a.request.kind === 'DEPOSIT' ? 'deposit' : 'withdrawal', n: 2 },
    ]);
  } else if (a.request.kind === 'bet') {
    const rows = await db!.execute<{ n: number }>(sql`
      select count(*)::int as n from bets b join journal_transactions j on j.id = b.place_journal_id
       where b.id = ${id as string}::uuid and j.kind = 'bet_escrow'`);
    expect(rows.rows[0]!.n, label).toBe(1);
  } else if (a.request.kind === 'limit') {
    // Resting (its cost reserved: reconcile checks the reserve) or filled at once with its journal.
    const rows = await db!.execute<{ type: string; status: string; journal: boolean }>(sql`
      select type, status, journal_id is not null as journal from orders where id = ${id as string}::uuid`);
    expect(rows.rows, label).toEqual([
      expect.objectContaining({ type: 'limit', journal: rows.rows[0]?.status === 'filled' }),
    ]);
    expect(['new', 'filled'], label).toContain(rows.rows[0]?.status);
  } else {
    const rows = await db!.execute<{ side: string }>(sql`
      select o.side from orders o join journal_transactions j on j.id = o.journal_id where o.id = ${id as string}::uuid`);
    expect(rows.rows, label).toEqual([{ side: a.request.kind }]);
  }
}

/**
 * Reconcile is clean, and every journal is a grant, a wallet operation, an order's or a bet's (a
 * resting order's reservation journal names no order: reconcile holds the reserves to the orders).
 */
async function expectLedgerWhole(): Promise<void> {
  const report = await reconcileAll(db!);
  expect(report.unbalancedJournals).toEqual([]);
  expect(report.balanceMismatches).toEqual([]);
  expect(report.brokenChains).toEqual([]);
  expect(report.purposeMismatches).toEqual([]);
  expect(isReconciled(report)).toBe(true);
  const orphans = await db!.execute<{ id: number; kind: string }>(sql`
    select j.id::int as id, j.kind from journal_transactions j
     where j.kind not in ('registration_grant', 'deposit', 'withdrawal', 'order_reserve', 'order_release')
       and not exists (select 1 from orders o where o.journal_id = j.id)
       and not exists (select 1 from bets b where b.place_journal_id = j.id or b.settle_journal_id = j.id)`);
  expect(orphans.rows).toEqual([]);
  const empty = await db!.execute<{ id: number }>(sql`
    select j.id::int as id from journal_transactions j
     where (select count(*) from ledger_entries e where e.journal_id = j.id) < 2`);
  expect(empty.rows).toEqual([]);
}

/**
 * Waits until every bet due by now is settled, then checks each settled bet has exactly one
 * settlement journal, its own, and still one after another sweep.
 * @returns how many bets are settled
 */
async function expectDueBetsSettledOnce(): Promise<number> {
  const now = new Date();
  const deadline = Date.now() + SETTLE_WAIT_MS;
  for (;;) {
    const pending = await db!.execute<{ n: number }>(sql`
      select count(*)::int as n from bets where status = 'pending' and due_at <= ${now.toISOString()}::timestamptz`);
    if (pending.rows[0]!.n === 0) break;
    if (Date.now() > deadline)
      throw new Error(`${pending.rows[0]!.n} due bets unsettled after ${SETTLE_WAIT_MS} ms`);
    await sleep(100);
  }
  const check = async () => {
    const settled = await db!.execute<{ id: string; settle_journal_id: number | null }>(sql`
      select id, settle_journal_id::int as settle_journal_id from bets where status = 'completed'`);
    const ids = settled.rows.map((r) => r.id);
    const counts = await settlementJournalCounts(db!, ids);
    for (const row of settled.rows) {
      expect(counts.get(row.id), `bet ${row.id}: settlement journals`).toBe(1);
      expect(row.settle_journal_id, `bet ${row.id}`).not.toBeNull();
    }
    const foreign = await db!.execute<{ n: number }>(sql`
      select count(*)::int as n from journal_transactions j
       where j.kind = 'bet_settlement' and not exists (select 1 from bets b where b.settle_journal_id = j.id)`);
    expect(foreign.rows[0]!.n).toBe(0);
    return ids.length;
  };
  const first = await check();
  await sleep(SWEEP_MS * 2);
  await check();
  return first;
}

describe('SIGKILL under a mixed load, three times', () => {
  it('keeps every acknowledged request, half-applies none, settles due bets once, replays each key', async () => {
    const started = Date.now();
    console.log(`mixed crash test: seed ${SEED} (CRASH_SEED=${SEED} to run it again)`);
    const random = seededRandom(SEED);
    let server = await startServer();
    const users: User[] = await registerMixedUsers(server, `mixed_${SEED}`, USER_COUNT);

    const figures: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      binance!.setQuote('BTCUSDT', quoteAt(PRICES[round % PRICES.length]!));
      const requests = mixedBurst(round, BURST_SIZE, random, users);
      const killAfter = Math.floor(
        BURST_SIZE * (KILL_FRACTION_MIN + random() * (KILL_FRACTION_MAX - KILL_FRACTION_MIN)),
      );
      const victim = server;
      let answered = 0;
      const outcomes = await mapBounded(requests, CONCURRENCY, async (request): Promise<Outcome> => {
        try {
          const res = await sendMixed(victim, users, request, REQUEST_TIMEOUT_MS);
          answered += 1;
          if (answered === killAfter) void crash(victim);
          return res;
        } catch (error) {
          return { lost: String((error as Error).cause ?? error) };
        }
      });
      expect(await victim.exited).toBe('SIGKILL');
      const acknowledged: Answered[] = requests.flatMap((request, i) => {
        const o = outcomes[i]!;
        return 'status' in o ? [{ request, ...o }] : [];
      });
      const lost = requests.filter((_, i) => 'lost' in outcomes[i]!);
      expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
      expect(lost.length).toBeGreaterThan(0);
      for (const a of acknowledged) {
        // 2xx, or a final refusal (funds, margin, no open short, a filter): never a 5xx or a 429.
        expect(a.status, `${a.request.key} ${a.body}`).toBeGreaterThanOrEqual(200);
        expect(a.status, `${a.request.key} ${a.body}\n${victim.recentOutput}`).toBeLessThan(500);
        expect(a.status, `${a.request.key} ${a.body}`).not.toBe(429);
      }

      server = await startServer();
      const ok = acknowledged.filter((a) => a.status < 300);
      for (const a of ok) await expectStored(users, a);
      const lostCommitted = new Map<Request, (number | string)[]>();
      for (const request of lost) {
        const found = await committed(users, request);
        expect(found.length, request.key).toBeLessThanOrEqual(1);
        lostCommitted.set(request, found);
      }
      // A refused request left nothing behind.
      for (const a of acknowledged.filter((x) => x.status >= 300))
        expect(await committed(users, a.request), `${a.request.key} ${a.body}`).toEqual([]);
      await expectLedgerWhole();

      // Answers stored before the crash are replayed by the new process, byte for byte.
      await mapBounded(acknowledged, CONCURRENCY, async (a) => {
        const again = await sendMixed(server, users, a.request, REQUEST_TIMEOUT_MS);
        expect(again, `${a.request.key} (${a.request.kind})`).toEqual({ status: a.status, body: a.body });
      });
      // A lost request sent again with its key: replayed if it had committed, run now if not.
      const retried = await mapBounded(lost, CONCURRENCY, async (request): Promise<Answered> => {
        const res = await sendMixed(server, users, request, REQUEST_TIMEOUT_MS);
        const found = lostCommitted.get(request)!;
        if (found.length === 1) {
          expect(res.status, `${request.key} (lost) ${res.body}\n${server.recentOutput}`).toBeLessThan(300);
          expect(idOf(res), request.key).toBe(found[0]);
        } else {
          expect(res.status, `${request.key} (lost) ${res.body}\n${server.recentOutput}`).toBeLessThan(500);
        }
        return { request, ...res };
      });
      for (const a of retried) {
        if (a.status < 300) await expectStored(users, a);
        else expect(await committed(users, a.request), a.request.key).toEqual([]);
      }
      await expectLedgerWhole();
      const settledBets = await expectDueBetsSettledOnce();

      const kinds = new Map<Kind, number>();
      for (const r of requests) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
      figures.push(
        `kill ${round + 1}: after ${killAfter} answers; ${acknowledged.length} answered (${ok.length} 2xx), ` +
          `${lost.length} lost (${[...lostCommitted.values()].filter((f) => f.length === 1).length} had committed); ` +
          `retried ${retried.filter((a) => a.status < 300).length} 2xx; bets settled so far ${settledBets}; ` +
          `mix ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
      );
    }

    // The last bets come due with the last process running: each settled once.
    const allBets = await db!.execute<{ n: number; latest: string | null }>(sql`
      select count(*)::int as n, max(due_at)::text as latest from bets`);
    const latest = allBets.rows[0]!.latest;
    if (latest) await sleep(Math.max(0, new Date(latest).getTime() - Date.now() + 200));
    const settled = await expectDueBetsSettledOnce();
    expect(settled).toBe(allBets.rows[0]!.n);
    await expectLedgerWhole();
    expect(await server.stop()).not.toBe('SIGKILL');
    console.log(
      `mixed crash test (seed ${SEED}), ${Date.now() - started} ms:\n${figures.join('\n')}\n${settled} bets settled once`,
    );
  }, 120_000);
});
