/**
 * A crash in the middle of a burst of operations (issue 5, SPEC §5 rules 2–4). The real server runs
 * as a child process (`node --import tsx src/main.ts serve`) on a scratch database. 300 deposits and
 * withdrawals go to one wallet over HTTP, 32 at a time, each with an amount no other has (so a
 * journal in the history names its operation) and its own idempotency key. Once 100 have been
 * answered the process is killed with SIGKILL, and a new one is started on the same database.
 * Then, from the history read through the new process:
 * - every operation answered 201 is there, under the journal id it was answered with, with its type
 *   and amount; every one answered 400 is not; each whose answer died with the connection is there
 *   once or not at all; no other journal exists, and each journal has both of its entries;
 * - the balance is the start plus the deposits found minus the withdrawals found, and the last
 *   balance_after says the same; reconcile (run directly on the database) is clean;
 * - every answered operation sent again with its key gets its first answer byte for byte; every lost
 *   one sent again with its key is replayed if it had committed (same journal id) or runs now if not,
 *   and afterwards the balance is exactly what all the answers say.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { isReconciled } from '../../src/modules/ledger/index.js';
import { createDb } from '../../src/platform/db/client.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/platform/db/scratch.js';
import { Decimal } from '../../src/shared/decimal.js';
import { call } from '../helpers/http.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';
import { type HistoryItem, mapBounded, seededRandom } from '../helpers/wallets.js';

const OPERATION_COUNT = 300;
const CONCURRENCY = 32;
/** Answers received before the kill. */
const ANSWERS_BEFORE_KILL = 100;
/** Budget of one request (ms): a request to a dead server fails at once; this bounds a hung one. */
const REQUEST_TIMEOUT_MS = 20_000;
/** How long the server stays frozen before the kill (ms). */
const FROZEN_MS = 300;
/** A new user's cash (INITIAL_BALANCE): small, so that some withdrawals are refused. */
const START_BALANCE = new Decimal(1_000);

interface Operation {
  key: string;
  type: 'DEPOSIT' | 'WITHDRAW';
  amount: string;
}

/** What the client saw: an answer, or nothing (the connection failed). */
type Outcome = { status: number; body: string } | { lost: string };

let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
/** With REDIS_URL: a logical database of this run's own (the program's Redis keys have a fixed prefix). */
let redis: RedisDatabase | undefined;
const servers: ServerProcess[] = [];

function serverEnv(databaseUrl: string): Record<string, string> {
  const env = childEnv({
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir!,
    LOG_LEVEL: 'silent',
    PRICE_SOURCE: 'binance',
    // USDT operations need no price; nothing listens on port 9 (discard), so nothing leaves the machine.
    BINANCE_BASE_URL: 'http://127.0.0.1:9',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    INITIAL_BALANCE: START_BALANCE.toFixed(),
  });
  if (redis) env.REDIS_URL = redis.url;
  return env;
}

async function startServer(): Promise<ServerProcess> {
  const server = await ServerProcess.start(serverEnv(scratch!.url));
  servers.push(server);
  return server;
}

/** `call` as this test compares answers: the status and the body's text. */
async function send(
  server: ServerProcess,
  method: string,
  url: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const answer = await call(server, method, url, { token, body, headers, timeoutMs: REQUEST_TIMEOUT_MS });
  return { status: answer.status, body: answer.body };
}

async function readHistory(server: ServerProcess, token: string, walletId: string): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = `limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await send(server, 'GET', `/api/v1/wallets/${walletId}/transactions?${query}`, token);
    expect(res.status, res.body).toBe(200);
    const body = JSON.parse(res.body) as { items: HistoryItem[]; next_cursor: string | null };
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('history pagination did not end');
}

function postOperation(server: ServerProcess, token: string, walletId: string, op: Operation) {
  return send(
    server,
    'POST',
    `/api/v1/wallets/${walletId}/operation`,
    token,
    { operation_type: op.type, amount: op.amount },
    { 'idempotency-key': op.key },
  );
}

/** 300 operations, each amount unique thanks to its last decimals; the same on every run. */
function burst(): Operation[] {
  const random = seededRandom(2024);
  return Array.from({ length: OPERATION_COUNT }, (_, i) => ({
    key: `crash-op-${i}`,
    type: random() < 0.5 ? 'DEPOSIT' : 'WITHDRAW',
    amount: new Decimal(Math.floor(random() * 2000) + 1).plus(new Decimal(i + 1).div(100_000_000)).toFixed(),
  }));
}

/**
 * Freezes the server (SIGSTOP), lets PostgreSQL finish what it was already sent — a COMMIT on the
 * wire completes, so its operation is applied while its answer is never written — then kills it.
 */
async function crash(server: ServerProcess): Promise<void> {
  server.kill('SIGSTOP');
  await sleep(FROZEN_MS);
  server.kill('SIGKILL');
}

beforeAll(async () => {
  scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_crash');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-crash-'));
  if (process.env.REDIS_URL) redis = await claimRedisDatabase(process.env.REDIS_URL);
});

afterAll(async () => {
  for (const server of servers) if (server.running) await server.stop(2_000);
  await scratch?.drop();
  await redis?.release();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('SIGKILL in the middle of a burst of operations', () => {
  it('keeps every acknowledged operation, half-applies none, and replays each key once after restart', async () => {
    const first = await startServer();
    const username = `crash_${randomBytes(4).toString('hex')}`;
    const registered = await send(first, 'POST', '/api/v1/auth/register', undefined, {
      username,
      password: 'correct horse battery',
    });
    expect(registered.status, registered.body).toBe(201);
    const token = (JSON.parse(registered.body) as { access_token: string }).access_token;
    const wallets = JSON.parse((await send(first, 'GET', '/api/v1/wallets', token)).body) as {
      items: { id: string; balance: string }[];
    };
    const walletId = wallets.items[0]!.id;
    expect(wallets.items[0]!.balance).toBe(START_BALANCE.toFixed());

    // The burst; the 100th answer pulls the plug while about 32 requests are in flight.
    const ops = burst();
    let answered = 0;
    const outcomes = await mapBounded(ops, CONCURRENCY, async (op): Promise<Outcome> => {
      try {
        const res = await postOperation(first, token, walletId, op);
        answered += 1;
        if (answered === ANSWERS_BEFORE_KILL) void crash(first);
        return res;
      } catch (error) {
        return { lost: String((error as Error).cause ?? error) };
      }
    });
    expect(await first.exited).toBe('SIGKILL');

    const acknowledged = ops.flatMap((op, i) => {
      const o = outcomes[i]!;
      return 'status' in o ? [{ op, ...o }] : [];
    });
    const lost = ops.filter((_, i) => 'lost' in outcomes[i]!);
    // The kill happened mid-burst: answers before it, lost requests after it.
    expect(acknowledged.length).toBeGreaterThanOrEqual(ANSWERS_BEFORE_KILL);
    expect(lost.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect([201, 400], a.body).toContain(a.status);
      if (a.status === 400) expect(JSON.parse(a.body).error.code).toBe('INSUFFICIENT_FUNDS');
    }

    const second = await startServer();
    const history = await readHistory(second, token, walletId);

    // Each journal names its operation by its signed amount, which no other operation has.
    const opOfJournal = new Map<number, Operation>();
    let grants = 0;
    for (const journal of history) {
      expect(journal.entries, `journal ${journal.id}`).toHaveLength(2);
      const total = journal.entries.reduce((s, e) => s.plus(e.amount), new Decimal(0));
      expect(total.isZero(), `journal ${journal.id} balances`).toBe(true);
      const own = journal.entries.find((e) => e.wallet_id === walletId)!;
      if (journal.kind === 'registration_grant') {
        grants += 1;
        continue;
      }
      const amount = new Decimal(own.amount);
      const op = ops.find((o) => o.amount === amount.abs().toFixed());
      expect(op, `journal ${journal.id} (${own.amount}) belongs to an operation`).toBeDefined();
      expect(journal.kind).toBe(op!.type === 'DEPOSIT' ? 'deposit' : 'withdrawal');
      expect(amount.isNegative()).toBe(op!.type === 'WITHDRAW');
      opOfJournal.set(journal.id, op!);
    }
    expect(grants).toBe(1);
    const journalsOf = (op: Operation) => [...opOfJournal].filter(([, o]) => o === op).map(([id]) => id);

    for (const a of acknowledged) {
      if (a.status === 201) expect(journalsOf(a.op), a.op.key).toEqual([JSON.parse(a.body).id]);
      else expect(journalsOf(a.op), a.op.key).toEqual([]);
    }
    for (const op of lost) expect(journalsOf(op).length, op.key).toBeLessThanOrEqual(1);

    // The balance is what the journals found say, to the last decimal.
    const applied = (op: Operation) =>
      op.type === 'DEPOSIT' ? new Decimal(op.amount) : new Decimal(op.amount).neg();
    const expected = [...opOfJournal.values()].reduce((s, op) => s.plus(applied(op)), START_BALANCE);
    const wallet = JSON.parse((await send(second, 'GET', `/api/v1/wallets/${walletId}`, token)).body);
    expect(wallet.balance).toBe(expected.toFixed());
    const newest = history[0]!.entries.find((e) => e.wallet_id === walletId)!;
    expect(newest.balance_after).toBe(expected.toFixed());

    const db = createDb(scratch!.url, 2);
    try {
      const report = await reconcileAll(db);
      expect(report.unbalancedJournals).toEqual([]);
      expect(report.balanceMismatches).toEqual([]);
      expect(report.brokenChains).toEqual([]);
      expect(isReconciled(report)).toBe(true);
    } finally {
      await db.$client.end();
    }

    // Answers stored before the crash are replayed by the new process, byte for byte.
    await mapBounded(acknowledged, CONCURRENCY, async (a) => {
      const again = await postOperation(second, token, walletId, a.op);
      expect(again, a.op.key).toEqual({ status: a.status, body: a.body });
    });
    // A lost operation sent again with its key: replayed if it had committed, run now if not.
    const retried = await mapBounded(lost, CONCURRENCY, async (op) => {
      const res = await postOperation(second, token, walletId, op);
      const committed = journalsOf(op);
      if (committed.length === 1) {
        expect(res.status, res.body).toBe(201);
        expect(JSON.parse(res.body).id, op.key).toBe(committed[0]);
      } else {
        expect([201, 400], res.body).toContain(res.status);
      }
      return { op, ...res };
    });
    const everything = [...acknowledged, ...retried];
    expect(everything).toHaveLength(OPERATION_COUNT);
    const final = everything
      .filter((a) => a.status === 201)
      .reduce((s, a) => s.plus(applied(a.op)), START_BALANCE);
    const after = JSON.parse((await send(second, 'GET', `/api/v1/wallets/${walletId}`, token)).body);
    expect(after.balance).toBe(final.toFixed());
    const finalHistory = await readHistory(second, token, walletId);
    expect(finalHistory).toHaveLength(1 + everything.filter((a) => a.status === 201).length);

    expect(await second.stop()).not.toBe('SIGKILL');
  }, 180_000);
});
