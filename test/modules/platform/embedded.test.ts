/**
 * One data folder, two processes: `npm run reconcile` (or `migrate`) beside a running `npm start`
 * must use the embedded PostgreSQL that the server runs, not stop it as if it were left over by a
 * crash. The test process plays the server: it starts a cluster in a fresh folder, a child process
 * runs `src/main.ts reconcile` on the same folder, and the cluster must still answer afterwards.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../../src/platform/db/embedded.js';
import { createLogger } from '../../../src/platform/observability/logger.js';

const run = promisify(execFile);

it('lets a second process use the cluster a live process runs, and leaves it running', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-shared-'));
  await fs.chmod(dataDir, 0o755);
  const embedded = await startEmbeddedPostgres(dataDir, createLogger('silent'));
  try {
    const { DATABASE_URL: _external, ...inherited } = process.env;
    const env = { ...inherited, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test' };
    const reconciled = await run('npx', ['tsx', 'src/main.ts', 'reconcile'], { env, timeout: 60_000 });
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ ok: true });
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await client.end();
  } finally {
    await embedded.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}, 90_000);
