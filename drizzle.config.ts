import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/modules/*/tables.ts', './src/platform/commands/idempotency-tables.ts'],
  out: './src/platform/db/migrations',
});
