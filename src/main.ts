import fs from 'node:fs';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { startJobs } from './jobs.js';
import {
  ADMIN_USAGE,
  type AdminCommand,
  AdminCommandError,
  parseAdminCommand,
  runAdminCommand,
} from './modules/admin/command.js';
import { reconcileAll } from './modules/admin/reconcile.js';
import { resolveJwtSecret } from './modules/auth/index.js';
import { createSettlementScheduler } from './modules/bets/index.js';
import { isReconciled } from './modules/ledger/index.js';
import { createFallbackPriceSource, createPriceSource, ReplayFileError } from './modules/market/index.js';
import { createCache } from './platform/cache/index.js';
import { RedisCache } from './platform/cache/redis.js';
import { type Config, ConfigError, loadConfig } from './platform/config/env.js';
import { createDb, type Db } from './platform/db/client.js';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './platform/db/embedded.js';
import { runMigrations } from './platform/db/migrate.js';
import { createEventBus } from './platform/events/bus.js';
import { closeGracefully } from './platform/lifecycle/http-close.js';
import { Shutdown } from './platform/lifecycle/shutdown.js';
import { createLogger } from './platform/observability/logger.js';
import { buildOpsApp } from './platform/observability/ops-app.js';
import { isRole, ROLES, type Role } from './roles.js';
import { defined } from './shared/assert.js';
import { systemClock } from './shared/clock.js';

/** The database named by `DATABASE_URL` cannot be used (unreachable, wrong password, no such database). */
class DatabaseStartError extends Error {
  override name = 'DatabaseStartError';
}

/** Errors whose message is the whole story: printed as one line, exit code 1, no stack trace. */
function isOperatorError(error: unknown): error is Error {
  return (
    error instanceof ConfigError ||
    error instanceof EmbeddedPostgresError ||
    error instanceof ReplayFileError ||
    error instanceof DatabaseStartError ||
    error instanceof AdminCommandError
  );
}

/** Where a database URL points, without its credentials: `host:port/database`. */
function databaseLocation(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

/** Opens the database: `DATABASE_URL`, or the embedded PostgreSQL in `DATA_DIR`. */
async function openDatabase(config: Config, logger: Logger): Promise<{ db: Db; stop: () => Promise<void> }> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, logger);
  const db = createDb(config.databaseUrl ?? defined(embedded).url, config.dbPoolSizeMax);
  return {
    db,
    stop: async () => {
      await db.$client.end().catch(() => undefined);
      await embedded?.stop();
    },
  };
}

/**
 * The roles that answer on stdout and exit: `reconcile` (the report as JSON; exit code 2 when a
 * rule is broken) and `admin` (one line saying what changed).
 * @returns the exit code
 * @throws {AdminCommandError} an admin command for a user that does not exist
 */
async function runCommand(db: Db, logger: Logger, admin: AdminCommand | undefined): Promise<number> {
  if (admin) {
    process.stdout.write(`${await runAdminCommand(db, admin)}\n`);
    return 0;
  }
  const report = await reconcileAll(db);
  const ok = isReconciled(report);
  process.stdout.write(`${JSON.stringify({ ok, report }, null, 2)}\n`);
  logger.info({ ok }, ok ? 'ledger reconciled: every rule holds' : 'ledger does NOT reconcile');
  return ok ? 0 : 2;
}

/** Runs `role` (with `admin`, the admin command it carries out) until it is done or stopped. */
async function run(role: Role, admin?: AdminCommand): Promise<void> {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  // The commands keep stdout for their answer; `admin` logs only warnings unless LOG_LEVEL says otherwise.
  const logLevel = role === 'admin' && !process.env.LOG_LEVEL ? 'warn' : config.logLevel;
  const logger = createLogger(logLevel, role === 'reconcile' || role === 'admin' ? 2 : 1);
  const shutdown = new Shutdown({
    timeoutMs: config.shutdownTimeoutMs,
    drainMs: config.shutdownDrainMs,
    logger,
  });
  shutdown.installSignalHandlers();

  const database = await openDatabase(config, logger);
  shutdown.addBack(database.stop);
  try {
    await runMigrations(database.db);
  } catch (error) {
    // The first query is where an unreachable or misconfigured server shows: one line, no stack.
    if (!config.databaseUrl || !(error instanceof Error) || !('code' in error)) throw error;
    await database.stop();
    throw new DatabaseStartError(
      `cannot use the database at ${databaseLocation(config.databaseUrl)} (DATABASE_URL): ${error.message}`,
    );
  }
  logger.info('database migrations applied');
  if (role === 'migrate') {
    await shutdown.run('migrate done');
    return;
  }
  if (role === 'reconcile' || role === 'admin') {
    // One thing done on the database, then out; the embedded cluster is stopped first if this
    // process started it (one that `npm start` runs is left running).
    const exitCode = await runCommand(database.db, logger, admin).finally(() => database.stop());
    process.exit(exitCode);
  }

  const cache = createCache(config.redisUrl);
  shutdown.addBack(() => cache.close());
  const events = createEventBus(config.redisUrl);
  shutdown.addBack(() => events.close());
  const clock = systemClock;
  const sources = {
    priceSource: createPriceSource(config, clock, cache),
    fallbackPriceSource: createFallbackPriceSource(config, clock, cache),
  };
  // One bet scheduler for the process: in the `all` role without Redis, the timers the API sets fire
  // in the jobs of the same process. Closed after the API and the jobs (the back closes after the front).
  const betScheduler = createSettlementScheduler(config.redisUrl, cache, logger);
  shutdown.addBack(() => betScheduler.close());
  const jobs = () =>
    startJobs({ config, db: database.db, logger, cache, events, clock, betScheduler, ...sources });
  const readinessChecks = {
    ...(cache instanceof RedisCache ? { redis: () => cache.ping() } : {}),
    accepting: shutdown.readinessCheck,
  };
  if (role === 'worker') {
    shutdown.addFront(await jobs());
    if (config.workerPort !== undefined) {
      // Probes and the job metrics; not behind a load balancer, so no drain delay.
      const ops = await buildOpsApp(logger, {
        database: async () => {
          await database.db.$client.query('select 1');
        },
        ...readinessChecks,
      });
      shutdown.addFront(closeGracefully(ops));
      await ops.listen({ port: config.workerPort, host: config.host });
    }
    logger.info({ workerPort: config.workerPort }, 'worker started');
    return;
  }

  const app = await buildApp({
    config,
    db: database.db,
    logger,
    cache,
    events,
    ...sources,
    clock,
    betScheduler,
    jwtSecret: await resolveJwtSecret(config.jwtSecret, config.dataDir, logger),
    readinessChecks,
  });
  shutdown.addFront(closeGracefully(app), { servesTraffic: true });
  await app.listen({ port: config.port, host: config.host });
  logger.info({ role, priceSource: config.priceSource.split(':')[0] }, 'paperbroker is ready');
  // The jobs start once the API answers: their catch-up (bets that came due while nothing ran) must
  // not hold the server's readiness back.
  if (role === 'all') shutdown.addFront(await jobs());
}

const role = process.argv[2] ?? 'all';
if (!isRole(role)) {
  process.stderr.write(`usage: paperbroker [${ROLES.join('|')}] (got "${role}")\n`);
  process.exit(1);
}
const adminCommand = role === 'admin' ? parseAdminCommand(process.argv.slice(3)) : undefined;
if (role === 'admin' && !adminCommand) {
  process.stderr.write(`${ADMIN_USAGE}\n`);
  process.exit(1);
}
run(role, adminCommand).catch((error: unknown) => {
  if (isOperatorError(error)) process.stderr.write(`paperbroker: ${error.message}\n`);
  else
    process.stderr.write(
      `paperbroker: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
