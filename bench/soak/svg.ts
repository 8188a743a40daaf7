/**
 * The soak's plot as hand-written SVG: one panel per metric (heap, RSS, handles, connections, p99)
 * over the run's minutes, each on its own scale, the warm-up shaded and the least-squares line of
 * the judged window dashed over the samples.
 */
import { type Analysis, METRICS, type MetricSpec } from './analysis.js';
import type { Sample } from './sample.js';

const WIDTH = 760;
const PANEL_HEIGHT = 130;
const MARGIN_LEFT = 70;
const MARGIN_RIGHT = 20;
const PANEL_GAP = 36;
const TOP = 64;
const PLOT_HEIGHT = PANEL_HEIGHT - 30;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number) => (Math.round(v * 10) / 10).toString();

interface Frame {
  top: number;
  xOf: (tSeconds: number) => number;
  yOf: (value: number) => number;
  yMin: number;
  yMax: number;
}

function frameOf(top: number, durationSeconds: number, values: number[]): Frame {
  const plotWidth = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
  let yMin = Math.min(...values, 0);
  let yMax = Math.max(...values);
  if (!(yMax > yMin)) yMax = yMin + 1;
  yMax += (yMax - yMin) * 0.05;
  yMin = Math.max(0, yMin);
  return {
    top,
    yMin,
    yMax,
    xOf: (t) => MARGIN_LEFT + (t / durationSeconds) * plotWidth,
    yOf: (v) => top + PLOT_HEIGHT - ((v - yMin) / (yMax - yMin)) * PLOT_HEIGHT,
  };
}

/** One metric's panel: axes, warm-up band, samples, and the judged window's line. */
function panel(
  spec: MetricSpec,
  index: number,
  samples: readonly Sample[],
  analysis: Analysis,
  durationSeconds: number,
) {
  const points = samples.flatMap((s) => {
    const v = spec.read(s);
    return v === null ? [] : [{ t: s.tSeconds, v }];
  });
  const top = TOP + index * (PANEL_HEIGHT + PANEL_GAP);
  const f = frameOf(
    top,
    durationSeconds,
    points.map((p) => p.v),
  );
  const finding = analysis.metrics.find((m) => m.id === spec.id);
  const unit = spec.unit ? ` (${spec.unit})` : '';
  const verdict =
    finding?.flat === null || finding === undefined ? 'not judged' : finding.flat ? 'flat' : 'GROWING';
  const envelope = spec.envelopeSeconds ? ` of its ${spec.envelopeSeconds} s minimum` : '';
  const slope =
    finding?.slopePerMin == null ? '' : `, slope${envelope} ${finding.slopePerMin.toFixed(2)}/min`;
  const parts = [
    `<text x="${MARGIN_LEFT}" y="${top - 8}" class="title">${escapeXml(`${spec.label}${unit}${slope}: ${verdict}`)}</text>`,
    `<rect x="${f.xOf(0)}" y="${top}" width="${num(f.xOf(analysis.warmupSeconds) - f.xOf(0))}" height="${PLOT_HEIGHT}" class="warmup"/>`,
    `<line x1="${MARGIN_LEFT}" y1="${top + PLOT_HEIGHT}" x2="${WIDTH - MARGIN_RIGHT}" y2="${top + PLOT_HEIGHT}" class="axis"/>`,
    `<line x1="${MARGIN_LEFT}" y1="${top}" x2="${MARGIN_LEFT}" y2="${top + PLOT_HEIGHT}" class="axis"/>`,
    `<text x="${MARGIN_LEFT - 6}" y="${top + 4}" class="tick" text-anchor="end">${num(f.yMax)}</text>`,
    `<text x="${MARGIN_LEFT - 6}" y="${top + PLOT_HEIGHT}" class="tick" text-anchor="end">${num(f.yMin)}</text>`,
  ];
  for (let minute = 0; minute * 60 <= durationSeconds; minute++)
    parts.push(
      `<text x="${num(f.xOf(minute * 60))}" y="${top + PLOT_HEIGHT + 14}" class="tick" text-anchor="middle">${minute}</text>`,
    );
  if (points.length > 0)
    parts.push(
      `<polyline points="${points.map((p) => `${num(f.xOf(p.t))},${num(f.yOf(p.v))}`).join(' ')}" class="line"/>`,
      ...points.map((p) => `<circle cx="${num(f.xOf(p.t))}" cy="${num(f.yOf(p.v))}" r="2" class="dot"/>`),
    );
  const { judgedFromSeconds: from, judgedToSeconds: to } = analysis;
  if (finding?.fitFrom != null && finding.fitTo != null && from !== null && to !== null)
    parts.push(
      `<line x1="${num(f.xOf(from))}" y1="${num(f.yOf(finding.fitFrom))}" x2="${num(f.xOf(to))}" y2="${num(f.yOf(finding.fitTo))}" class="fit"/>`,
    );
  return parts.join('\n');
}

/**
 * The SVG document of a run: a title line, then one panel per metric of {@link METRICS}.
 * @param title e.g. the run's start instant, mode and verdict
 */
export function soakSvg(
  title: string,
  samples: readonly Sample[],
  analysis: Analysis,
  durationSeconds: number,
): string {
  const height = TOP + METRICS.length * (PANEL_HEIGHT + PANEL_GAP);
  const panels = METRICS.map((spec, i) => panel(spec, i, samples, analysis, durationSeconds));
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">
<style>
.title { font-size: 12px; fill: #222; } .tick { font-size: 10px; fill: #555; }
.axis { stroke: #888; stroke-width: 1; } .warmup { fill: #eee; }
.line { fill: none; stroke: #1f77b4; stroke-width: 1.5; } .dot { fill: #1f77b4; }
.fit { stroke: #d62728; stroke-width: 1.5; stroke-dasharray: 5 3; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${MARGIN_LEFT}" y="18" font-size="14" fill="#000">${escapeXml(title)}</text>
<text x="${MARGIN_LEFT}" y="34" font-size="10" fill="#555">x: minutes since the load started; grey: warm-up; dashed: least-squares fit</text>
${panels.join('\n')}
</svg>
`;
}
