/**
 * The result rows: one per measured run of a scenario, each with its ratio to the baseline measured
 * in the same run; printed as the table and kept as `scenarios` in the JSON results, whose field
 * names and order the consumers of `bench/results/*.json` read.
 */
import type { LoadResult } from '../load.js';

/** One row of the printed table and of the JSON results. */
export interface ScenarioRow {
  /** the id of the scenario measured */
  id: string;
  /** which run of the scenario, when it has several (e.g. `Redis cache`) */
  variant?: string;
  /** the row's title in the table */
  scenario: string;
  result: LoadResult;
  /** the baseline row this one is compared to (its own id for a baseline), null for none */
  baseline: string | null;
  /** requests/s ÷ the baseline row's requests/s; null when there is no baseline row */
  ratioToBaseline: number | null;
  /** the goal and its verdict, as printed; `—` for none */
  goal: string;
  goalMet: boolean | null;
}

/**
 * A row as a scenario gives it: the ratio is computed when it is added ({@link ResultRows.add}).
 * `baseline` names the row it is compared to (a baseline's own row needs none).
 */
export type RowDraft = Omit<ScenarioRow, 'ratioToBaseline' | 'baseline'> & {
  baseline?: string;
  /** printed after the row's status codes below the table; not kept in the JSON */
  note?: string;
};

/** The rows of a run, in order, with the notes printed below the table. */
export class ResultRows {
  readonly rows: ScenarioRow[] = [];
  private readonly notes = new Map<ScenarioRow, string>();

  /** @param isBaseline whether a scenario id is a baseline, compared to itself (1.00) */
  constructor(private readonly isBaseline: (id: string) => boolean) {}

  /** Adds a row, its ratio computed against its baseline's row of this run. */
  add(draft: RowDraft): void {
    const { note, ...row } = draft;
    const baselineId = row.baseline ?? (this.isBaseline(row.id) ? row.id : null);
    // A baseline is its own reference (1.00); a scenario whose baseline did not run has no ratio.
    const baselineRow = baselineId === row.id ? row : this.rows.find((r) => r.id === baselineId);
    const ratio = baselineRow ? row.result.requestsPerSec / baselineRow.result.requestsPerSec : null;
    const added: ScenarioRow = { ...row, baseline: baselineId, ratioToBaseline: ratio };
    this.rows.push(added);
    if (note !== undefined) this.notes.set(added, note);
  }

  /** The note given with `row`, if any. */
  noteOf(row: ScenarioRow): string | undefined {
    return this.notes.get(row);
  }
}

/** A throughput and latency goal of SPEC §6. */
export interface ThroughputGoal {
  requestsPerSecMin: number;
  p99MsMax: number;
}

/** Whether `result` meets `goal`: enough requests/s, a p99 low enough, and no error at all. */
function meets(result: LoadResult, goal: ThroughputGoal): boolean {
  return (
    result.requestsPerSec >= goal.requestsPerSecMin &&
    result.latencyP99Ms <= goal.p99MsMax &&
    result.errors === 0
  );
}

/** The goal column for a {@link ThroughputGoal}, e.g. `≥ 2,000/s, p99 ≤ 100 ms: MET`. */
function goalText(goal: ThroughputGoal, met: boolean): string {
  return `≥ ${goal.requestsPerSecMin.toLocaleString('en-US')}/s, p99 ≤ ${goal.p99MsMax} ms: ${met ? 'MET' : 'MISSED'}`;
}

/** A timed run's row judged against a {@link ThroughputGoal}: its goal column and verdict filled in. */
export function throughputRow(draft: Omit<RowDraft, 'goal' | 'goalMet'>, goal: ThroughputGoal): RowDraft {
  const goalMet = meets(draft.result, goal);
  return { ...draft, goal: goalText(goal, goalMet), goalMet };
}

/** The status codes of a result, e.g. `201×236, 400×3`; `none` for none. */
export function statusList(result: LoadResult): string {
  return (
    Object.entries(result.statusCodes)
      .map(([code, count]) => `${code}×${count}`)
      .join(', ') || 'none'
  );
}

/**
 * The printed table: one line per row, numbers right-aligned (requests/s, latencies in ms).
 * @param labelOf the short name of a baseline in the ratio column (`A`, `B`, `C`)
 */
export function formatTable(rows: ScenarioRow[], labelOf: (id: string) => string | undefined): string {
  const header = ['scenario', 'requests/s', 'p50 ms', 'p99 ms', 'errors', 'ratio to baseline', 'goal'];
  const cells = rows.map((row) => [
    row.scenario,
    row.result.requestsPerSec.toFixed(0),
    row.result.latencyP50Ms.toFixed(1),
    row.result.latencyP99Ms.toFixed(1),
    String(row.result.errors),
    row.ratioToBaseline === null || row.baseline === null
      ? '—'
      : `${row.ratioToBaseline.toFixed(2)} × ${labelOf(row.baseline)}`,
    row.goal,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) =>
      i === 0 || i === values.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!),
    );
  return [
    line(header).join(' | '),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...cells.map((c) => line(c).join(' | ')),
  ]
    .map((text) => text.trimEnd())
    .join('\n');
}
