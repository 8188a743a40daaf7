/**
 * Bets that come due while no process runs (issue 9, SPEC C8 and §5 rule 4). The real server runs as
 * a child process (`node --import tsx src/main.ts all`: API and jobs in one process; BullMQ when
 * REDIS_URL is set, in-process timers otherwise) on a scratch database, priced by a fake Binance on
 * loopback. Bets are placed (v1 and seed 002), the process is killed with SIGKILL while they are
 * pending, the price moves, and a new process is started only after their due time, when the price
 * has moved again. Each bet is then settled exactly once — one settlement journal, still one seconds
 * later — at the price of its due time (the fake Binance's 1 s klines), not the price after the
 * restart, marked late, and the ledger reconciles.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { isReconciled } from '../../src/modules/ledger/index.js';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/platform/db/scratch.js';
import { FakeBinance } from '../helpers/fake-binance.js';
import { call } from '../helpers/http.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';
import { quoteAt, betRows as rowsOf, settlementJournalCounts } from '../modules/bets/helpers.js';

const BET_COUNT = 5;
const DURATION_S = 2;

let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
let binance: FakeBinance | undefined;
let db: Db | undefined;
/** With REDIS_URL: a logical database of this run's own (the program's Redis keys have a fixed prefix). */
let redis: RedisDatabase | undefined;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_bets_restart');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-bets-'));
  binance = await new FakeBinance().start();
  binance.setQuote('BTCUSDT', quoteAt('50000'));
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
    LOG_LEVEL: 'silent',
    BINANCE_BASE_URL: binance!.baseUrl,
    PRICE_CACHE_TTL_MS: '0',
  });
  if (redis) env.REDIS_URL = redis.url;
  const server = await ServerProcess.start(env, 'all');
  servers.push(server);
  return server;
}

const betRows = (ids: string[]) => rowsOf(db!, ids);

/** `bet_settlement` journals of the bets `ids`, all told. */
async function settlementCount(ids: string[]): Promise<number> {
  return [...(await settlementJournalCounts(db!, ids)).values()].reduce((sum, n) => sum + n, 0);
}

describe('a restart after bets came due', () => {
  it('settles each overdue bet once, on recovery, marked late', async () => {
    const first = await startServer();
    const registered = await call(first, 'POST', '/api/v1/auth/register', {
      body: { username: 'bettor', password: 'correct horse battery' },
    });
    expect(registered.status).toBe(201);
    const token = registered.json.access_token as string;
    const ids: string[] = [];
    for (let i = 0; i < BET_COUNT; i++) {
      const res = await call(first, 'POST', '/api/v1/bets', {
        token,
        body: { symbol: 'BTCUSDT', direction: 'up', stake: '100', leverage: 5, duration_seconds: DURATION_S },
      });
      expect(res.status).toBe(201);
      ids.push(res.json.id as string);
    }
    const trade = await call(first, 'POST', '/api/v1/trade_it/', {
      token,
      body: {
        exchange: 'BTC',
        bet_amount: 100,
        leverage: 5,
        direction: 'down',
        // 3 s: a JSON number of minutes with at most 15 significant digits.
        time: 0.05,
      },
    });
    expect(trade.status).toBe(201);
    ids.push(trade.json.id as string);
    first.kill('SIGKILL');
    await first.exited;
    expect((await betRows(ids)).every((b) => b.status === 'pending')).toBe(true);

    // +2 % by the due times; down again (−2 %) by the time a process runs.
    binance!.setQuote('BTCUSDT', quoteAt('51000'));
    await sleep(3_500);
    binance!.setQuote('BTCUSDT', quoteAt('49000'));
    const second = await startServer();
    const deadline = Date.now() + 20_000;
    while ((await betRows(ids)).some((b) => b.status !== 'completed') && Date.now() < deadline)
      await sleep(100);
    const rows = await betRows(ids);
    expect(rows.every((b) => b.status === 'completed' && b.late)).toBe(true);
    // At the due times' price (51000), not the recovery's (49000): up: 100 × 5 × 2 % = +10 each;
    // the seed bet went down: −10.
    const profits = rows.map((b) => b.profit).sort();
    expect(profits).toEqual(['-10.00000000', ...Array(BET_COUNT).fill('10.00000000')].sort());
    expect(await settlementCount(ids)).toBe(ids.length);
    await sleep(2_000);
    expect(await settlementCount(ids)).toBe(ids.length);
    const status = await call(second, 'GET', `/api/v1/trade_status/${trade.json.id}`, { token });
    expect(status.json).toEqual({ status: 'completed', result: 'L', profit: -10 });
    expect(isReconciled(await reconcileAll(db!))).toBe(true);
    await second.stop();
  }, 120_000);
});
