import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The suite runs twice in CI (embedded PostgreSQL, then the machine's PostgreSQL + Redis):
    // every file creates its own database, so files can run in parallel.
    fileParallelism: true,
  },
});
