/**
 * PostgreSQL restarted under the running server (issue 21, point 2): the real program runs as a
 * child whose database connections go through a TCP proxy on loopback; the proxy is cut (every
 * connection reset, new ones refused, as while PostgreSQL restarts) and restored on the same port.
 * Meanwhile the server answers 503 (never 500, never a hang) and `/health/ready` says not ready;
 * afterwards it serves again by itself, without a restart, and nothing was half-written.
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
import { registerMixedUsers } from '../helpers/mixed-load.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const OUTAGE_REQUESTS = 12;
const RECOVERY_WAIT_MS = 30_000;

let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
let binance: FakeBinance | undefined;
let proxy: TcpProxy | undefined;
let db: Db | undefined;
let redis: RedisDatabase | undefined;
let server: ServerProcess | undefined;

beforeAll(async () => {
  scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_crash_db_restart');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-db-restart-'));
  binance = await new FakeBinance().start();
  db = createDb(scratch.url, 2);
  if (process.env.REDIS_URL) redis = await claimRedisDatabase(process.env.REDIS_URL);
  const target = new URL(scratch.url);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const port = await proxy.start();
  const viaProxy = new URL(scratch.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(port);
  const env = childEnv({
    DATABASE_URL: viaProxy.toString(),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
    BINANCE_BASE_URL: binance.baseUrl,
    RATE_LIMIT_PER_USER_PER_MIN: '0',
  });
  if (redis) env.REDIS_URL = redis.url;
  server = await ServerProcess.start(env, 'all');
});

afterAll(async () => {
  if (server?.running) await server.stop(5_000);
  await proxy?.close();
  await db?.$client.end();
  await binance?.close();
  await scratch?.drop();
  await redis?.release();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('PostgreSQL restarted under the running server', () => {
  it('answers 503 while it is gone and serves again by itself when it is back', async () => {
    const [user] = await registerMixedUsers(server!, 'dbrestart', 1);
    const deposit = (key: string, amount: string) =>
      call(server!, 'POST', `/api/v1/wallets/${user!.walletId}/operation`, {
        token: user!.token,
        body: { operation_type: 'DEPOSIT', amount },
        headers: { 'idempotency-key': key },
        timeoutMs: 20_000,
      });
    expect((await deposit('before', '10')).status).toBe(201);

    await proxy!.cut();
    const during = await Promise.all(
      Array.from({ length: OUTAGE_REQUESTS }, (_, i) => deposit(`during-${i}`, `${20 + i}`)),
    );
    const ready = await call(server!, 'GET', '/health/ready');
    const statuses = during.map((r) => r.status);
    console.log(`during the outage: ${statuses.join(' ')}; ready ${ready.status}`);
    for (const r of during) {
      expect(r.status, r.body).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: expect.any(String) } });
    }
    expect(ready.status).toBe(503);
    // Market data needs no database.
    expect((await call(server!, 'GET', '/api/v1/market/prices/BTC')).status).toBe(200);

    await proxy!.start();
    const deadline = Date.now() + RECOVERY_WAIT_MS;
    let after = await deposit('after', '99');
    while (after.status !== 201 && Date.now() < deadline) {
      await sleep(250);
      after = await deposit('after', '99');
    }
    expect(after.status, after.body).toBe(201);
    expect((await call(server!, 'GET', '/health/ready')).status).toBe(200);
    expect(server!.running).toBe(true);
    // The refused requests sent again with their keys run now, once each.
    for (let i = 0; i < OUTAGE_REQUESTS; i++)
      expect((await deposit(`during-${i}`, `${20 + i}`)).status).toBe(201);
    const wallet = await call(server!, 'GET', `/api/v1/wallets/${user!.walletId}`, { token: user!.token });
    const expected =
      10_000 + 10 + 99 + Array.from({ length: OUTAGE_REQUESTS }, (_, i) => 20 + i).reduce((a, b) => a + b);
    expect(JSON.parse(wallet.body).balance).toBe(String(expected));
    expect(isReconciled(await reconcileAll(db!))).toBe(true);
  }, 90_000);
});
