import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client), served on `/metrics`. One registry per process:
 * modules import the instruments they feed from here.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** Requests to an upstream API, by host, endpoint path and HTTP status (`error` when none came back). */
export const upstreamRequests = new Counter({
  name: 'upstream_requests_total',
  help: 'Requests sent to upstream market-data APIs, by host, route and status',
  labelNames: ['host', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

/** Price cache lookups: `hit`, `miss`, or `stale` (served past its TTL because the upstream failed). */
export const priceCacheLookups = new Counter({
  name: 'price_cache_lookups_total',
  help: 'Price cache lookups by result: hit, miss, stale',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/** Callers that waited for another caller's upstream request instead of sending their own. */
export const singleFlightJoins = new Counter({
  name: 'price_single_flight_joins_total',
  help: 'Price requests that joined an upstream request already in flight, in this process or in another instance',
  labelNames: ['scope'] as const,
  registers: [metricsRegistry],
});

/** Upstream requests not sent because the host asked us to back off (429/418 Retry-After). */
export const upstreamBackoffRefusals = new Counter({
  name: 'upstream_rate_limit_waits_total',
  help: 'Upstream requests refused locally while a host’s Retry-After (429/418) is running',
  labelNames: ['host'] as const,
  registers: [metricsRegistry],
});
