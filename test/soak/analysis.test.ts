/**
 * The soak's verdict (bench/soak/analysis.ts) on made-up samples: a least-squares slope is the
 * textbook one, a series that only wobbles is flat, one that grows by a fifth over the judged window
 * is not, the warm-up is left out of the judgement, and too few samples are "too short". Also the
 * two small readers of bench/soak/sample.ts: a series of a Prometheus text, a nearest-rank quantile.
 */
import { describe, expect, it } from 'vitest';
import { analyse, leastSquaresSlope, warmupSecondsFor } from '../../bench/soak/analysis.js';
import { metricValue, quantile, type Sample } from '../../bench/soak/sample.js';

const MIB = 1024 * 1024;

/** A sample at `tSeconds` with `heapMiB` of heap and steady everything else. */
function sampleAt(tSeconds: number, heapMiB: number): Sample {
  return {
    tSeconds,
    heapUsedBytes: heapMiB * MIB,
    rssBytes: 300 * MIB,
    activeHandles: 40 + (tSeconds % 20 === 0 ? 1 : 0),
    pgConnections: 16,
    requests: 600,
    throughputPerSec: 60,
    latencyMsP50: 80,
    latencyMsP99: 400 + (tSeconds % 30),
    statusClasses: { '2xx': 600 },
    transportErrors: 0,
  };
}

const times = (durationSeconds: number) =>
  Array.from({ length: durationSeconds / 10 }, (_, i) => (i + 1) * 10);

describe('the soak analysis', () => {
  it('fits the least-squares slope', () => {
    expect(leastSquaresSlope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
    expect(leastSquaresSlope([0, 1, 2], [5, 5, 5])).toBe(0);
    expect(leastSquaresSlope([1, 1], [1, 9])).toBe(0);
  });

  it('takes the first minute as warm-up, or half of a run shorter than two minutes', () => {
    expect(warmupSecondsFor(600)).toBe(60);
    expect(warmupSecondsFor(120)).toBe(60);
    expect(warmupSecondsFor(60)).toBe(30);
  });

  it('calls a wobbling heap flat, and leaves a steep warm-up out', () => {
    const samples = times(600).map((t) => sampleAt(t, t <= 60 ? t * 2 : 120 + (t % 40 === 0 ? 6 : -6)));
    const analysis = analyse(samples, 600);
    expect(analysis.verdict).toBe('flat');
    expect(analysis.judgedFromSeconds).toBe(70);
    const heap = analysis.metrics.find((m) => m.id === 'heapUsedMiB')!;
    expect(heap.first).toBe(20);
    expect(Math.abs(heap.growth!)).toBeLessThan(12);
  });

  it('calls a heap that grows by a fifth over the judged window growing', () => {
    // 100 MiB at 70 s to 120 MiB at 600 s: 20 % of a mean near 110 MiB.
    const samples = times(600).map((t) => sampleAt(t, 100 + ((t - 70) / 530) * 20));
    const analysis = analyse(samples, 600);
    expect(analysis.verdict).toBe('growing');
    const heap = analysis.metrics.find((m) => m.id === 'heapUsedMiB')!;
    expect(heap.flat).toBe(false);
    // The envelope (a 30 s minimum) lags a rising heap by up to 20 s at the window's start: a shade less.
    expect(heap.slopePerMin).toBeCloseTo((20 / 530) * 60, 1);
    expect(analysis.metrics.filter((m) => m.flat === false).map((m) => m.id)).toEqual(['heapUsedMiB']);
  });

  it('says "too short" when fewer than three samples follow the warm-up', () => {
    expect(
      analyse(
        times(40).map((t) => sampleAt(t, 100)),
        40,
      ).verdict,
    ).toBe('too short');
  });
});

describe('the soak sample readers', () => {
  it('reads an unlabelled series of a Prometheus text, not a labelled one or a prefix', () => {
    const text = [
      '# HELP nodejs_active_handles_total Total number of active handles.',
      'nodejs_active_handles_total 46',
      'nodejs_active_handles{type="Socket"} 30',
      'process_resident_memory_bytes 2.5e+8',
    ].join('\n');
    expect(metricValue(text, 'nodejs_active_handles_total')).toBe(46);
    expect(metricValue(text, 'process_resident_memory_bytes')).toBe(250_000_000);
    expect(metricValue(text, 'nodejs_active_handles')).toBeUndefined();
    expect(metricValue(text, 'nodejs_heap_size_used_bytes')).toBeUndefined();
  });

  it('takes the nearest-rank quantile', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNull();
  });
});
