import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../../src/platform/db/embedded.js';
import { TEST_JWT_SECRET } from './app.js';

/** The repository root, where `src/main.ts` and `node_modules` are. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How long a started server gets to be ready (ms): a cold `tsx` start compiles the sources. */
const READY_WAIT_MS_MAX = 60_000;
/**
 * The log line (pino's `msg`) that says a role which listens on no port is ready: `src/main.ts`
 * writes it once the `worker` role's jobs have started. It is logged at info level, so such a
 * child needs `LOG_LEVEL` info or lower (`start` refuses any other).
 */
const READY_LOG_MESSAGES: Readonly<Record<string, string>> = { worker: 'worker started' };
const LOG_LEVELS_INFO_OR_LOWER = ['info', 'debug', 'trace'];
/** Output kept from the child for the failure message (characters). */
const OUTPUT_CHARS_MAX = 4_000;
/** A stdout line longer than this is cut (characters); the ready line is far shorter. */
const LINE_CHARS_MAX = 65_536;

/**
 * The environment of a child server: what a Node process needs of ours (`PATH`, `HOME`; nothing
 * else leaks in, so a developer's `.env`-style variables cannot change a test), `NODE_ENV=test`,
 * the tests' JWT secret, then `vars` (`DATABASE_URL`, `DATA_DIR`, `LOG_LEVEL`, …) on top.
 */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    ...vars,
  };
}

/** What a run of the program printed, and how it ended. */
export interface ProgramRun {
  /** the exit code, or the signal that ended it */
  exit: string;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real program to its end as a child process, `node --import tsx src/main.ts <args…>`,
 * with `env` as its whole environment (nothing of this process's: no stray DATABASE_URL).
 */
export async function runProgram(args: string[], env: Record<string, string>): Promise<ProgramRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString('utf8')).slice(-OUTPUT_CHARS_MAX);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-OUTPUT_CHARS_MAX);
  });
  // 'close', not 'exit': the output is complete only once the pipes have closed.
  const exit = await new Promise<string>((resolve) => {
    child.once('close', (code, signal) => resolve(signal ?? `exit ${code}`));
  });
  return { exit, stdout, stderr };
}

/**
 * The real server as a child process: `node --import tsx src/main.ts <role>` with the given
 * environment, on 127.0.0.1 and a free port (or the one given). `kill('SIGKILL')` is a crash;
 * `stop()` a graceful exit. The HTTP roles are ready when `/health/ready` answers 200; the `worker`
 * role, which listens on no port, when it has logged `worker started` (see `READY_LOG_MESSAGES`).
 */
export class ServerProcess {
  readonly baseUrl: string;
  private readonly child: ChildProcess;
  private output = '';
  /** The part of stdout after its last newline: a log line still being written. */
  private partialLine = '';
  private readyLogged = false;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<string>;

  private constructor(
    readonly port: number,
    env: Record<string, string>,
    readonly role: string,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
      cwd: REPO_ROOT,
      // A worker serves its probes and metrics on WORKER_PORT: the same port, at `baseUrl`.
      env: {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        ...(role === 'worker' ? { WORKER_PORT: String(port) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_CHARS_MAX);
    };
    this.child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      this.watchLog(chunk);
    });
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
    });
  }

  /**
   * Starts the server and waits until it is ready: `/health/ready` answers 200, or, for the `worker`
   * role, its `worker started` log line.
   * @param port where it listens; a free loopback port when not given (a restart passes the old one)
   * @throws {Error} when it exits first or is not ready within `READY_WAIT_MS_MAX`, or when a worker
   *   would log below info level (it would never say it is ready)
   */
  static async start(env: Record<string, string>, role = 'serve', port?: number): Promise<ServerProcess> {
    if (role in READY_LOG_MESSAGES && !LOG_LEVELS_INFO_OR_LOWER.includes(env.LOG_LEVEL ?? 'info'))
      throw new Error(
        `the ${role} role says it is ready in an info log line: LOG_LEVEL ${env.LOG_LEVEL} hides it`,
      );
    const server = new ServerProcess(port ?? (await freeLoopbackPort()), env, role);
    await server.waitReady();
    return server;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process wrote lately, for a failure message. */
  get recentOutput(): string {
    return this.output;
  }

  /** Notes the ready line when a complete stdout line is that pino message. */
  private watchLog(chunk: Buffer): void {
    const expected = READY_LOG_MESSAGES[this.role];
    if (expected === undefined || this.readyLogged) return;
    const lines = (this.partialLine + chunk.toString('utf8')).split('\n');
    this.partialLine = (lines.pop() ?? '').slice(-LINE_CHARS_MAX);
    this.readyLogged = lines.some((line) => {
      try {
        return (JSON.parse(line) as { msg?: unknown }).msg === expected;
      } catch {
        return false; // not a JSON log line
      }
    });
  }

  private async isReady(): Promise<boolean> {
    if (this.role in READY_LOG_MESSAGES) return this.readyLogged;
    return await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_WAIT_MS_MAX;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the server exited before it was ready:\n${this.output}`);
      if (await this.isReady()) return;
      await sleep(100);
    }
    this.kill('SIGKILL');
    throw new Error(`the server was not ready within ${READY_WAIT_MS_MAX} ms:\n${this.output}`);
  }

  /** Sends `signal` to this process (only this one: the pid it was started with). */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<string> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
