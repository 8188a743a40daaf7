import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

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

/** Cache hits counted by {@link countPriceCacheHits} and not yet added to `priceCacheLookups`. */
let priceCacheHitsPending = 0;

/**
 * Price cache lookups: `hit`, `miss`, or `stale` (served past its TTL because the upstream failed).
 * Hits are counted with {@link countPriceCacheHits}.
 */
export const priceCacheLookups = new Counter({
  name: 'price_cache_lookups_total',
  help: 'Price cache lookups by result: hit, miss, stale',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
  // prom-client calls this before every read of the counter (a scrape, a `get()`).
  collect() {
    if (priceCacheHitsPending === 0) return;
    this.inc({ result: 'hit' }, priceCacheHitsPending);
    priceCacheHitsPending = 0;
  },
});

/**
 * Counts `count` price cache hits into `price_cache_lookups_total{result="hit"}`. A plain addition,
 * taken into the counter when it is next read: the hottest read (a fresh price) pays no label
 * hashing for it.
 */
export function countPriceCacheHits(count = 1): void {
  priceCacheHitsPending += count;
}

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

/**
 * Every HTTP request answered, health probes and `/metrics` included: method, route pattern
 * (`/api/v1/wallets/:wallet_id`, never the URL with its ids, which would make one series per wallet),
 * `unmatched` when no route matched, and status.
 */
const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from receiving a request to sending its response, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  // 1 ms to 10 s: a cached price read answers well under 5 ms, an upstream call gives up within 10 s.
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

/**
 * Journal transactions decided by the ledger, by kind (`deposit`, `order_fill`, …) and outcome:
 * `posted` (committed: counted once the caller's database transaction has committed, so a batch
 * rolled back or retried after a deadlock counts nothing) or `refused` (a wallet account would go
 * below zero or beyond the largest balance; nothing written; counted when the ledger decides).
 */
export const ledgerJournals = new Counter({
  name: 'ledger_journals_total',
  help: 'Journal transactions decided by the ledger, by kind and outcome (posted, refused)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Shorts closed by the liquidation job, by what paid the buy-back (collateral alone, or insurance too). */
export const liquidations = new Counter({
  name: 'liquidations_total',
  help: 'Short positions liquidated, by what covered the buy-back (collateral, insurance)',
  labelNames: ['covered'] as const,
  registers: [metricsRegistry],
});

/**
 * Bet settlements refused and recorded on the bet (`settlement_error`), by reason: the error code
 * (`BALANCE_LIMIT_EXCEEDED`, …) or `INTERNAL_ERROR`. Counted once per bet and reason, however often
 * the sweeper tries it again; the bet stays pending and the others of its batch go ahead.
 */
export const betSettlementRefusals = new Counter({
  name: 'bet_settlement_refusals_total',
  help: 'Bet settlements refused (bet left pending with settlement_error), by reason',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Journals per ledger batch (group commit): 1 for a lone journal, up to 256 for a busy wallet. */
export const ledgerBatchSize = new Histogram({
  name: 'ledger_batch_size',
  help: 'Journal transactions per ledger batch (group commit)',
  // Powers of two up to the wallet operations' batch limit (256).
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  registers: [metricsRegistry],
});

/**
 * Times every request into `http_request_duration_seconds`: each route gets an `onResponse` timer
 * that knows its pattern when the route is added, so a request costs no route lookup; requests no
 * route matched are counted by {@link observeUnmatched}. Call it on the root instance before any
 * route or plugin is registered: routes registered before it would not be timed.
 */
export function installHttpMetrics(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const pattern = route.url;
    const timer: onResponseHookHandler = (request, reply, done) => {
      observeRequest(pattern, request, reply);
      done();
    };
    route.onResponse = route.onResponse === undefined ? [timer] : [route.onResponse, timer].flat();
  });
}

/**
 * Counts a request that no route matched (a 404, or an error of the router itself) as route
 * `unmatched`, timed up to now (s).
 */
export function observeUnmatched(request: FastifyRequest, reply: FastifyReply): void {
  observeRequest('unmatched', request, reply);
}

/** One request into `http_request_duration_seconds` under `route`, timed up to now (s). */
function observeRequest(route: string, request: FastifyRequest, reply: FastifyReply): void {
  httpRequestDuration.observe(
    { method: request.method, route, status: String(reply.statusCode) },
    reply.elapsedTime / 1000,
  );
}

/**
 * `GET /metrics` in the Prometheus text format. Public like the health probes: the scraper has no
 * account, and the metrics carry no user data (route patterns, never ids). Hidden from the OpenAPI
 * document, which describes the product's API.
 */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metricsRegistry.metrics();
    return reply.type(metricsRegistry.contentType).send(text);
  });
}
