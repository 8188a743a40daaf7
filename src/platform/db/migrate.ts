import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { Db } from './client.js';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Any constant: instances that start together take turns applying migrations. */
const MIGRATION_LOCK_KEY = 727_274_001;

/**
 * Applies the committed, versioned SQL migrations (drizzle-kit) that the database lacks.
 * Several instances may start at once: a session-level PostgreSQL advisory lock, held on its own
 * connection, lets one of them migrate at a time.
 */
export async function runMigrations(db: Db): Promise<void> {
  const lockClient = await db.$client.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    lockClient.release();
  }
}
