/**
 * One sample of the soak: what the server says of itself on `GET /metrics` (prom-client's default
 * process and Node.js metrics, `collectDefaultMetrics` in src/platform/observability/metrics.ts),
 * the PostgreSQL connections to its database, and the load's answers since the previous sample.
 */
import type { Db } from '../../src/platform/db/client.js';
import type { IntervalFigures } from './load.js';

/** The figures of one sampling interval, taken at its end. */
export interface Sample {
  /** seconds since the load started, at the end of the interval */
  tSeconds: number;
  /** `nodejs_heap_size_used_bytes` */
  heapUsedBytes: number;
  /** `process_resident_memory_bytes` */
  rssBytes: number;
  /** `nodejs_active_handles_total` (libuv handles); null when the server does not report it */
  activeHandles: number | null;
  /** rows of `pg_stat_activity` on the server's database, the soak's own connections left out */
  pgConnections: number;
  /** answers received during the interval */
  requests: number;
  /** answers per second of the interval */
  throughputPerSec: number;
  /** client-side latency of the interval's answers (ms); null when none came */
  latencyMsP50: number | null;
  latencyMsP99: number | null;
  /** answers by status class (`2xx`, `4xx`, `5xx`, …) during the interval */
  statusClasses: Record<string, number>;
  /** requests with no answer (connection refused or reset, timeout) during the interval */
  transportErrors: number;
}

/** Budget of one scrape of `/metrics` (ms). */
const SCRAPE_TIMEOUT_MS = 5_000;

/**
 * The value of an unlabelled series in a Prometheus text exposition, e.g.
 * `process_resident_memory_bytes 73728000`; undefined when absent.
 */
export function metricValue(text: string, name: string): number | undefined {
  const line = new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)(?: \\d+)?$`, 'm').exec(text);
  return line ? Number(line[1]) : undefined;
}

/**
 * The server's heap used, RSS and active handles, from its `GET /metrics`.
 * @throws {Error} when the scrape fails or lacks the heap or RSS series
 */
export async function scrapeProcessMetrics(
  baseUrl: string,
): Promise<Pick<Sample, 'heapUsedBytes' | 'rssBytes' | 'activeHandles'>> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
  const heapUsedBytes = metricValue(text, 'nodejs_heap_size_used_bytes');
  const rssBytes = metricValue(text, 'process_resident_memory_bytes');
  if (heapUsedBytes === undefined || rssBytes === undefined)
    throw new Error('GET /metrics lacks nodejs_heap_size_used_bytes or process_resident_memory_bytes');
  return { heapUsedBytes, rssBytes, activeHandles: metricValue(text, 'nodejs_active_handles_total') ?? null };
}

/**
 * The connections to the database `db` is on, less those of `db`'s own pool (the soak's, one of
 * them running this query): what the server under load holds.
 */
export async function countPgConnections(db: Db): Promise<number> {
  const result = await db.$client.query<{ n: number }>(
    'select count(*)::int as n from pg_stat_activity where datname = current_database()',
  );
  return (result.rows[0]?.n ?? 0) - db.$client.totalCount;
}

/** The `fraction` quantile (0–1) of `sorted` (ascending), nearest rank; null for an empty list. */
export function quantile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Takes one sample: the server's metrics and connections now, and the load's figures of the
 * interval that ends now (`interval`, taken from the load by the caller).
 * @param intervalSeconds the interval's length (s), for the throughput
 */
export async function takeSample(options: {
  baseUrl: string;
  db: Db;
  tSeconds: number;
  intervalSeconds: number;
  interval: IntervalFigures;
}): Promise<Sample> {
  const { interval } = options;
  const [processMetrics, pgConnections] = await Promise.all([
    scrapeProcessMetrics(options.baseUrl),
    countPgConnections(options.db),
  ]);
  const sorted = [...interval.latenciesMs].sort((a, b) => a - b);
  return {
    tSeconds: Math.round(options.tSeconds * 10) / 10,
    ...processMetrics,
    pgConnections,
    requests: sorted.length,
    throughputPerSec: Math.round((sorted.length / options.intervalSeconds) * 10) / 10,
    latencyMsP50: quantile(sorted, 0.5),
    latencyMsP99: quantile(sorted, 0.99),
    statusClasses: interval.statusClasses,
    transportErrors: interval.transportErrors,
  };
}
