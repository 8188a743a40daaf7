/**
 * The command runner's own rules (issue 16), on a real PostgreSQL with a small command of its own
 * (a counter per lane that may not go below zero):
 * - a refused item fails only itself: the others of its batch commit;
 * - an item that breaks a constraint fails the batch, which is run again item by item;
 * - a lane whose queue is full answers 503;
 * - a deadlock between two batches is retried;
 * - a COMMIT whose outcome is unknown is never re-run: 503 with Retry-After, and the retry with
 *   the same Idempotency-Key finds the stored answer;
 * - an idempotent replay gives the stored bytes, even when the render would now give others.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IdempotencyScope } from '../../../src/platform/commands/idempotency.js';
import type { LaneLimits } from '../../../src/platform/commands/lanes.js';
import { CommandRunner, type MoneyCommand } from '../../../src/platform/commands/runner.js';
import type { Db, Tx } from '../../../src/platform/db/client.js';
import { CommitOutcomeUnknownError, TransactionContentionError } from '../../../src/platform/db/tx.js';
import { toHttpError } from '../../../src/platform/http/errors.js';
import { DomainError } from '../../../src/shared/errors.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

class NotEnoughError extends DomainError {
  readonly code = 'INSUFFICIENT_FUNDS';
}

/** Adds `delta` to the counter of `lane`; refused when the counter would go below zero. */
interface Move {
  lane: string;
  delta: number;
  /** written as is: a value the table's CHECK refuses makes the whole batch fail */
  breaksConstraint?: boolean;
}

let database: TestDatabase;
let db: Db;
let userId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await db.execute(sql`create table runner_counters (lane text primary key, n int not null check (n >= 0))`);
  await db.execute(
    sql`create table runner_moves (id serial primary key, lane text not null, delta int not null check (delta <> 0))`,
  );
  const user = await db.execute<{ id: string }>(
    sql`insert into users (username, password_hash) values ('runner_test', 'x') returning id`,
  );
  userId = user.rows[0]!.id;
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  await db.execute(sql`truncate runner_counters, runner_moves`);
});

/** The counter command: batches see every item, in arrival order; `onApply` lets a test watch. */
function counterCommand(
  limits: LaneLimits = { batchSizeMax: 64, queueLengthMax: 1_000 },
  onApply: (items: readonly Move[]) => Promise<void> | void = () => undefined,
): MoneyCommand<Move, number> & { batches: number[] } {
  const batches: number[] = [];
  return {
    name: 'counter',
    limits,
    batches,
    laneOf: (item) => item.lane,
    async apply(tx: Tx, items: readonly Move[]) {
      batches.push(items.length);
      await onApply(items);
      const results: (number | DomainError)[] = [];
      for (const item of items) {
        const row = await tx.execute<{ n: number }>(sql`
          insert into runner_counters (lane, n) values (${item.lane}, 0)
          on conflict (lane) do update set n = runner_counters.n returning n`);
        const n = row.rows[0]!.n + item.delta;
        if (n < 0 && !item.breaksConstraint) {
          results.push(new NotEnoughError(`counter ${item.lane} would go below zero`));
          continue;
        }
        await tx.execute(sql`update runner_counters set n = ${n} where lane = ${item.lane}`);
        await tx.execute(
          sql`insert into runner_moves (lane, delta) values (${item.lane}, ${item.breaksConstraint ? 0 : item.delta})`,
        );
        results.push(n);
      }
      return results;
    },
  };
}

async function counterOf(lane: string): Promise<number | undefined> {
  const row = await db.execute<{ n: number }>(sql`select n from runner_counters where lane = ${lane}`);
  return row.rows[0]?.n;
}

function scopeOf(key: string, requestHash = 'h'): IdempotencyScope {
  return { userId, key, requestHash };
}

describe('CommandRunner', () => {
  it('batches the items of a lane and fails only the refused one', async () => {
    const runner = new CommandRunner(db);
    const command = counterCommand();
    const moves: Move[] = [
      { lane: 'a', delta: 5 },
      { lane: 'a', delta: -10 },
      ...Array(8).fill({ lane: 'a', delta: -1 }),
    ];
    const outcomes = await Promise.allSettled(moves.map((move) => runner.submit(command, move)));
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.any(NotEnoughError) });
    // In arrival order: +5, refused, then five of the eight -1s fit.
    const fulfilled = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(fulfilled).toBe(6);
    expect(await counterOf('a')).toBe(0);
    // The first item started a batch at once; the nine that queued behind it shared the next one.
    expect(command.batches).toEqual([1, 9]);
    await runner.close();
  });

  it('runs each item alone when its batch broke a constraint, so only the bad item fails', async () => {
    const runner = new CommandRunner(db);
    const command = counterCommand();
    const first = runner.submit(command, { lane: 'b', delta: 1 });
    const rest = [
      runner.submit(command, { lane: 'b', delta: 2 }),
      runner.submit(command, { lane: 'b', delta: 3, breaksConstraint: true }),
      runner.submit(command, { lane: 'b', delta: 4 }),
    ];
    expect(await first).toBe(1);
    const outcomes = await Promise.allSettled(rest);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await counterOf('b')).toBe(7);
    // 1 alone, the three together (rolled back), then each of the three alone.
    expect(command.batches).toEqual([1, 3, 1, 1, 1]);
    await runner.close();
  });

  it('answers 503 when a lane already holds its longest queue, and the others still run', async () => {
    const runner = new CommandRunner(db);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const command = counterCommand({ batchSizeMax: 10, queueLengthMax: 3 }, async () => gate);
    const running = runner.submit(command, { lane: 'c', delta: 1 });
    const queued = [1, 2, 3].map(() => runner.submit(command, { lane: 'c', delta: 1 }));
    const refused = await runner.submit(command, { lane: 'c', delta: 1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransactionContentionError);
    expect(toHttpError(refused)).toMatchObject({ status: 503, retryAfterSeconds: 1 });
    release();
    await Promise.all([running, ...queued]);
    expect(await counterOf('c')).toBe(4);
    await runner.close();
  });

  it('retries a batch that lost a deadlock to another runner, and both commit', async () => {
    // Two runners (two processes): each batch locks the two rows in the opposite order.
    let attempts = 0;
    let bothHoldFirst: () => void = () => undefined;
    let held = 0;
    const barrier = new Promise<void>((resolve) => {
      bothHoldFirst = resolve;
    });
    const deadlocking = (first: string, second: string): MoneyCommand<Move, number> => ({
      ...counterCommand(),
      async apply(tx: Tx, items: readonly Move[]) {
        attempts += 1;
        await tx.execute(
          sql`insert into runner_counters values (${first}, 0) on conflict (lane) do update set n = runner_counters.n + 1`,
        );
        held += 1;
        if (held === 2) bothHoldFirst();
        await Promise.race([barrier, new Promise((r) => setTimeout(r, 1_000))]);
        await tx.execute(
          sql`insert into runner_counters values (${second}, 0) on conflict (lane) do update set n = runner_counters.n + 1`,
        );
        return items.map(() => 0);
      },
    });
    await db.execute(sql`insert into runner_counters values ('x', 0), ('y', 0)`);
    await Promise.all([
      new CommandRunner(db).submit(deadlocking('x', 'y'), { lane: 'x', delta: 1 }),
      new CommandRunner(db).submit(deadlocking('y', 'x'), { lane: 'y', delta: 1 }),
    ]);
    expect(attempts).toBeGreaterThanOrEqual(3);
    // Each batch committed once: each row was raised once by each.
    expect(await counterOf('x')).toBe(2);
    expect(await counterOf('y')).toBe(2);
  });

  it('never re-runs a batch whose COMMIT outcome is unknown; the retry with its key finds the answer', async () => {
    // The connection is lost just after the server committed: the worst case, the money moved.
    let loseNextCommit = true;
    const flaky = Object.create(db) as Db;
    flaky.transaction = (async (work: (tx: Tx) => Promise<unknown>, config?: unknown) => {
      const value = await db.transaction(work as never, config as never);
      if (loseNextCommit) {
        loseNextCommit = false;
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
      }
      return value;
    }) as Db['transaction'];
    const runner = new CommandRunner(flaky);
    const command = counterCommand();
    const render = (n: number) => ({ status: 201, body: { n } });
    const request = (key: string) =>
      runner.execute(command, { lane: 'd', delta: 5 }, { scope: scopeOf(key), render });
    const lost = await request('k-lost').catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(toHttpError(lost)).toMatchObject({ status: 503, retryAfterSeconds: 1 });
    // The runner goes on: the next request is a batch of its own.
    expect((await request('k-other')).result).toBe(10);
    // Ran once: the first batch, never again after the lost commit.
    expect(command.batches).toEqual([1, 1]);
    expect(await counterOf('d')).toBe(10);
    const retried = await request('k-lost');
    expect(retried.response).toEqual({ status: 201, body: '{"n":5}', replayed: true });
    expect(retried.result).toBeUndefined();
    expect(await counterOf('d')).toBe(10);
  });

  it('replays the stored bytes of a key, and stores a final refusal as its answer', async () => {
    const runner = new CommandRunner(db);
    const command = counterCommand();
    let renders = 0;
    const render = (n: number) => ({ status: 201, body: { n, render: ++renders } });
    const first = await runner.execute(
      command,
      { lane: 'e', delta: 3 },
      { scope: scopeOf('k-replay'), render },
    );
    expect(first.result).toBe(3);
    const again = await runner.execute(
      command,
      { lane: 'e', delta: 3 },
      { scope: scopeOf('k-replay'), render },
    );
    expect(again.response).toEqual({ ...first.response, replayed: true });
    expect(again.response.body).toBe('{"n":3,"render":1}');
    // The same answer is found before any work (the services ask first, then prepare).
    expect(await runner.storedAnswer(scopeOf('k-replay'))).toEqual(again.response);
    const refused = await runner.execute(
      command,
      { lane: 'e', delta: -100 },
      { scope: scopeOf('k-refused'), render },
    );
    expect(refused.response.status).toBe(400);
    expect(JSON.parse(refused.response.body)).toMatchObject({ error: { code: 'INSUFFICIENT_FUNDS' } });
    // Now it would fit, but the key's answer is final.
    await runner.submit(command, { lane: 'e', delta: 200 });
    const retried = await runner.execute(
      command,
      { lane: 'e', delta: -100 },
      { scope: scopeOf('k-refused'), render },
    );
    expect(retried.response).toEqual({ ...refused.response, replayed: true });
    expect(await counterOf('e')).toBe(203);
    // The same key with another request is refused, and nothing runs.
    const reused = await runner
      .execute(command, { lane: 'e', delta: 1 }, { scope: scopeOf('k-replay', 'other'), render })
      .catch((e: unknown) => e);
    expect(toHttpError(reused)).toMatchObject({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED' });
    await runner.close();
  });

  it('waits up to its window for company when the command asks for one', async () => {
    const runner = new CommandRunner(db);
    const command = counterCommand({ batchSizeMax: 100, queueLengthMax: 1_000, windowMs: 50 });
    const first = runner.submit(command, { lane: 'f', delta: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const later = Array.from({ length: 4 }, () => runner.submit(command, { lane: 'f', delta: 1 }));
    await Promise.all([first, ...later]);
    expect(command.batches).toEqual([5]);
    await runner.close();
  });
});
