/**
 * Builds the web terminal when its sources or the API document changed (the browser tests and the
 * static routes serve `dist/web`), then starts one PostgreSQL for the whole run: the machine's server when DATABASE_URL is set, else an
 * embedded one in a temporary folder. Each test file then creates its own database on it
 * (helpers/db.ts), so runs and files never collide.
 */
import type { TestProject } from 'vitest/node';
import { buildWeb } from '../../scripts/build-web.js';
import { startTemporaryEmbeddedPostgres } from '../../src/platform/db/embedded.js';
import { createLogger } from '../../src/platform/observability/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a database on the test server that may create databases */
    adminDatabaseUrl: string;
    /** 'embedded' or 'external' */
    databaseMode: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildWeb();
  const external = process.env.DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    project.provide('databaseMode', 'external');
    return async () => undefined;
  }
  const embedded = await startTemporaryEmbeddedPostgres(createLogger('warn'), 'paperbroker-test-');
  project.provide('adminDatabaseUrl', embedded.url);
  project.provide('databaseMode', 'embedded');
  return () => embedded.stop();
}
