/**
 * The soak in CI (issue 21, point 5): `npm run soak`'s run (bench/soak/run.ts) for 60 s instead of
 * 10 minutes — the real program as a child process under the crash test's mixed load, 16 requests
 * in flight, a sample every 10 s — on the test run's PostgreSQL (embedded, or the machine's with
 * DATABASE_URL) and, with REDIS_URL, on a logical Redis database of its own. It proves that the run
 * completes, that no request answered 5xx or went unanswered, that the server stopped gracefully,
 * and that the six samples and both files (JSON, SVG) were written, to a temp dir. It does not judge
 * flatness: 60 s is too short and too noisy for that (the judged window would be 30 s).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSoak } from '../../bench/soak/run.js';

const DURATION_SECONDS = 60;
const SAMPLE_SECONDS = 10;

let outputDir: string | undefined;

beforeAll(async () => {
  outputDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-soak-test-'));
});

afterAll(async () => {
  if (outputDir) await fs.rm(outputDir, { recursive: true, force: true });
});

describe('the soak, 60 s of it', () => {
  it('runs the mixed load with no 5xx, samples every 10 s and writes the JSON and the SVG', async () => {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);
    const result = await runSoak({
      durationSeconds: DURATION_SECONDS,
      sampleSeconds: SAMPLE_SECONDS,
      outputDir: outputDir!,
      databaseServerUrl: inject('adminDatabaseUrl'),
      redisUrl: process.env.REDIS_URL || undefined,
      seed,
    });
    const { totals, samples } = result;
    const failures = totals.failures.join('\n');
    expect(totals.requests, `seed ${seed}`).toBeGreaterThan(0);
    for (const [status, n] of Object.entries(totals.statuses))
      expect(Number(status) < 500 ? 0 : n, `${n} × ${status} (seed ${seed})\n${failures}`).toBe(0);
    expect(totals.transportErrors, failures).toBe(0);
    expect(result.serverExit).toBe('exit 0');

    expect(samples.map((s) => Math.round(s.tSeconds / SAMPLE_SECONDS))).toEqual([1, 2, 3, 4, 5, 6]);
    for (const s of samples) {
      expect(s.heapUsedBytes, `t=${s.tSeconds}`).toBeGreaterThan(0);
      expect(s.rssBytes, `t=${s.tSeconds}`).toBeGreaterThanOrEqual(s.heapUsedBytes);
      expect(s.activeHandles, `t=${s.tSeconds}`).toBeGreaterThan(0);
      expect(s.pgConnections, `t=${s.tSeconds}`).toBeGreaterThan(0);
      expect(s.requests, `t=${s.tSeconds}`).toBeGreaterThan(0);
      expect(s.latencyMsP99!, `t=${s.tSeconds}`).toBeGreaterThanOrEqual(s.latencyMsP50!);
    }
    expect(result.analysis.metrics.map((m) => m.id)).toEqual([
      'heapUsedMiB',
      'rssMiB',
      'activeHandles',
      'pgConnections',
      'latencyMsP99',
    ]);

    expect(path.dirname(result.jsonFile)).toBe(outputDir);
    const written = JSON.parse(await fs.readFile(result.jsonFile, 'utf8')) as { samples: unknown[] };
    expect(written.samples).toHaveLength(samples.length);
    const svg = await fs.readFile(result.svgFile, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(5);
    console.log(
      `soak test (seed ${seed}): ${totals.requests} requests, ${JSON.stringify(totals.statuses)}; ` +
        `heap ${(samples[0]!.heapUsedBytes / 2 ** 20).toFixed(1)} → ${(samples.at(-1)!.heapUsedBytes / 2 ** 20).toFixed(1)} MiB; ` +
        `verdict over 60 s (not asserted): ${result.analysis.verdict}`,
    );
  }, 120_000);
});
