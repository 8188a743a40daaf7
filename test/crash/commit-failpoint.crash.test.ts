/**
 * A kill inside a group-commit batch (issue 21, point 2): the real program runs as a child with
 * `FAILPOINT=<before|after>-commit:wallet_operation`, so the first batch of wallet operations hangs
 * with its work done — before its COMMIT, or after it and before any answer — and is killed there
 * (SIGKILL). A new process on the same database must then hold either none of that batch (before) or
 * all of it (after), never a part, and every request sent again with its Idempotency-Key must run
 * exactly once: replayed with its first journal when it had committed, run now when it had not.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { reconcileAll } from '../../src/modules/admin/reconcile.js';
import { isReconciled } from '../../src/modules/ledger/index.js';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/platform/db/scratch.js';
import { FakeBinance } from '../helpers/fake-binance.js';
import { type MixedRequest, registerMixedUsers, sendMixed } from '../helpers/mixed-load.js';
import { claimRedisDatabase, type RedisDatabase } from '../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';

/** Deposits sent at once: the first batch takes one or a few, the next most of the rest. */
const REQUESTS = 40;
/** The failpoint hangs the first batch of at least this many operations. */
const BATCH_MIN = 8;
const REQUEST_TIMEOUT_MS = 20_000;
const FAILPOINT_WAIT_MS = 20_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  db: Db;
  start(failpoint?: string): Promise<ServerProcess>;
}

async function setUp(name: string): Promise<Setup> {
  const scratch: ScratchDatabase = await createScratchDatabase(inject('adminDatabaseUrl'), name);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-failpoint-'));
  const binance = await new FakeBinance().start();
  const db = createDb(scratch.url, 2);
  const redis: RedisDatabase | undefined = process.env.REDIS_URL
    ? await claimRedisDatabase(process.env.REDIS_URL)
    : undefined;
  const servers: ServerProcess[] = [];
  cleanups.push(async () => {
    for (const server of servers) if (server.running) await server.stop(2_000);
    await db.$client.end();
    await binance.close();
    await scratch.drop();
    await redis?.release();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  return {
    db,
    async start(failpoint) {
      const env = childEnv({
        DATABASE_URL: scratch.url,
        DATA_DIR: dataDir,
        // warn: the failpoint announces itself at that level.
        LOG_LEVEL: 'warn',
        BINANCE_BASE_URL: binance.baseUrl,
        RATE_LIMIT_PER_USER_PER_MIN: '0',
        ...(failpoint ? { FAILPOINT: failpoint } : {}),
      });
      if (redis) env.REDIS_URL = redis.url;
      const server = await ServerProcess.start(env, 'all');
      servers.push(server);
      return server;
    },
  };
}

/** The deposit journals of a request's unique amount in its wallet. */
async function journalsOf(db: Db, request: MixedRequest, walletId: string): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    select distinct j.id::int as id from journal_transactions j join ledger_entries e on e.journal_id = j.id
     where j.kind = 'deposit' and j.metadata->>'wallet_id' = ${walletId}
       and abs(e.amount) = ${request.body.amount as string}::numeric`);
  return rows.rows.map((r) => r.id);
}

describe('SIGKILL inside a group-commit batch', () => {
  it.each(['before-commit', 'after-commit'] as const)(
    'at %s: the batch is there whole or not at all, and each retry runs once',
    async (point) => {
      const setup = await setUp(`pb_crash_${point.replace('-', '_')}`);
      const victim = await setup.start(`${point}:wallet_operation:${BATCH_MIN}`);
      const users = await registerMixedUsers(victim, `fp_${point.replace('-', '_')}`, 2);
      const requests: MixedRequest[] = Array.from({ length: REQUESTS }, (_, i) => {
        const user = i % users.length;
        return {
          key: `failpoint-${point}-${i}`,
          kind: 'DEPOSIT',
          user,
          method: 'POST',
          url: `/api/v1/wallets/${users[user]!.walletId}/operation`,
          body: { operation_type: 'DEPOSIT', amount: `${100 + i}.0000000${(i % 9) + 1}` },
        };
      });
      const answers = requests.map((request) =>
        sendMixed(victim, users, request, REQUEST_TIMEOUT_MS).then(
          (answer) => ({ answer }),
          (error: unknown) => ({ lost: String(error) }),
        ),
      );
      const deadline = Date.now() + FAILPOINT_WAIT_MS;
      while (!victim.recentOutput.includes('failpoint reached') && Date.now() < deadline) await sleep(20);
      expect(victim.recentOutput, 'the failpoint was reached').toContain('failpoint reached');
      const batchSize = Number(/"batchSize":(\d+)/.exec(victim.recentOutput)?.[1]);
      expect(batchSize).toBeGreaterThanOrEqual(BATCH_MIN);
      victim.kill('SIGKILL');
      const outcomes = await Promise.all(answers);
      // The batches before the hung one were answered (2xx); the hung one and those behind it were not.
      const answered = outcomes.flatMap((o, i) => ('answer' in o ? [{ i, ...o.answer }] : []));
      for (const a of answered) expect(a.status, a.body).toBe(201);

      const server = await setup.start();
      const walletOf = (r: MixedRequest) => users[r.user]!.walletId;
      const found = await Promise.all(requests.map((r) => journalsOf(setup.db, r, walletOf(r))));
      const committed = found.filter((ids) => ids.length === 1).length;
      for (const ids of found) expect(ids.length).toBeLessThanOrEqual(1);
      expect(answered.length).toBeLessThanOrEqual(REQUESTS - batchSize);
      // Every answered deposit is there under the journal it was answered with.
      for (const a of answered) expect(found[a.i]).toEqual([(JSON.parse(a.body) as { id: number }).id]);
      // Before its COMMIT the hung batch left nothing; after it, all of it is there.
      if (point === 'before-commit') expect(committed).toBe(answered.length);
      else expect(committed).toBe(answered.length + batchSize);
      console.log(
        `${point}: killed in a batch of ${batchSize}; ${committed} of ${REQUESTS} deposits committed`,
      );

      for (const [i, request] of requests.entries()) {
        const again = await sendMixed(server, users, request, REQUEST_TIMEOUT_MS);
        expect(again.status, again.body).toBeLessThan(300);
        const id = (JSON.parse(again.body) as { id: number }).id;
        const before = found[i]!;
        // Replayed with its first journal if it had committed; run now, once, if not.
        if (before.length === 1) expect(id).toBe(before[0]);
        expect(await journalsOf(setup.db, request, walletOf(request))).toEqual([id]);
      }
      const report = await reconcileAll(setup.db);
      expect(isReconciled(report), JSON.stringify(report.purposeMismatches)).toBe(true);
    },
    120_000,
  );
});
