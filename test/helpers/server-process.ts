import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../../src/platform/db/embedded.js';

/** The repository root, where `src/main.ts` and `node_modules` are. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How long a started server gets to answer `/health/ready` (ms): a cold `tsx` start compiles the sources. */
const READY_WAIT_MS_MAX = 60_000;
/** Output kept from the child for the failure message (characters). */
const OUTPUT_CHARS_MAX = 4_000;

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
 * environment, on 127.0.0.1 and a free port. `kill('SIGKILL')` is a crash; `stop()` a graceful exit.
 */
export class ServerProcess {
  readonly baseUrl: string;
  private readonly child: ChildProcess;
  private output = '';
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<string>;

  private constructor(port: number, env: Record<string, string>, role: string) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
      cwd: REPO_ROOT,
      env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_CHARS_MAX);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
    });
  }

  /** Starts the server and waits until `/health/ready` answers 200. */
  static async start(env: Record<string, string>, role = 'serve'): Promise<ServerProcess> {
    const server = new ServerProcess(await freeLoopbackPort(), env, role);
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

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_WAIT_MS_MAX;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the server exited before it was ready:\n${this.output}`);
      const ready = await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ready) return;
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
