/**
 * What a scenario is to the harness: an object with an id, a title, the baseline it is compared to
 * and a `run` that measures and checks, given the run's {@link BenchContext}. The registry
 * (`bench/scenarios/index.ts`) lists them in run order.
 */
import type { Logger } from 'pino';
import type { Config } from '../../src/platform/config/env.js';
import type { Db } from '../../src/platform/db/client.js';
import type { Check } from './checks.js';
import type { Cleanup } from './cleanup.js';
import type { MarketFigures } from './market.js';
import type { BenchRedis } from './redis.js';
import type { RowDraft } from './rows.js';
import type { BenchAuth, BenchUser } from './users.js';

/**
 * Figures the JSON results keep at their top level beside the rows and the checks, in the shape
 * the consumers of `bench/results/*.json` read; null (or empty) when their scenario did not run.
 */
export interface Findings {
  /** orders stored by `orders`, warm-up included */
  ordersStored: number | null;
  /** `liquidation`'s figure: shorts opened, closed by the one check, and that check's time in ms */
  liquidation: { shorts: number; closed: number; elapsedMs: number } | null;
  market: MarketFigures;
}

/** What every scenario gets: the run's database, app settings, users, Redis and interrupt signal. */
export interface BenchContext extends BenchAuth {
  /** the app's configuration (prices replayed from the recorded klines, no rate limit) */
  config: Config;
  logger: Logger;
  /** the app's pool on the run's database */
  db: Db;
  /** the run's database, for the baselines' own pools */
  benchUrl: string;
  /** measured seconds of each timed run (`BENCH_DURATION_S`) */
  durationS: number;
  /** aborted on SIGINT / SIGTERM */
  signal: AbortSignal;
  /** what a scenario opens registers its close here, run at the end even after a failure */
  cleanups: Cleanup[];
  /** whether a scenario id runs in this run */
  selected: (id: string) => boolean;
  /** the 1,000 funded users (`USER_COUNT`), made once when a scenario asks for them; else empty */
  sharedUsers: BenchUser[];
  /** set when `REDIS_URL` is and a scenario that uses Redis runs */
  redis: BenchRedis | undefined;
  findings: Findings;
}

/** What a scenario's run gives back: its rows, in table order, and its correctness checks. */
export interface ScenarioOutcome {
  rows: RowDraft[];
  checks: Check[];
}

/** One scenario of `npm run bench`. */
export interface Scenario {
  /** what `BENCH_SCENARIOS` names and its rows and checks carry */
  readonly id: string;
  /** what it measures: its row's title, or the start of its rows' titles when it has variants */
  readonly title: string;
  /** for a baseline: its short name in the ratio column (`A`, `B`, `C`); it is compared to itself */
  readonly baselineLabel?: string;
  /** the id of the baseline it is compared to, run (before it) even when not asked for */
  readonly baseline?: string;
  /** it runs on the 1,000 shared users (`ctx.sharedUsers`), made before the first scenario */
  readonly usesSharedUsers?: boolean;
  /** it uses Redis when `REDIS_URL` is set (`ctx.redis`) */
  readonly usesRedis?: boolean;
  /** its SPEC §6 goal, kept under its id in the JSON results' `goals` */
  readonly goal?: object;
  /**
   * what it sends and holds, kept in the JSON results' `settings` (whatever scenarios run); a
   * `market` object is merged with the other scenarios' `market`
   */
  readonly settings?: { market?: Record<string, unknown>; [key: string]: unknown };
  /** Measures it (and checks what it stored), its servers closed when it returns. */
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}

/**
 * Asserts that the registry is well formed: ids unique, every baseline registered before the
 * scenario compared to it and marked as a baseline.
 * @throws {Error} on a malformed registry (a bug, not an operating error)
 */
export function assertRegistry(scenarios: readonly Scenario[]): void {
  const seen = new Map<string, Scenario>();
  for (const scenario of scenarios) {
    if (seen.has(scenario.id)) throw new Error(`bench: scenario id "${scenario.id}" registered twice`);
    const baseline = scenario.baseline === undefined ? undefined : seen.get(scenario.baseline);
    if (scenario.baseline !== undefined && !baseline?.baselineLabel) {
      throw new Error(
        `bench: scenario "${scenario.id}" names baseline "${scenario.baseline}", which is not a baseline registered before it`,
      );
    }
    seen.set(scenario.id, scenario);
  }
}
