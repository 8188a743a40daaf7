/**
 * Prometheus metrics (SPEC C12, §3 "Metrics"; issue 6 point 6): `GET /metrics` answers the text
 * format, and its series move with what the process does — every request is timed under its route
 * pattern (never the URL with its ids; `unmatched` for a 404 without a route), health probes
 * included; the ledger counts posted and refused journals and the size of each group-commit batch;
 * a price read that reaches the upstream is counted by host, route and status, and each price
 * lookup as a cache hit or miss. The registry is process-global, so every assertion compares a
 * series before and after, read from `/metrics` itself, never an absolute value.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

/** One sample of the text format: `name{label="value",…} number`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A sample line of the exposition format (label values are quoted, with `\"`, `\\`, `\n` escapes). */
const SAMPLE_LINE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$/;

/** Scrapes `/metrics` and parses every sample; fails on a line that is not the text format. */
async function scrape(): Promise<Sample[]> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  const samples: Sample[] = [];
  for (const line of res.body.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE_LINE.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    samples.push({ name: match![1]!, labels, value: Number(match![3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there is none yet). */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** How much each series moved between two scrapes. */
function delta(before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) {
  return total(after, name, labels) - total(before, name, labels);
}

function operation(walletId: string, token: string, operationType: 'DEPOSIT' | 'WITHDRAW', amount: string) {
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/wallets/${walletId}/operation`,
    headers: bearer(token),
    payload: { operation_type: operationType, amount },
  });
}

describe('GET /metrics', () => {
  it('answers the Prometheus text format with the HTTP, ledger and upstream instruments, without credentials', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const [name, type] of [
      ['http_request_duration_seconds', 'histogram'],
      ['ledger_journals_total', 'counter'],
      ['ledger_batch_size', 'histogram'],
      ['upstream_requests_total', 'counter'],
      ['price_cache_lookups_total', 'counter'],
    ])
      expect(res.body).toContain(`# TYPE ${name} ${type}\n`);
    // Every line parses (scrape() fails on the first that does not).
    expect((await scrape()).length).toBeGreaterThan(0);
  });

  it('is left out of the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: object }>();
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
  });
});

describe('http_request_duration_seconds', () => {
  it('times every request under its route pattern and status, health probes and 404s included, never an id', async () => {
    const user = await registerUser(t.app);
    const missingId = randomUUID();
    const strayPath = `/no/such/route/${randomUUID()}`;
    const before = await scrape();

    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: strayPath })).statusCode).toBe(404);
    const own = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${user.walletId}`,
      headers: bearer(user.token),
    });
    expect(own.statusCode).toBe(200);
    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${missingId}`,
      headers: bearer(user.token),
    });
    expect(missing.statusCode).toBe(404);

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    const after = await scrape();
    const count = (route: string, status: string) =>
      delta(before, after, 'http_request_duration_seconds_count', { method: 'GET', route, status });
    expect(count('/health/live', '200')).toBe(1);
    expect(count('unmatched', '404')).toBe(1);
    expect(count('/api/v1/wallets/:wallet_id', '200')).toBe(1);
    // A matched route answering 404 keeps its pattern: only a request no route matched is `unmatched`.
    expect(count('/api/v1/wallets/:wallet_id', '404')).toBe(1);
    // The scrape before is counted too, once it has been answered.
    expect(count('/metrics', '200')).toBeGreaterThanOrEqual(1);

    // Every observation lands in the +Inf bucket and adds its duration to the sum.
    const series = { method: 'GET', route: '/api/v1/wallets/:wallet_id', status: '200' };
    expect(total(after, 'http_request_duration_seconds_bucket', { ...series, le: '+Inf' })).toBe(
      total(after, 'http_request_duration_seconds_count', series),
    );
    expect(delta(before, after, 'http_request_duration_seconds_sum', series)).toBeGreaterThanOrEqual(0);

    // Route labels are patterns: no id and no raw URL ever becomes a series.
    for (const id of [user.walletId, missingId, user.userId]) expect(res.body).not.toContain(id);
    expect(res.body).not.toContain(strayPath);
    const routes = new Set(
      after.filter((s) => s.name === 'http_request_duration_seconds_count').map((s) => s.labels.route),
    );
    for (const route of routes) expect(route).toMatch(/^(unmatched|\/[A-Za-z0-9_./:-]*)$/);
    for (const route of routes) expect(route).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });
});

describe('ledger metrics', () => {
  it('count a posted deposit and a refused withdrawal, each in a batch of one', async () => {
    const user = await registerUser(t.app);
    const before = await scrape();

    expect((await operation(user.walletId, user.token, 'DEPOSIT', '25')).statusCode).toBe(201);
    const afterDeposit = await scrape();
    expect(delta(before, afterDeposit, 'ledger_journals_total', { kind: 'deposit', outcome: 'posted' })).toBe(
      1,
    );
    expect(delta(before, afterDeposit, 'ledger_journals_total', { outcome: 'refused' })).toBe(0);
    expect(delta(before, afterDeposit, 'ledger_batch_size_count')).toBe(1);
    expect(delta(before, afterDeposit, 'ledger_batch_size_sum')).toBe(1);

    const refused = await operation(user.walletId, user.token, 'WITHDRAW', '1000000');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('INSUFFICIENT_FUNDS');
    const afterRefusal = await scrape();
    expect(
      delta(afterDeposit, afterRefusal, 'ledger_journals_total', { kind: 'withdrawal', outcome: 'refused' }),
    ).toBe(1);
    expect(delta(afterDeposit, afterRefusal, 'ledger_journals_total', { outcome: 'posted' })).toBe(0);
    expect(delta(afterDeposit, afterRefusal, 'ledger_batch_size_count')).toBe(1);
  });

  it('observe each group-commit batch once: concurrent deposits to one wallet sum to their number', async () => {
    const user = await registerUser(t.app);
    const depositCount = 20;
    const before = await scrape();

    const answers = await Promise.all(
      Array.from({ length: depositCount }, () => operation(user.walletId, user.token, 'DEPOSIT', '1')),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));

    const after = await scrape();
    expect(delta(before, after, 'ledger_journals_total', { kind: 'deposit', outcome: 'posted' })).toBe(
      depositCount,
    );
    // However the deposits were grouped, every journal is in exactly one batch.
    expect(delta(before, after, 'ledger_batch_size_sum')).toBe(depositCount);
    const batches = delta(before, after, 'ledger_batch_size_count');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(depositCount);
  });
});

describe('upstream metrics', () => {
  it('count a price read that reaches Binance, by host, route and status', async () => {
    const binance = t.binance!;
    const host = new URL(binance.baseUrl).host;
    // A symbol no earlier test read, so the price is not in the cache yet.
    binance.setQuote('METRICSUSDT', { last: '1.5', bid: '1.4', ask: '1.6' });
    const requestsBefore = binance.requestCount;
    const before = await scrape();

    const res = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/METRICSUSDT' });
    expect(res.statusCode).toBe(200);

    const after = await scrape();
    const sent = binance.requestCount - requestsBefore;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(delta(before, after, 'upstream_requests_total', { host })).toBe(sent);
    expect(delta(before, after, 'upstream_requests_total', { host, status: '200' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('count a read that finds its price cold as a miss, and each read of it while fresh as a hit', async () => {
    t.binance!.setQuote('HITSUSDT', { last: '2.5', bid: '2.4', ask: '2.6' });
    const before = await scrape();
    const reads = 5;
    for (let i = 0; i < reads; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/HITSUSDT' });
      expect(res.statusCode).toBe(200);
    }
    const after = await scrape();
    expect(delta(before, after, 'price_cache_lookups_total', { result: 'miss' })).toBe(1);
    expect(delta(before, after, 'price_cache_lookups_total', { result: 'hit' })).toBe(reads - 1);
  });
});
