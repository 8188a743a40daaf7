/**
 * Stopping the server (issue 22 point 4; README "Two commands"): Ctrl-C on `npm start` reaches the
 * process more than once — the terminal signals npm, sh, tsx and the server alike, and tsx relays
 * it again — so the real server, run as a process, gets SIGINT twice in a row and must still finish
 * its own graceful shutdown ("stopped", exit code 0) instead of dying on the second one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { ServerProcess } from '../../helpers/server-process.js';

let database: TestDatabase | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

describe('the server on Ctrl-C', () => {
  it('shuts down gracefully when SIGINT arrives twice', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: database!.url,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
      // Nothing listens on port 9 (discard): nothing leaves the machine.
      BINANCE_BASE_URL: 'http://127.0.0.1:9',
    };
    if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
    const server = await ServerProcess.start(env, 'all');
    server.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.kill('SIGINT');
    expect(await server.exited, server.recentOutput).toBe('exit 0');
    expect(server.recentOutput).toContain('"msg":"shutting down"');
    expect(server.recentOutput).toContain('"msg":"stopped"');
  });
});
