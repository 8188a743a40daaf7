/**
 * The timed loads: autocannon with {@link CONNECTIONS} connections, a warm-up whose figures are kept
 * apart, then the measured run; and the loads of servers measured in turn (A B, B A, …) so that
 * they see the same moments of the machine. The load generator itself is `bench/load.ts`.
 */
import { type LoadResult, type LoadSpec, mergeLoadResults, runLoad } from '../load.js';

/** Connections of every timed load (autocannon, `pipelining: 1`). */
export const CONNECTIONS = 64;
/** Seconds of warm-up before a measured run, figures kept apart. */
export const WARMUP_S = 2;
/**
 * Rounds in which C and the cached price reads take turns (see `interleavedLoads`), each
 * `BENCH_DURATION_S ÷ 5` s long (2 s by default): each of them is measured for twice the duration.
 */
const INTERLEAVED_ROUNDS = 10;

/**
 * One timed load of a scenario, announced first: {@link WARMUP_S} s of warm-up (figures kept apart
 * in `warmup`), then `env.durationS` s measured, with {@link CONNECTIONS} connections.
 * @param spec what to send; its `title` is the scenario's id, as printed
 */
export async function runTimedLoad(
  env: { durationS: number; signal: AbortSignal },
  spec: Omit<LoadSpec, 'connections' | 'warmupS' | 'durationS'>,
): Promise<LoadResult> {
  console.log(`${spec.title}: ${WARMUP_S} s warm-up + ${env.durationS} s, ${CONNECTIONS} connections…`);
  return await runLoad(
    { connections: CONNECTIONS, warmupS: WARMUP_S, durationS: env.durationS, ...spec },
    env.signal,
  );
}

/** A server measured by {@link interleavedLoads}. */
export interface LoadTarget {
  title: string;
  /** what autocannon GETs */
  url: string;
  /** runs one timed load of this target (default: `runLoad`); a wrapper may measure around it */
  run?: (spec: LoadSpec) => Promise<LoadResult>;
}

/**
 * Timed GET loads of servers compared with one another: each first gets its warm-up (`WARMUP_S`,
 * figures kept apart), then they take turns for `INTERLEAVED_ROUNDS` rounds of `durationS ÷ 5` s
 * each, in order and in reverse order by turns, so that every target sees the machine as the others
 * do (on this shared 2-core machine, runs of one server a few seconds apart differ by up to a
 * third). One merged result per target, in order ({@link mergeLoadResults}); `roundsPerSec` keeps
 * each round's figure.
 * @param env.durationS the measured seconds of the run (`BENCH_DURATION_S`), split into the rounds
 */
export async function interleavedLoads(
  env: { durationS: number; signal: AbortSignal },
  targets: LoadTarget[],
): Promise<LoadResult[]> {
  const roundS = Math.max(1, Math.round(env.durationS / 5));
  const load = (target: LoadTarget, title: string, durationS: number) => {
    const spec: LoadSpec = {
      connections: CONNECTIONS,
      warmupS: 0,
      durationS,
      title,
      url: target.url,
      method: 'GET',
    };
    return target.run ? target.run(spec) : runLoad(spec, env.signal);
  };
  const titles = targets.map((t) => t.title).join(', ');
  console.log(
    `${titles}: ${WARMUP_S} s warm-up each, then ${INTERLEAVED_ROUNDS} rounds of ${roundS} s each in turn, ` +
      `${CONNECTIONS} connections…`,
  );
  const warmups: LoadResult[] = [];
  for (const target of targets) warmups.push(await load(target, `${target.title} (warm-up)`, WARMUP_S));
  const rounds: LoadResult[][] = targets.map(() => []);
  const indexes = targets.map((_, i) => i);
  for (let round = 1; round <= INTERLEAVED_ROUNDS; round++) {
    // A B, then B A: neither target always runs right after the other.
    for (const i of round % 2 === 1 ? indexes : indexes.toReversed()) {
      const target = targets[i]!;
      rounds[i]!.push(await load(target, `${target.title} (round ${round})`, roundS));
    }
  }
  return rounds.map((runs, i) => ({ ...mergeLoadResults(runs), warmup: warmups[i]! }));
}
