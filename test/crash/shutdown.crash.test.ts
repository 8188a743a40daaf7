/**
 * SIGTERM in the middle of a load of orders and withdrawals (issue 20 point 5, SPEC C12). The real
 * program runs as a child process (`node --import tsx src/main.ts all`: API and jobs; BullMQ and the
 * Redis cache when REDIS_URL is set, in-process otherwise) on a scratch database, priced by a fake
 * Binance on loopback. Eight users send buy orders (each with its own client_order_id) and
 * withdrawals (each with an amount no other has), 32 at a time, with an account stream open; once
 * 150 have been answered the process gets SIGTERM. Then:
 * - `/health/ready` answers 503 from moments after the signal on, through the drain, while money
 *   requests are still answered 201 (the load balancer's cue comes before the server stops accepting);
 * - the stream is closed with 1001; the process exits with code 0, within SHUTDOWN_TIMEOUT_MS;
 * - every request answered 201 is in the ledger under the id it was answered with; every one
 *   answered otherwise, and every one whose connection failed (sent after the server stopped
 *   accepting), is not; nothing else is; the ledger reconciles.
 */
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
import { expectLedgerSound } from '../helpers/app.js';
import { FakeBinance } from '../helpers/fake-binance.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';
import { TestSocket } from '../helpers/stream-client.js';
import { mapBounded, seededRandom } from '../helpers/wallets.js';
import { quoteAt } from '../modules/bets/helpers.js';

const USER_COUNT = 8;
/** Requests prepared; the load stops once the server stops accepting, long before the last. */
const REQUEST_COUNT_MAX = 4_000;
const CONCURRENCY = 32;
/** Answers received before SIGTERM. */
const ANSWERS_BEFORE_SIGNAL = 150;
/** The drain under test (ms): long enough to see requests answered while readiness says 503. */
const DRAIN_MS = 1_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Budget of one request (ms): a request to a closed server fails at once; this bounds a hung one. */
const REQUEST_TIMEOUT_MS = 15_000;
/** A new user's cash: small, so that some withdrawals are refused (400) along the way. */
const START_BALANCE = '600';
const BUY_QUANTITY = '0.0003';

interface Request {
  user: number;
  kind: 'order' | 'withdrawal';
  /** client_order_id of an order; the amount of a withdrawal (unique in the run) */
  tag: string;
}

/** What the client saw: an answer (and when), or a connection that failed. */
type Outcome = { status: number; body: string; atMs: number } | { lost: string; atMs: number };

let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
let binance: FakeBinance | undefined;
let server: ServerProcess | undefined;
/** With REDIS_URL: a logical database of this run's own (the program's Redis keys have a fixed prefix). */
let redis: RedisDatabase | undefined;

beforeAll(async () => {
  scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_shutdown');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-shutdown-'));
  binance = await new FakeBinance().start();
  binance.setQuote('BTCUSDT', quoteAt('50000'));
  if (process.env.REDIS_URL) redis = await claimRedisDatabase(process.env.REDIS_URL);
});

afterAll(async () => {
  if (server?.running) await server.stop(2_000);
  await binance?.close();
  await redis?.release();
  await scratch?.drop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

async function call(
  method: string,
  url: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server!.baseUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, body: await res.text() };
}

/** Orders and withdrawals in a fixed mix, every withdrawal amount unique by its last decimals. */
function load(): Request[] {
  const random = seededRandom(2026);
  return Array.from({ length: REQUEST_COUNT_MAX }, (_, i) => {
    const user = i % USER_COUNT;
    if (random() < 0.5) return { user, kind: 'order', tag: `shutdown-${i}` };
    const amount = new Decimal(Math.floor(random() * 60) + 1).plus(new Decimal(i + 1).div(100_000_000));
    return { user, kind: 'withdrawal', tag: amount.toFixed() };
  });
}

describe('SIGTERM during a load of orders and withdrawals', () => {
  it('answers what it took in, keeps every answer in the ledger, closes streams, exits 0', async () => {
    const env = childEnv({
      DATABASE_URL: scratch!.url,
      DATA_DIR: dataDir!,
      LOG_LEVEL: 'info',
      BINANCE_BASE_URL: binance!.baseUrl,
      RATE_LIMIT_PER_USER_PER_MIN: '0',
      INITIAL_BALANCE: START_BALANCE,
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...(redis ? { REDIS_URL: redis.url } : {}),
    });
    server = await ServerProcess.start(env, 'all');

    const users: { token: string; walletId: string }[] = [];
    for (let i = 0; i < USER_COUNT; i++) {
      const registered = await call('POST', '/api/v1/auth/register', undefined, {
        username: `shutdown_${i}_${process.pid}`,
        password: 'correct horse battery',
      });
      expect(registered.status, registered.body).toBe(201);
      const token = (JSON.parse(registered.body) as { access_token: string }).access_token;
      const wallets = JSON.parse((await call('GET', '/api/v1/wallets', token)).body) as {
        items: { id: string }[];
      };
      users.push({ token, walletId: wallets.items[0]!.id });
    }
    const stream = await TestSocket.open(server.baseUrl, { bearer: users[0]!.token });
    stream.send({ op: 'subscribe', channels: ['account'] });
    await stream.next((m) => m.op === 'subscribed');

    const send = (r: Request) => {
      const user = users[r.user]!;
      return r.kind === 'order'
        ? call('POST', '/api/v1/orders', user.token, {
            wallet_id: user.walletId,
            symbol: 'BTCUSDT',
            side: 'buy',
            quantity: BUY_QUANTITY,
            client_order_id: r.tag,
          })
        : call('POST', `/api/v1/wallets/${user.walletId}/operation`, user.token, {
            operation_type: 'WITHDRAW',
            amount: r.tag,
          });
    };

    // Readiness as a load balancer sees it, from the signal until the server is gone.
    const readiness: { status: number | 'gone'; atMs: number }[] = [];
    const pollReadiness = async () => {
      for (;;) {
        const status = await fetch(`${server!.baseUrl}/health/ready`, {
          signal: AbortSignal.timeout(2_000),
        }).then(
          (res) => res.status,
          () => 'gone' as const,
        );
        readiness.push({ status, atMs: Date.now() });
        if (status === 'gone') return;
        await sleep(50);
      }
    };

    let answered = 0;
    let signalledAtMs: number | undefined;
    let polling: Promise<void> | undefined;
    let accepting = true;
    const requests = load();
    const exitedAt = server.exited.then((exit) => ({ exit, atMs: Date.now() }));
    const outcomes = await mapBounded(requests, CONCURRENCY, async (r): Promise<Outcome | undefined> => {
      // Once a connection has been refused the server is no longer accepting: the rest is not sent.
      if (!accepting) return undefined;
      try {
        const res = await send(r);
        answered += 1;
        if (answered === ANSWERS_BEFORE_SIGNAL) {
          signalledAtMs = Date.now();
          server!.kill('SIGTERM');
          polling = pollReadiness();
        }
        return { ...res, atMs: Date.now() };
      } catch (error) {
        accepting = false;
        return { lost: String((error as Error).cause ?? error), atMs: Date.now() };
      }
    });
    const { exit, atMs: exitAtMs } = await exitedAt;
    await polling;
    const shutdownMs = exitAtMs - signalledAtMs!;

    expect(exit, server.recentOutput).toBe('exit 0');
    expect(shutdownMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(shutdownMs).toBeGreaterThanOrEqual(DRAIN_MS);
    await sleep(100);
    expect(stream.closed?.code).toBe(1001);

    // Readiness: 503 within moments of the signal (a poll sent before the process handled the signal
    // may still say 200), never 200 again, for the whole drain, then the server is gone.
    const notReady = readiness.slice(readiness.findIndex((p) => p.status !== 200));
    expect(notReady[0]!.status).toBe(503);
    expect(notReady[0]!.atMs - signalledAtMs!).toBeLessThan(500);
    expect(notReady.filter((p) => p.status === 200)).toEqual([]);
    expect(notReady.at(-1)!.status).toBe('gone');
    const firstNotReadyAtMs = notReady[0]!.atMs;
    const lastNotReadyAtMs = notReady.filter((p) => p.status === 503).at(-1)!.atMs;
    expect(lastNotReadyAtMs - firstNotReadyAtMs).toBeGreaterThan(DRAIN_MS / 2);

    const sent = requests.flatMap((r, i) => (outcomes[i] ? [{ r, o: outcomes[i]! }] : []));
    const answers = sent.flatMap(({ r, o }) => ('status' in o ? [{ r, ...o }] : []));
    const lost = sent.filter(({ o }) => 'lost' in o).map(({ r }) => r);
    const created = answers.filter((a) => a.status === 201);
    // Requests kept being served during the drain, after readiness had said 503.
    expect(created.filter((a) => a.atMs > firstNotReadyAtMs).length).toBeGreaterThan(0);
    for (const a of answers) {
      expect([201, 400, 503], a.body).toContain(a.status);
      if (a.status === 400) expect(JSON.parse(a.body).error.code, a.body).toBe('INSUFFICIENT_FUNDS');
    }

    const db = createDb(scratch!.url, 2);
    try {
      const walletIds = users.map((u) => u.walletId);
      const orderRows = await db.$client.query<{ id: string; client_order_id: string }>(
        'select id, client_order_id from orders where wallet_id = any($1)',
        [walletIds],
      );
      const orderIdOf = new Map(orderRows.rows.map((row) => [row.client_order_id, row.id]));
      const withdrawalRows = await db.$client.query<{ id: string; amount: string }>(
        `select j.id::text, (-e.amount)::text as amount from journal_transactions j
           join ledger_entries e on e.journal_id = j.id
           join ledger_accounts a on a.id = e.account_id
          where j.kind = 'withdrawal' and a.wallet_id = any($1)`,
        [walletIds],
      );
      const journalsOfAmount = new Map<string, string[]>();
      for (const row of withdrawalRows.rows) {
        const amount = new Decimal(row.amount).toFixed();
        journalsOfAmount.set(amount, [...(journalsOfAmount.get(amount) ?? []), row.id]);
      }
      const inLedger = (r: Request) =>
        r.kind === 'order' ? [orderIdOf.get(r.tag)].filter(Boolean) : (journalsOfAmount.get(r.tag) ?? []);

      // Answered 201: there, under the id it was answered with. Anything else: not there at all.
      for (const a of answers) {
        const id = a.status === 201 ? String((JSON.parse(a.body) as { id: string | number }).id) : undefined;
        expect(inLedger(a.r), `${a.r.kind} ${a.r.tag} answered ${a.status}`).toEqual(id ? [id] : []);
      }
      for (const r of lost) expect(inLedger(r), `${r.kind} ${r.tag} (connection failed)`).toEqual([]);
      expect(orderRows.rowCount).toBe(created.filter((a) => a.r.kind === 'order').length);
      expect(withdrawalRows.rowCount).toBe(created.filter((a) => a.r.kind === 'withdrawal').length);

      await expectLedgerSound(db);
      expect(isReconciled(await reconcileAll(db))).toBe(true);
    } finally {
      await db.$client.end();
    }

    const count = (status: number) => answers.filter((a) => a.status === status).length;
    process.stdout.write(
      `shutdown under load: ${answers.length} answered (${count(201)} × 201, ${count(400)} × 400, ` +
        `${count(503)} × 503), ${lost.length} refused after close ` +
        `(${[...new Set(sent.flatMap(({ o }) => ('lost' in o ? [o.lost.split(':')[0]] : [])))].join(', ')}), ` +
        `${created.filter((a) => a.atMs > firstNotReadyAtMs).length} answered 201 while not ready; ` +
        `${exit} ${shutdownMs} ms after SIGTERM\n`,
    );
  }, 60_000);
});
