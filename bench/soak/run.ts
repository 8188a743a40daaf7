/**
 * One soak run: the real program as a child process (`src/main.ts all`: the API and the jobs in one
 * process) on a database of its own, priced by a fake Binance, all on 127.0.0.1; the mixed load of
 * the crash test against it for `durationSeconds`, a bounded number of requests in flight; a sample
 * every `sampleSeconds`; then the analysis, the JSON of the samples and the SVG plot.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/platform/observability/logger.js';
import { FakeBinance } from '../../test/helpers/fake-binance.js';
import { type MixedKind, registerMixedUsers } from '../../test/helpers/mixed-load.js';
import { claimRedisDatabase } from '../../test/helpers/redis-database.js';
import { childEnv, ServerProcess } from '../../test/helpers/server-process.js';
import { seededRandom } from '../../test/helpers/wallets.js';
import { quoteAt } from '../../test/modules/bets/helpers.js';
import { type Cleanup, runCleanups } from '../harness/cleanup.js';
import { openBenchDatabase } from '../harness/database.js';
import { describeMachine, type Machine } from '../harness/results.js';
import { type Analysis, analyse } from './analysis.js';
import { type KindLatency, LoadRecorder, type LoadTotals, runLoad } from './load.js';
import { type Sample, takeSample } from './sample.js';
import { soakSvg } from './svg.js';

/** What a run is asked to do. */
export interface SoakOptions {
  durationSeconds: number;
  sampleSeconds: number;
  /** where the JSON and the SVG go (created if missing) */
  outputDir: string;
  /** a PostgreSQL server whose role may CREATE DATABASE; undefined → an embedded one in a temp folder */
  databaseServerUrl: string | undefined;
  /** Redis for the program (a logical database of this run's own); undefined → in-process */
  redisUrl: string | undefined;
  /** seeds the mixed load; printed, so a run can be repeated */
  seed: number;
}

/** What a run found and where it wrote it. */
export interface SoakResult {
  samples: Sample[];
  totals: LoadTotals;
  /** each kind of request's latency over the run */
  latencyByKind: Partial<Record<MixedKind, KindLatency>>;
  analysis: Analysis;
  machine: Machine;
  /** how the server ended after the load: `exit 0` when it stopped gracefully */
  serverExit: string;
  jsonFile: string;
  svgFile: string;
}

/** Load users: few, so their wallets see deposits, withdrawals, orders and bets all mixed. */
const USER_COUNT = 8;
/** Requests in flight at once: bounded, so the soak measures leaks and not a queue growing. */
const CONCURRENCY = 16;
const BURST_SIZE = 150;
/** Budget of one request (ms). */
const REQUEST_TIMEOUT_MS = 20_000;
/** The bet sweeper's interval in the child (ms), as in the crash test. */
const SWEEP_MS = 500;
/** BTCUSDT's price moves each burst, so bets win and lose and shorts gain and lose. */
const PRICES = ['50000', '50150', '49850'];

interface Rig {
  server: ServerProcess;
  binance: FakeBinance;
  db: Awaited<ReturnType<typeof openBenchDatabase>>;
  redisDescription: string;
}

/** Starts the database, Redis (if asked), the fake Binance and the server; cleanups registered. */
async function setUp(options: SoakOptions, cleanups: Cleanup[]): Promise<Rig> {
  const signal = new AbortController().signal;
  const logger = createLogger('warn');
  // Two connections: the migrations hold their lock on one and run on the other. The sampler's
  // count of connections leaves this pool's out.
  const db = await openBenchDatabase({
    externalUrl: options.databaseServerUrl,
    poolSizeMax: 2,
    logger,
    cleanups,
    signal,
  });
  const binance = await new FakeBinance().start();
  cleanups.push({ name: 'close fake Binance', run: () => binance.close() });
  binance.setQuote('BTCUSDT', quoteAt(PRICES[0]!));
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-soak-'));
  cleanups.push({ name: 'remove data dir', run: () => fs.rm(dataDir, { recursive: true, force: true }) });
  const env = childEnv({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'error',
    BINANCE_BASE_URL: binance.baseUrl,
    PRICE_CACHE_TTL_MS: '0',
    RATE_LIMIT_PER_USER_PER_MIN: '0',
    BET_SWEEP_INTERVAL_MS: String(SWEEP_MS),
  });
  let redisDescription = 'none (in-process cache and timers)';
  if (options.redisUrl) {
    // The program's Redis keys have a fixed prefix: a logical database of our own keeps them apart.
    const redis = await claimRedisDatabase(options.redisUrl);
    cleanups.push({ name: `release Redis database ${redis.index}`, run: () => redis.release() });
    env.REDIS_URL = redis.url;
    redisDescription = `Redis database ${redis.index} (REDIS_URL)`;
  }
  const server = await ServerProcess.start(env, 'all');
  cleanups.push({ name: 'stop server', run: async () => void (await server.stop(5_000)) });
  return { server, binance, db, redisDescription };
}

/** Runs the load and samples it every `sampleSeconds` until `durationSeconds` have passed. */
async function loadAndSample(
  rig: Rig,
  options: SoakOptions,
): Promise<Pick<SoakResult, 'samples' | 'totals' | 'latencyByKind'>> {
  const users = await registerMixedUsers(rig.server, `soak_${options.seed}`, USER_COUNT);
  const recorder = new LoadRecorder();
  const startedMs = Date.now();
  let stopped = false;
  const load = runLoad({
    baseUrl: rig.server.baseUrl,
    users,
    concurrency: CONCURRENCY,
    burstSize: BURST_SIZE,
    running: () => !stopped && Date.now() < startedMs + options.durationSeconds * 1000,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    random: seededRandom(options.seed),
    onBurst: (round) => rig.binance.setQuote('BTCUSDT', quoteAt(PRICES[round % PRICES.length]!)),
    recorder,
  });
  const samples: Sample[] = [];
  try {
    const count = Math.floor(options.durationSeconds / options.sampleSeconds);
    for (let k = 1; k <= count; k++) {
      await sleep(Math.max(0, startedMs + k * options.sampleSeconds * 1000 - Date.now()));
      const sample = await takeSample({
        baseUrl: rig.server.baseUrl,
        db: rig.db.db,
        tSeconds: (Date.now() - startedMs) / 1000,
        intervalSeconds: options.sampleSeconds,
        interval: recorder.takeInterval(),
      });
      samples.push(sample);
      console.log(sampleLine(sample));
    }
  } finally {
    stopped = true;
    await load;
  }
  return { samples, totals: recorder.totals, latencyByKind: recorder.latencyByKind() };
}

/** One sample as a progress line. */
function sampleLine(s: Sample): string {
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const classes = Object.entries(s.statusClasses)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  return (
    `t=${s.tSeconds.toFixed(0)}s heap ${mib(s.heapUsedBytes)} MiB, RSS ${mib(s.rssBytes)} MiB, ` +
    `handles ${s.activeHandles ?? '–'}, pg ${s.pgConnections}, ${s.throughputPerSec}/s, ` +
    `p50 ${s.latencyMsP50?.toFixed(1) ?? '–'} ms, p99 ${s.latencyMsP99?.toFixed(1) ?? '–'} ms (${classes}` +
    `${s.transportErrors ? `, no answer ${s.transportErrors}` : ''})`
  );
}

/**
 * Runs a whole soak (see the file's comment) and writes `soak-<timestamp>.json` and `.svg` into
 * `options.outputDir`. Everything it started is stopped and its database dropped, also on failure.
 * @throws {Error} when the set-up fails, the server dies, or a sample cannot be taken
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg()[0] ?? 0;
  const cleanups: Cleanup[] = [];
  try {
    const rig = await setUp(options, cleanups);
    const { samples, totals, latencyByKind } = await loadAndSample(rig, options);
    const serverExit = await rig.server.stop(10_000);
    const analysis = analyse(samples, options.durationSeconds);
    const machine = describeMachine({
      dbMode: options.databaseServerUrl ? 'external' : 'embedded',
      serverVersion: rig.db.serverVersion,
      redis: undefined,
      loadAverageAtStart,
    });
    machine.redis = rig.redisDescription;
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    await fs.mkdir(options.outputDir, { recursive: true });
    const jsonFile = path.join(options.outputDir, `soak-${stamp}.json`);
    const svgFile = path.join(options.outputDir, `soak-${stamp}.svg`);
    const settings = {
      durationSeconds: options.durationSeconds,
      sampleSeconds: options.sampleSeconds,
      concurrency: CONCURRENCY,
      users: USER_COUNT,
      seed: options.seed,
    };
    const document = {
      startedAt: startedAt.toISOString(),
      settings,
      machine,
      serverExit,
      totals,
      latencyByKind,
      analysis,
      samples,
    };
    await fs.writeFile(jsonFile, `${JSON.stringify(document, null, 2)}\n`);
    const title = `soak ${startedAt.toISOString()}, ${options.durationSeconds} s, ${machine.dbMode} PostgreSQL, verdict ${analysis.verdict}`;
    await fs.writeFile(svgFile, soakSvg(title, samples, analysis, options.durationSeconds));
    return { samples, totals, latencyByKind, analysis, machine, serverExit, jsonFile, svgFile };
  } finally {
    await runCleanups(cleanups);
  }
}
