/**
 * The end of a run: the printed report (the table, every row's status codes, every check, the
 * reconcile verdict, the machine) and the JSON results in `bench/results/`, whose shape the
 * consumers of `bench/results/*.json` read: new figures go in new fields, never in renamed ones.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Check, type LedgerCheck, ledgerLine } from './checks.js';
import type { BenchRedis } from './redis.js';
import { formatTable, type ResultRows, statusList } from './rows.js';
import type { Findings, Scenario } from './scenario.js';
import { BASELINE_POOL_SIZE } from './servers.js';
import { CONNECTIONS, WARMUP_S } from './timed-load.js';
import { INITIAL_BALANCE, QUOTE_ASSET, USER_COUNT } from './users.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** The machine a run measured on: anything else busy on it skews every figure. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  /** `external` (DATABASE_URL) or `embedded` */
  dbMode: string;
  /** PostgreSQL's `server_version` */
  postgres: string;
  /** the commit measured ({@link gitRevision}) */
  revision: string;
  /** `Redis <version> (REDIS_URL)`, or `none` */
  redis: string;
  /** the 1-minute load average when the run started */
  loadAverageAtStart: number;
}

/** The commit measured, `+dirty` when `src/` has changes; `unknown` outside a git checkout. */
function gitRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** This machine, the database server and Redis of the run, and how busy the machine was at start. */
export function describeMachine(run: {
  dbMode: string;
  serverVersion: string | undefined;
  redis: BenchRedis | undefined;
  loadAverageAtStart: number;
}): Machine {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    dbMode: run.dbMode,
    postgres: run.serverVersion ?? 'unknown',
    revision: gitRevision(),
    redis: run.redis ? `Redis ${run.redis.version} (REDIS_URL)` : 'none',
    loadAverageAtStart: run.loadAverageAtStart,
  };
}

/** Everything a run found, for the report and the JSON results. */
export interface RunSummary {
  startedAt: Date;
  /** every registered scenario, whose goals and settings the JSON results keep */
  registry: readonly Scenario[];
  /** the ids run, in run order */
  scenarioIds: string[];
  /** measured seconds of each timed run */
  durationS: number;
  /** connections of the app's pool */
  appPoolSize: number;
  machine: Machine;
  redis: BenchRedis | undefined;
  rows: ResultRows;
  checks: Check[];
  findings: Findings;
  ledger: LedgerCheck;
}

/** The status line of every row: status codes (warm-up too) and the row's figures beyond the table. */
function statusLines(summary: RunSummary): string[] {
  return summary.rows.rows.map((row) => {
    const warmup = row.result.warmup ? `; warm-up ${statusList(row.result.warmup)}` : '';
    const rounds = row.result.roundsPerSec
      ? `requests/s of each round: ${row.result.roundsPerSec.map((r) => r.toFixed(0)).join(', ')}`
      : undefined;
    const extra = rounds ?? summary.rows.noteOf(row);
    const name = row.variant ? `${row.id} (${row.variant})` : row.id;
    return `${name}: status codes ${statusList(row.result)}${warmup}${extra ? `; ${extra}` : ''}`;
  });
}

/** Prints the table, the status lines, the checks, the reconcile verdict and the machine. */
export function printReport(summary: RunSummary): void {
  const { machine, rows } = summary;
  const labelOf = (id: string) => summary.registry.find((s) => s.id === id)?.baselineLabel;
  console.log('');
  if (rows.rows.length > 0) {
    console.log(formatTable(rows.rows, labelOf));
    console.log('');
  }
  for (const line of statusLines(summary)) console.log(line);
  for (const check of summary.checks) {
    console.log(`${check.scenario}: ${check.name}: ${check.ok ? 'OK' : 'FAIL'} (${check.detail})`);
  }
  console.log(ledgerLine(summary.ledger));
  console.log(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ` +
      `db ${machine.dbMode} (PostgreSQL ${machine.postgres}), cache for the market scenarios: ` +
      `${summary.redis ? `${machine.redis} and in process` : 'in process'}, revision ${machine.revision}, ` +
      `load average ${machine.loadAverageAtStart.toFixed(2)} at start`,
  );
}

/**
 * The JSON results' `settings`: the run's own, then what every registered scenario declares (their
 * `market` objects merged into one, with this run's Redis key prefix).
 */
function settingsOf(summary: RunSummary): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  const market: Record<string, unknown> = {};
  for (const scenario of summary.registry) {
    const { market: scenarioMarket, ...rest } = scenario.settings ?? {};
    Object.assign(own, rest);
    if (scenarioMarket) Object.assign(market, scenarioMarket);
  }
  return {
    scenarios: summary.scenarioIds,
    users: USER_COUNT,
    initialBalance: `${INITIAL_BALANCE} ${QUOTE_ASSET}`,
    ...own,
    connections: CONNECTIONS,
    warmupS: WARMUP_S,
    durationS: summary.durationS,
    appPoolSize: summary.appPoolSize,
    baselinePoolSize: BASELINE_POOL_SIZE,
    market: { ...market, redisKeyPrefix: summary.redis?.prefix ?? null },
  };
}

/**
 * Writes the JSON results to `bench/results/bench-<timestamp>.json` and `bench/results/latest.json`.
 * @returns the file written, relative to the repository
 */
export function writeResults(summary: RunSummary): string {
  const results = {
    benchmark: 'paperbroker',
    startedAt: summary.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: summary.machine,
    settings: settingsOf(summary),
    goals: Object.fromEntries(summary.registry.filter((s) => s.goal).map((s) => [s.id, s.goal])),
    scenarios: summary.rows.rows,
    liquidation: summary.findings.liquidation,
    checks: summary.checks,
    ordersStored: summary.findings.ordersStored,
    market: summary.findings.market,
    reconcile: summary.ledger,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = summary.startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `bench-${stamp}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), text);
  return path.relative(REPO_ROOT, file);
}
