/**
 * The database-transaction rules of SPEC §5 rule 3 and the idempotency records' lifetime:
 * a real deadlock (40P01) between two transactions is retried and both commit; a transaction that
 * keeps losing (40001) gives up after a bounded number of tries with a 503 + Retry-After; an expired
 * idempotency record is not replayed, and the purge deletes only expired records; deposits stop at
 * the largest balance; a posted journal is counted once its transaction has committed.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { available, Ledger, system } from '../../../src/modules/ledger/index.js';
import { purgeExpiredIdempotencyKeys } from '../../../src/platform/commands/idempotency.js';
import { TransactionContentionError, withSavepoint, withTransaction } from '../../../src/platform/db/tx.js';
import { toHttpError } from '../../../src/platform/http/errors.js';
import { metricsRegistry } from '../../../src/platform/observability/metrics.js';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

describe('withTransaction', () => {
  it('retries the loser of a real deadlock until both transactions commit', async () => {
    await t.db.execute(sql`create table deadlock_rows (id int primary key, n int not null)`);
    await t.db.execute(sql`insert into deadlock_rows values (1, 0), (2, 0)`);
    let attempts = 0;
    let bothHoldFirstLock: () => void = () => undefined;
    let held = 0;
    const barrier = new Promise<void>((resolve) => {
      bothHoldFirstLock = resolve;
    });
    // Each locks one row, waits until the other holds its row, then asks for the other's row.
    const crossing = (first: number, second: number) =>
      withTransaction(t.db, async (tx) => {
        attempts += 1;
        await tx.execute(sql`update deadlock_rows set n = n + 1 where id = ${first}`);
        held += 1;
        if (held === 2) bothHoldFirstLock();
        await Promise.race([barrier, new Promise((r) => setTimeout(r, 2_000))]);
        await tx.execute(sql`update deadlock_rows set n = n + 1 where id = ${second}`);
      });
    await Promise.all([crossing(1, 2), crossing(2, 1)]);
    expect(attempts).toBeGreaterThanOrEqual(3);
    const rows = await t.db.execute<{ n: number }>(sql`select n from deadlock_rows order by id`);
    expect(rows.rows.map((r) => r.n)).toEqual([2, 2]);
  });

  it('gives up after a bounded number of serialization failures with a 503 and Retry-After', async () => {
    let attempts = 0;
    const failing = withTransaction(t.db, async () => {
      attempts += 1;
      throw Object.assign(new Error('could not serialize access'), { code: '40001' });
    });
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionContentionError);
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(10);
    expect(toHttpError(error)).toMatchObject({ status: 503, code: 'SERVICE_BUSY', retryAfterSeconds: 1 });
  });
});

describe('idempotency records', () => {
  it('does not replay an expired record, and the purge deletes only expired ones', async () => {
    const user = await registerUser(t.app);
    const deposit = (key: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/wallets/${user.walletId}/operation`,
        headers: { ...bearer(user.token), 'idempotency-key': key },
        payload: { operation_type: 'DEPOSIT', amount: '1' },
      });
    const first = await deposit('old-key');
    expect(first.statusCode).toBe(201);
    await t.db.execute(sql`
      update idempotency_keys set created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'
       where user_id = ${user.userId} and key = 'old-key'`);
    const again = await deposit('old-key');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.json().id).not.toBe(first.json().id);

    const fresh = await deposit(randomUUID());
    expect(fresh.statusCode).toBe(201);
    await t.db.execute(sql`
      update idempotency_keys set created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'
       where user_id = ${user.userId} and key = 'old-key'`);
    expect(await purgeExpiredIdempotencyKeys(t.db)).toBe(1);
    const left = await t.db.execute<{ n: string }>(
      sql`select count(*)::text as n from idempotency_keys where user_id = ${user.userId}`,
    );
    expect(left.rows[0]?.n).toBe('1');
  });
});

describe('amounts at the edge of the largest balance (10^15)', () => {
  it('refuses a deposit beyond the largest balance with a 422, and moves nothing', async () => {
    const user = await registerUser(t.app);
    const deposit = (amount: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/wallets/${user.walletId}/operation`,
        headers: bearer(user.token),
        payload: { operation_type: 'DEPOSIT', amount },
      });
    // What a new user reproduced: 30 integer digits went in, and overflowed later sums.
    const huge = await deposit('999999999999999999999999999999.99999999');
    expect(huge.statusCode).toBe(422);
    expect(huge.json().error).toMatchObject({
      code: 'BALANCE_LIMIT_EXCEEDED',
      details: { asset: 'USDT', balance: '10000', balance_max: '1000000000000000' },
    });
    const first = await deposit('999999999989999.99999999');
    expect(first.json()).toMatchObject({ amount: '999999999989999.99999999' });
    const over = await deposit('0.00000002');
    expect(over.statusCode).toBe(422);
    expect(over.json().error.code).toBe('BALANCE_LIMIT_EXCEEDED');
    const exact = await deposit('0.00000001');
    expect(exact.statusCode).toBe(201);
    const wallet = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${user.walletId}`,
      headers: bearer(user.token),
    });
    expect(wallet.json().balance).toBe('1000000000000000');
  });
});

describe('ledger_journals_total{outcome="posted"}', () => {
  /** The posted count of a journal kind, as /metrics would show it now. */
  async function postedCount(kind: string): Promise<number> {
    const metric = await metricsRegistry.getSingleMetric('ledger_journals_total')?.get();
    return metric?.values.find((v) => v.labels.kind === kind && v.labels.outcome === 'posted')?.value ?? 0;
  }

  it('counts a journal once its transaction commits: never one rolled back, once one retried', async () => {
    const user = await registerUser(t.app);
    const ledger = new Ledger();
    const grant = {
      kind: 'metric_probe',
      postings: [
        {
          source: system('funding'),
          destination: available(user.walletId),
          asset: 'USDT',
          amount: new Decimal(1),
        },
      ],
    };
    const before = await postedCount('metric_probe');
    // Posted, then the transaction fails: a batch that rolls back posted nothing.
    await expect(
      withTransaction(t.db, async (tx) => {
        await ledger.post(tx, grant);
        throw new Error('the rest of the batch failed');
      }),
    ).rejects.toThrow('the rest of the batch failed');
    expect(await postedCount('metric_probe')).toBe(before);
    // Posted inside a savepoint that is undone, then once more in the transaction that commits.
    await withTransaction(t.db, async (tx) => {
      await withSavepoint(tx, async (inner) => {
        await ledger.post(inner, grant);
        throw new Error('undone');
      }).catch(() => undefined);
      expect(await postedCount('metric_probe')).toBe(before);
      await withSavepoint(tx, (inner) => ledger.post(inner, grant));
      expect(await postedCount('metric_probe')).toBe(before);
    });
    expect(await postedCount('metric_probe')).toBe(before + 1);
    // A serialization failure after the post: retried, and counted once, for the attempt that committed.
    let attempts = 0;
    await withTransaction(t.db, async (tx) => {
      await ledger.post(tx, grant);
      attempts += 1;
      if (attempts === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
    });
    expect(attempts).toBe(2);
    expect(await postedCount('metric_probe')).toBe(before + 2);
  });
});
