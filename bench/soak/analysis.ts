/**
 * Is the server flat? Per metric, a least-squares line through the samples after the warm-up; the
 * metric is flat when the growth that line predicts over the judged window (slope × window) is
 * within noise, that is at most the largest of:
 * - 10 % of the metric's mean over the window (growth too small to matter);
 * - twice the standard error of that growth (growth the scatter of the samples could make up:
 *   a p99 moves by a second from one interval to the next on this 2-core machine);
 * - a small absolute floor for the metrics that count a few things (a handle or a connection more
 *   is not a leak).
 * The heap is judged on its lower envelope (each sample's minimum with those of the 30 s before):
 * heap used climbs between collections and drops after each, so a sample falls anywhere on a saw
 * tooth tens of MiB high, while a leak raises the floor the collections come back to.
 */
import type { Sample } from './sample.js';

/** A plotted and judged metric: how to read it from a sample, its unit, its noise floor. */
export interface MetricSpec {
  id: 'heapUsedMiB' | 'rssMiB' | 'activeHandles' | 'pgConnections' | 'latencyMsP99';
  label: string;
  unit: string;
  read: (sample: Sample) => number | null;
  /** growth over the window at or below this is noise whatever the mean (in `unit`) */
  growthFloor: number;
  /** judge the minimum of each sample and those of this many seconds before it (the lower envelope) */
  envelopeSeconds?: number;
}

const MIB = 1024 * 1024;

/** The metrics of the verdict and the plot, in plot order. */
export const METRICS: readonly MetricSpec[] = [
  {
    id: 'heapUsedMiB',
    label: 'heap used',
    unit: 'MiB',
    read: (s) => s.heapUsedBytes / MIB,
    growthFloor: 0,
    envelopeSeconds: 30,
  },
  { id: 'rssMiB', label: 'RSS', unit: 'MiB', read: (s) => s.rssBytes / MIB, growthFloor: 0 },
  // libuv handles come and go with the sockets in flight (16 clients, the pool, the fake upstream).
  { id: 'activeHandles', label: 'active handles', unit: '', read: (s) => s.activeHandles, growthFloor: 4 },
  {
    id: 'pgConnections',
    label: 'PostgreSQL connections',
    unit: '',
    read: (s) => s.pgConnections,
    growthFloor: 2,
  },
  { id: 'latencyMsP99', label: 'request p99', unit: 'ms', read: (s) => s.latencyMsP99, growthFloor: 10 },
];

/** Growth within this fraction of the mean is noise. */
export const GROWTH_FRACTION_MAX = 0.1;
/** Growth within this many standard errors of it is noise (about 95 % of a trendless run's). */
export const GROWTH_STANDARD_ERRORS_MAX = 2;
/** Samples the judged window needs at least: a line through two points says nothing of noise. */
const JUDGED_SAMPLES_MIN = 3;

/** One metric's figures over the run. */
export interface MetricFinding {
  id: MetricSpec['id'];
  label: string;
  unit: string;
  first: number | null;
  last: number | null;
  /** least-squares slope over the judged window, per minute (unit/min); null without enough samples */
  slopePerMin: number | null;
  /** mean of the judged values over the window */
  mean: number | null;
  /** slope × the judged window's length: the growth the line predicts (unit) */
  growth: number | null;
  /** the growth that is still noise: the largest of the three bounds of the file's comment */
  growthMax: number | null;
  /** the fitted line at the judged window's first and last sample, for the plot */
  fitFrom: number | null;
  fitTo: number | null;
  /** growth ≤ growthMax */
  flat: boolean | null;
}

/** The verdict of a run and what it rests on. */
export interface Analysis {
  /** samples before this instant (s) are warm-up: plotted, not judged */
  warmupSeconds: number;
  /** the judged window: its first and last sample's `tSeconds` */
  judgedFromSeconds: number | null;
  judgedToSeconds: number | null;
  metrics: MetricFinding[];
  /** `flat`: every metric within noise; `growing`: one or more not; `too short`: too few samples */
  verdict: 'flat' | 'growing' | 'too short';
}

/** A least-squares line: its slope, its value at the mean x, and the slope's standard error. */
export interface LineFit {
  slope: number;
  meanX: number;
  meanY: number;
  /** 0 with fewer than three points or when the xs do not vary */
  slopeStandardError: number;
}

/** Least-squares fit of `ys` over `xs`; a slope of 0 when the xs do not vary. */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  const n = xs.length;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    covariance += (xs[i]! - meanX) * (ys[i]! - meanY);
    variance += (xs[i]! - meanX) ** 2;
  }
  if (variance === 0) return { slope: 0, meanX, meanY, slopeStandardError: 0 };
  const slope = covariance / variance;
  let residuals = 0;
  for (let i = 0; i < n; i++) residuals += (ys[i]! - meanY - slope * (xs[i]! - meanX)) ** 2;
  const slopeStandardError = n > 2 ? Math.sqrt(residuals / (n - 2) / variance) : 0;
  return { slope, meanX, meanY, slopeStandardError };
}

/** Least-squares slope of `ys` over `xs` (units of y per unit of x); 0 when the xs do not vary. */
export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  return fitLine(xs, ys).slope;
}

/**
 * The warm-up (s): the first minute, or the first half of a run shorter than two minutes, so
 * that a short run (CI's 60 s) still has a window to draw a line through.
 */
export function warmupSecondsFor(durationSeconds: number): number {
  return Math.min(60, durationSeconds / 2);
}

/**
 * The points a metric is judged on: its values in the judged window, or their lower envelope, the
 * minimum over the `envelopeSeconds` up to each (warm-up samples included, so that the window's
 * first point has as many behind it as the others).
 */
function judgedPoints(
  spec: MetricSpec,
  samples: readonly Sample[],
  fromSeconds: number,
): { t: number; y: number }[] {
  const points = samples.flatMap((s) => {
    const y = spec.read(s);
    return y === null ? [] : [{ t: s.tSeconds, y }];
  });
  const span = spec.envelopeSeconds;
  const judged = points.filter((p) => p.t > fromSeconds);
  if (span === undefined) return judged;
  return judged.map((p) => ({
    t: p.t,
    y: Math.min(...points.filter((q) => q.t <= p.t && q.t > p.t - span).map((q) => q.y)),
  }));
}

function findingOf(spec: MetricSpec, samples: readonly Sample[], warmupSeconds: number): MetricFinding {
  const values = samples.map(spec.read).filter((v): v is number => v !== null);
  const points = judgedPoints(spec, samples, warmupSeconds);
  const base = {
    id: spec.id,
    label: spec.label,
    unit: spec.unit,
    first: values[0] ?? null,
    last: values.at(-1) ?? null,
  };
  if (points.length < JUDGED_SAMPLES_MIN)
    return {
      ...base,
      slopePerMin: null,
      mean: null,
      growth: null,
      growthMax: null,
      fitFrom: null,
      fitTo: null,
      flat: null,
    };
  const minutes = points.map((p) => p.t / 60);
  const fit = fitLine(
    minutes,
    points.map((p) => p.y),
  );
  const windowMinutes = minutes.at(-1)! - minutes[0]!;
  const growth = fit.slope * windowMinutes;
  const growthMax = Math.max(
    GROWTH_FRACTION_MAX * Math.abs(fit.meanY),
    GROWTH_STANDARD_ERRORS_MAX * fit.slopeStandardError * windowMinutes,
    spec.growthFloor,
  );
  const at = (m: number) => fit.meanY + fit.slope * (m - fit.meanX);
  return {
    ...base,
    slopePerMin: fit.slope,
    mean: fit.meanY,
    growth,
    growthMax,
    fitFrom: at(minutes[0]!),
    fitTo: at(minutes.at(-1)!),
    flat: growth <= growthMax,
  };
}

/** Judges `samples` of a run of `durationSeconds`: see the file's comment for the rule. */
export function analyse(samples: readonly Sample[], durationSeconds: number): Analysis {
  const warmupSeconds = warmupSecondsFor(durationSeconds);
  const judged = samples.filter((s) => s.tSeconds > warmupSeconds);
  const metrics = METRICS.map((spec) => findingOf(spec, samples, warmupSeconds));
  const judgedAll = metrics.every((m) => m.flat !== null);
  return {
    warmupSeconds,
    judgedFromSeconds: judged[0]?.tSeconds ?? null,
    judgedToSeconds: judged.at(-1)?.tSeconds ?? null,
    metrics,
    verdict: !judgedAll ? 'too short' : metrics.every((m) => m.flat) ? 'flat' : 'growing',
  };
}

const fmt = (v: number | null, digits = 1) => (v === null ? '–' : v.toFixed(digits));

/** The summary lines: per metric first → last, slope per minute, growth against its bound. */
export function summaryLines(analysis: Analysis): string[] {
  const lines = [
    `judged window: ${fmt(analysis.judgedFromSeconds, 0)}–${fmt(analysis.judgedToSeconds, 0)} s ` +
      `(warm-up ${fmt(analysis.warmupSeconds, 0)} s); flat = slope × window ≤ ` +
      `max(${GROWTH_FRACTION_MAX * 100} % of the mean, ${GROWTH_STANDARD_ERRORS_MAX} standard errors, floor)`,
  ];
  for (const m of analysis.metrics) {
    const unit = m.unit ? ` ${m.unit}` : '';
    const envelope = METRICS.find((spec) => spec.id === m.id)?.envelopeSeconds;
    lines.push(
      `  ${m.label.padEnd(24)} first ${fmt(m.first)}${unit}, last ${fmt(m.last)}${unit}, ` +
        `slope ${fmt(m.slopePerMin, 2)}${unit}/min${envelope ? ` (of its ${envelope} s minimum)` : ''}, ` +
        `growth ${fmt(m.growth)} ≤ ${fmt(m.growthMax)}: ${m.flat === null ? 'not judged' : m.flat ? 'flat' : 'GROWING'}`,
    );
  }
  lines.push(`verdict: ${analysis.verdict}`);
  return lines;
}
