import { inject } from 'vitest';
import { createDb, type Db } from '../../src/platform/db/client.js';
import { runMigrations } from '../../src/platform/db/migrate.js';
import { createScratchDatabase } from '../../src/platform/db/scratch.js';

/** A fresh, migrated database of its own for one test file, dropped by `drop()`. */
export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_test');
  const db = createDb(scratch.url, 30);
  await runMigrations(db);
  return {
    url: scratch.url,
    db,
    drop: async () => {
      await db.$client.end();
      await scratch.drop();
    },
  };
}
