/**
 * The load-generator process forked by `runLoad` (bench/load.ts): receives one `LoadSpec`, runs
 * autocannon (warm-up, then the measured run) and sends back one `LoadMessage`.
 */
import autocannon from 'autocannon';
import type { LoadMessage, LoadResult, LoadSpec } from './load.js';

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
  const tokens = spec.tokens ?? [];
  let next = 0;
  // One user per request, round-robin over all of them across every connection.
  const rotateUser: autocannon.Request['setupRequest'] = (request) => ({
    ...request,
    headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
  });
  return await autocannon({
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: spec.body,
    connections: spec.connections,
    pipelining: 1,
    duration: durationS,
    ...(tokens.length > 0 ? { requests: [{ setupRequest: rotateUser }] } : {}),
  });
}

process.once('message', (spec: LoadSpec) => {
  const reply = (message: LoadMessage) => process.send?.(message);
  (async () => {
    if (spec.warmupS > 0) await run(spec, spec.warmupS);
    reply({ ok: true, result: summarise(await run(spec, spec.durationS)) });
  })().catch((error: unknown) => {
    reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
