/**
 * Stopping the server (issue 22 point 4, issue 20 point 5; README "Two commands"). The real program
 * runs as a process on a test database:
 * - Ctrl-C on `npm start` reaches the process more than once — the terminal signals npm, sh, tsx
 *   and the server alike, and tsx relays it again — so SIGINT twice within a few milliseconds is one
 *   signal: the graceful shutdown finishes ("stopped", exit code 0) instead of dying on the second;
 * - a signal more than a second after the first is the operator asking again: the process exits at
 *   once (128 + the signal's number), without waiting for the rest of the shutdown;
 * - the `worker` role serves its probes on WORKER_PORT; on SIGTERM its readiness answers 503, its
 *   jobs stop, and it exits 0.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { claimRedisDatabase, type RedisDatabase } from '../../helpers/redis-database.js';
import { childEnv, ServerProcess } from '../../helpers/server-process.js';

let database: TestDatabase | undefined;
/** With REDIS_URL: a logical database of this run's own (the program's Redis keys have a fixed prefix). */
let redis: RedisDatabase | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  if (process.env.REDIS_URL) redis = await claimRedisDatabase(process.env.REDIS_URL);
});
afterAll(async () => {
  await redis?.release();
  await database?.drop();
});

function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return childEnv({
    DATABASE_URL: database!.url,
    LOG_LEVEL: 'info',
    // Nothing listens on port 9 (discard): nothing leaves the machine.
    BINANCE_BASE_URL: 'http://127.0.0.1:9',
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...extra,
  });
}

describe('the server on Ctrl-C', () => {
  it('shuts down gracefully when SIGINT arrives twice', async () => {
    const server = await ServerProcess.start(serverEnv(), 'all');
    server.kill('SIGINT');
    await sleep(20);
    server.kill('SIGINT');
    expect(await server.exited, server.recentOutput).toBe('exit 0');
    expect(server.recentOutput).toContain('"msg":"shutting down"');
    expect(server.recentOutput).toContain('"msg":"stopped"');
  });
});

describe('a second signal', () => {
  it('more than a second after the first exits at once, with 128 + its number', async () => {
    // A long drain keeps the graceful shutdown going well past the second signal.
    const server = await ServerProcess.start(
      serverEnv({ SHUTDOWN_DRAIN_MS: '8000', SHUTDOWN_TIMEOUT_MS: '15000' }),
      'serve',
    );
    server.kill('SIGTERM');
    await sleep(1_300);
    expect(server.running).toBe(true);
    const secondAtMs = Date.now();
    server.kill('SIGTERM');
    expect(await server.exited, server.recentOutput).toBe('exit 143');
    expect(Date.now() - secondAtMs).toBeLessThan(2_000);
    expect(server.recentOutput).toContain('"msg":"second signal: exiting at once"');
    expect(server.recentOutput).not.toContain('"msg":"stopped"');
  });
});

describe('the worker role', () => {
  it('serves its probes on WORKER_PORT, answers 503 once stopping, and exits 0', async () => {
    const worker = await ServerProcess.start(serverEnv(), 'worker');
    const ready = await fetch(`${worker.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await fetch(`${worker.baseUrl}/health/live`).then((r) => r.status)).toBe(200);
    expect(await fetch(`${worker.baseUrl}/metrics`).then((r) => r.text())).toContain(
      'http_request_duration_seconds',
    );
    // The API is not there: only the probes and the metrics.
    expect(await fetch(`${worker.baseUrl}/api/v1/market/prices/BTC`).then((r) => r.status)).toBe(404);
    const stopping = worker.stop();
    const statuses: (number | 'gone')[] = [];
    for (let i = 0; i < 50 && statuses.at(-1) !== 'gone'; i++) {
      statuses.push(
        await fetch(`${worker.baseUrl}/health/ready`).then(
          (r) => r.status,
          () => 'gone' as const,
        ),
      );
      await sleep(20);
    }
    expect(await stopping, worker.recentOutput).toBe('exit 0');
    // A probe sent before the signal was handled may still say 200; none after the first refusal.
    expect(statuses.slice(statuses.findIndex((s) => s !== 200))).not.toContain(200);
    expect(statuses.at(-1)).toBe('gone');
    expect(worker.recentOutput).toContain('"msg":"stopped"');
  });
});
