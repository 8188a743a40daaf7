/**
 * The real program as a cluster of OS processes (SPEC C13): `serve` processes, each on its own
 * loopback port, and `worker` processes, all on one database and one Redis given in the
 * environment. Built on `ServerProcess`; every member can be stopped, killed and restarted, and
 * `stop()` ends every process the cluster started, whatever state it is in.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { childEnv, ServerProcess } from './server-process.js';

/** The roles a cluster runs; `all` and `migrate` are single-process roles. */
export type ClusterRole = 'serve' | 'worker';

/** How long a stopped member gets to exit before SIGKILL (ms). */
const STOP_GRACE_MS = 10_000;

/**
 * One process of a cluster: its role and its current OS process. A restart starts a new process with
 * the same environment and, for `serve`, on the same port, so `baseUrl` stays valid.
 */
export class ClusterMember {
  private constructor(
    readonly role: ClusterRole,
    private readonly env: Record<string, string>,
    private current: ServerProcess,
  ) {}

  /** Starts a member and waits until it is ready (`/health/ready`, or a worker's `worker started`). */
  static async start(role: ClusterRole, env: Record<string, string>): Promise<ClusterMember> {
    return new ClusterMember(role, env, await ServerProcess.start(env, role));
  }

  /** `http://127.0.0.1:<port>` of a `serve` member (a worker listens on no port). */
  get baseUrl(): string {
    if (this.role !== 'serve') throw new Error('a worker has no HTTP address');
    return this.current.baseUrl;
  }

  get running(): boolean {
    return this.current.running;
  }

  /** The current OS process (its output, its exit). */
  get process(): ServerProcess {
    return this.current;
  }

  /** SIGKILL — a crash: no shutdown code runs. Resolves once the process has exited. */
  async kill(): Promise<string> {
    this.current.kill('SIGKILL');
    return await this.current.exited;
  }

  /** SIGTERM (SIGKILL after a grace period); resolves once the process has exited. */
  async stop(): Promise<string> {
    return this.current.running ? await this.current.stop(STOP_GRACE_MS) : await this.current.exited;
  }

  /** Stops the process if it still runs, then starts a new one in its place and waits until it is ready. */
  async restart(): Promise<void> {
    await this.stop();
    this.current = await ServerProcess.start(this.env, this.role, this.current.port);
  }
}

/** What `startCluster` starts. */
export interface ClusterOptions {
  serves: number;
  workers: number;
  /**
   * What every process gets on top of `childEnv`'s basics: `DATABASE_URL`, `REDIS_URL` (without
   * Redis the processes share no pub/sub, cache or bet queue), the fake upstreams' URLs, settings.
   * `LOG_LEVEL` applies to `serve` members (default `warn`); workers log at `info`, which their ready
   * line needs.
   */
  env: Record<string, string>;
}

/** A running cluster. */
export class Cluster {
  readonly serves: ClusterMember[] = [];
  readonly workers: ClusterMember[] = [];

  constructor(
    private readonly env: Record<ClusterRole, Record<string, string>>,
    private readonly dataDir: string,
  ) {}

  /** The `serve` members' base URLs, in start order. */
  get baseUrls(): string[] {
    return this.serves.map((member) => member.baseUrl);
  }

  /** Starts `count` more members of `role` side by side; waits until each is ready. */
  async add(role: ClusterRole, count = 1): Promise<ClusterMember[]> {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => ClusterMember.start(role, this.env[role])),
    );
    const members = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    (role === 'serve' ? this.serves : this.workers).push(...members);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return members;
  }

  /**
   * Stops every member side by side (SIGTERM, then SIGKILL after the grace period) and removes the
   * cluster's data folder. Safe to call more than once.
   */
  async stop(): Promise<void> {
    await Promise.all([...this.serves, ...this.workers].map((member) => member.stop()));
    await fs.rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Starts `serves` × `serve` and `workers` × `worker` processes of the real program side by side
 * (they take turns on the migrations: an advisory lock), each ready before this resolves. Processes
 * started before one fails are stopped again, then the failure is thrown.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  // With JWT_SECRET and DATABASE_URL set nothing is written there; a folder of its own all the same,
  // so that nothing ever lands in the repository's ./data.
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-cluster-'));
  const base = childEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...options.env });
  const cluster = new Cluster({ serve: base, worker: { ...base, LOG_LEVEL: 'info' } }, dataDir);
  const started = await Promise.allSettled([
    cluster.add('serve', options.serves),
    cluster.add('worker', options.workers),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await cluster.stop();
    throw failed.reason;
  }
  return cluster;
}
