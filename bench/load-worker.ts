/**
 * The load-generator process forked by `runLoad` / `runBurst` (bench/load.ts): receives one
 * `LoadTask`, runs it and sends back one `LoadMessage`. A timed task runs autocannon (warm-up, then
 * the measured run); a burst fires a fixed number of requests with the global `fetch` (split
 * round-robin between `urls` when given).
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { BurstSpec, LoadMessage, LoadResult, LoadSpec, LoadTask, RequestVariant } from './load.js';

function summarise(result: autocannon.Result): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stats.count ?? 0;
  }
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    requestsPerSec: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    latencyMaxMs: result.latency.max,
    sent: result.requests.sent,
    responses,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    connectionErrors: result.errors,
    timeouts: result.timeouts,
    errors: result.non2xx + result.errors,
    statusCodes,
    durationS: result.duration,
  };
}

async function run(spec: LoadSpec, durationS: number): Promise<autocannon.Result> {
  const body = spec.body ?? '';
  const variants: RequestVariant[] =
    spec.variants ?? (spec.tokens ?? []).map((token) => ({ path: new URL(spec.url).pathname, body, token }));
  let next = 0;
  // One variant per request, round-robin over all of them across every connection.
  const rotate: autocannon.Request['setupRequest'] = (request) => {
    const variant = variants[next++ % variants.length]!;
    return {
      ...request,
      path: variant.path,
      body: variant.body,
      headers: {
        ...request.headers,
        ...(variant.token ? { authorization: `Bearer ${variant.token}` } : {}),
      },
    };
  };
  const method = spec.method ?? 'POST';
  return await autocannon({
    url: spec.url,
    method,
    ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' }, body }),
    connections: spec.connections,
    pipelining: 1,
    duration: durationS,
    ...(variants.length > 0 ? { requests: [{ setupRequest: rotate }] } : {}),
  });
}

async function timed(spec: LoadSpec): Promise<LoadResult> {
  const warmup = spec.warmupS > 0 ? summarise(await run(spec, spec.warmupS)) : undefined;
  const measured = summarise(await run(spec, spec.durationS));
  return warmup ? { ...measured, warmup } : measured;
}

/** The value below which a fraction `q` of the sorted `values` lie (nearest rank). */
function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function burst(spec: BurstSpec): Promise<LoadResult> {
  const method = spec.method ?? 'POST';
  const headers: Record<string, string> = method === 'GET' ? {} : { 'content-type': 'application/json' };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  const urls = spec.urls && spec.urls.length > 0 ? spec.urls : [spec.url];
  const expected = new Set(spec.expectedStatuses);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let started = 0;
  let ok2xx = 0;
  let unexpected = 0;
  let connectionErrors = 0;
  let timeouts = 0;
  // Each lane sends its next request when its previous one is answered: `concurrency` in flight.
  const lane = async () => {
    while (started < spec.count) {
      const index = started++;
      const sentAt = performance.now();
      try {
        const response = await fetch(urls[index % urls.length]!, {
          method,
          headers,
          ...(method === 'GET' ? {} : { body: spec.body ?? '' }),
          signal: AbortSignal.timeout(spec.timeoutMs),
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - sentAt);
        statusCodes[response.status] = (statusCodes[response.status] ?? 0) + 1;
        if (response.status >= 200 && response.status < 300) ok2xx++;
        if (!expected.has(response.status)) unexpected++;
      } catch (error) {
        connectionErrors++;
        if (error instanceof Error && error.name === 'TimeoutError') timeouts++;
      }
    }
  };
  const startMs = performance.now();
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, lane));
  const wallS = (performance.now() - startMs) / 1000;
  latencies.sort((a, b) => a - b);
  const sum = latencies.reduce((total, ms) => total + ms, 0);
  return {
    requestsPerSec: spec.count / wallS,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    latencyMeanMs: latencies.length > 0 ? sum / latencies.length : 0,
    latencyMaxMs: latencies.at(-1) ?? 0,
    sent: started,
    responses: latencies.length,
    ok2xx,
    non2xx: latencies.length - ok2xx,
    connectionErrors,
    timeouts,
    errors: unexpected + connectionErrors,
    statusCodes,
    durationS: wallS,
  };
}

process.once('message', (task: LoadTask) => {
  const reply = (message: LoadMessage) => process.send?.(message);
  (async () => {
    const result = task.kind === 'burst' ? await burst(task.spec) : await timed(task.spec);
    reply({ ok: true, result });
  })().catch((error: unknown) => {
    reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
