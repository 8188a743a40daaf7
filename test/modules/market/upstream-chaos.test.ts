/**
 * Upstream chaos: the real app over a fake Binance on loopback that fails as real ones do — slow
 * (the answer after 9 s, far beyond UPSTREAM_TIMEOUT_MS), hanging, resetting the connection, cutting
 * or stalling a body mid-way, a proxy's 502 HTML page, truncated JSON, 429 and 418 with
 * Retry-After, a skewed clock — and what a client sees: price reads served stale (marked) only
 * within PRICE_STALE_MAX_MS, then 503 PRICE_UNAVAILABLE with Retry-After and never a 500; no market
 * order filled on a price older than PRICE_MAX_AGE_MS (503, nothing moves in the ledger); no request
 * to Binance while its Retry-After runs, from routes or the worker's jobs; at most one retry per
 * client request otherwise; and recovery on its own once Binance answers again. Time is the real
 * clock moved ahead by hand, so that upstream deadlines pass as they would and cache ages can jump.
 */
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  expectLedgerSound,
  getWallet,
  postOrder,
  registerUser,
  type TestApp,
  useAppFactory,
} from '../../helpers/app.js';
import { advancingClock, type ManualClock } from '../../helpers/clock.js';
import type { FakeBinance, FakeMode } from '../../helpers/fake-binance.js';

const TICKER_24HR = '/api/v3/ticker/24hr';
const TIMEOUT_MS = 600;
const CACHE_TTL_MS = 1000;
const MAX_AGE_MS = 5000;
const STALE_MAX_MS = 30_000;
/** BTCUSDT's recorded 24 h ticker: last and ask as the routes write them */
const BTC_LAST = '60755.18';
const BTC_ASK = '60755.19';

const apps = useAppFactory();

interface Chaos {
  t: TestApp;
  app: FastifyInstance;
  fake: FakeBinance;
  clock: ManualClock;
  user: Awaited<ReturnType<typeof registerUser>>;
}

/**
 * An app over its fake Binance (BTCUSDT and ETHUSDT listed), a registered user, a movable clock;
 * with `jobs`, the worker's jobs too, checking for liquidations every 100 ms.
 */
async function chaosApp(options: { jobs?: boolean } = {}): Promise<Chaos> {
  const clock = advancingClock();
  const t = await apps.build({
    clock,
    jobs: options.jobs ?? false,
    env: {
      LIQUIDATION_CHECK_INTERVAL_MS: '100',
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
      PRICE_CACHE_TTL_MS: String(CACHE_TTL_MS),
      PRICE_MAX_AGE_MS: String(MAX_AGE_MS),
      PRICE_STALE_MAX_MS: String(STALE_MAX_MS),
    },
  });
  const fake = t.binance!;
  fake.setQuote('ETHUSDT', { last: '3000.5', bid: '3000.4', ask: '3000.6' });
  return { t, app: t.app, fake, clock, user: await registerUser(t.app) };
}

const getPrice = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' });
const getPrices = (app: FastifyInstance) =>
  app.inject({ method: 'GET', url: '/api/v1/market/prices?symbols=BTC,ETH' });
const buy = (c: Chaos) =>
  postOrder(c.app, c.user.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' });

/** `call()` and how long it took (ms). */
async function timed<T>(call: () => Promise<T>): Promise<{ res: T; ms: number }> {
  const startMs = performance.now();
  const res = await call();
  return { res, ms: performance.now() - startMs };
}

/** 503 PRICE_UNAVAILABLE with a Retry-After of whole seconds: what a client may wait on. */
function expectUnavailable(res: Awaited<ReturnType<typeof getPrice>>, what: string): void {
  expect(res.statusCode, what).toBe(503);
  expect(res.json().error.code, what).toBe('PRICE_UNAVAILABLE');
  expect(res.headers['retry-after'], what).toMatch(/^[1-9]\d*$/);
}

/** What the user holds and has ordered: must not move when an order is refused. */
async function holdings(c: Chaos): Promise<unknown> {
  const orders = await c.app.inject({ method: 'GET', url: '/api/v1/orders', headers: bearer(c.user.token) });
  expect(orders.statusCode).toBe(200);
  return { wallet: await getWallet(c.app, c.user.token, c.user.walletId), orders: orders.json().items };
}

/**
 * Prices read once (single and batch) and one order filled while Binance answers: the cache, the
 * symbol list and the user's wallet as a running server has them.
 * @returns the `as_of` of the cached BTC price
 */
async function warmUp(c: Chaos): Promise<string> {
  const price = await getPrice(c.app);
  expect(price.json()).toMatchObject({ price: BTC_LAST, stale: false });
  expect((await getPrices(c.app)).statusCode).toBe(200);
  const order = await buy(c);
  expect(order.statusCode).toBe(201);
  expect(order.json().avg_fill_price).toBe(BTC_ASK);
  return price.json().as_of as string;
}

const FAILURES: [FakeMode, string][] = [
  ['slow', 'answers only after 9 s'],
  ['hang', 'never answers'],
  ['reset', 'resets the connection'],
  ['cut-body', 'cuts the connection mid-body'],
  ['stall-body', 'stalls mid-body'],
  ['html', 'answers a proxy’s 502 HTML page'],
  ['garbage', 'answers truncated JSON'],
];

describe('Binance failing', () => {
  it.each(FAILURES)(
    '%s (%s): stale reads until PRICE_STALE_MAX_MS, then 503; no order filled; recovers by itself',
    async (mode) => {
      const c = await chaosApp();
      const cachedAsOf = await warmUp(c);
      // The cached price is past the cache TTL and past the trading age limit, within the stale window.
      c.clock.advance(MAX_AGE_MS + 1000);
      c.fake.mode = mode;
      const bound = TIMEOUT_MS + 1000;
      let sent = c.fake.count(TICKER_24HR);
      /** Binance was asked at most twice (one retry) for the last client request. */
      const expectAtMostOneRetry = (what: string) => {
        expect(c.fake.count(TICKER_24HR) - sent, what).toBeLessThanOrEqual(2);
        sent = c.fake.count(TICKER_24HR);
      };

      const stale = await timed(() => getPrice(c.app));
      expect(stale.ms, 'a single price waits for no more than the upstream timeout').toBeLessThan(bound);
      expect(stale.res.statusCode).toBe(200);
      expect(stale.res.json()).toMatchObject({ price: BTC_LAST, stale: true, as_of: cachedAsOf });
      expectAtMostOneRetry('single price');
      const staleList = await timed(() => getPrices(c.app));
      expect(staleList.ms).toBeLessThan(bound);
      expect(staleList.res.statusCode).toBe(200);
      expect(staleList.res.json().items.map((i: { stale: boolean }) => i.stale)).toEqual([true, true]);
      expectAtMostOneRetry('batch');

      const before = await holdings(c);
      const refused = await timed(() => buy(c));
      expect(refused.ms).toBeLessThan(bound);
      expectUnavailable(refused.res, 'order on a price older than PRICE_MAX_AGE_MS');
      expect(await holdings(c)).toEqual(before);
      expectAtMostOneRetry('order');

      // Past the stale window: nothing to serve.
      c.clock.advance(STALE_MAX_MS);
      for (const [what, read] of [
        ['single', getPrice],
        ['batch', getPrices],
      ] as const) {
        const gone = await timed(() => read(c.app));
        expect(gone.ms, what).toBeLessThan(bound);
        expectUnavailable(gone.res, `${what} price past PRICE_STALE_MAX_MS`);
        expectAtMostOneRetry(what);
      }

      // Binance answers again: the very next request gets a fresh price, and orders fill on it.
      c.fake.mode = 'ok';
      const fresh = await getPrice(c.app);
      expect(fresh.statusCode).toBe(200);
      expect(fresh.json()).toMatchObject({ price: BTC_LAST, stale: false });
      expect(Date.parse(fresh.json().as_of)).toBeGreaterThan(c.clock.nowMs() - CACHE_TTL_MS);
      expect((await getPrices(c.app)).json().items.map((i: { stale: boolean }) => i.stale)).toEqual([
        false,
        false,
      ]);
      const filled = await buy(c);
      expect(filled.statusCode).toBe(201);
      expect(filled.json().avg_fill_price).toBe(BTC_ASK);
      await expectLedgerSound(c.t.deps.db);
    },
  );

  it('hangs under 100 concurrent reads: one request to Binance, every read answered stale in time', async () => {
    const c = await chaosApp();
    await warmUp(c);
    c.clock.advance(CACHE_TTL_MS + 500);
    c.fake.mode = 'hang';
    const sent = c.fake.count(TICKER_24HR);
    const all = await timed(() => Promise.all(Array.from({ length: 100 }, () => getPrice(c.app))));
    expect(all.ms).toBeLessThan(TIMEOUT_MS + 1000);
    expect(all.res.map((r) => [r.statusCode, r.json().stale])).toEqual(
      Array.from({ length: 100 }, () => [200, true]),
    );
    expect(c.fake.count(TICKER_24HR) - sent).toBe(1);
  });

  it('a price within PRICE_MAX_AGE_MS still fills while Binance fails; one a moment older does not', async () => {
    const c = await chaosApp();
    await warmUp(c);
    c.fake.mode = 'reset';
    c.clock.advance(MAX_AGE_MS - 1500);
    const young = await buy(c);
    expect(young.statusCode).toBe(201);
    expect(young.json().avg_fill_price).toBe(BTC_ASK);
    c.clock.advance(2000);
    const before = await holdings(c);
    expectUnavailable(await buy(c), 'order past PRICE_MAX_AGE_MS');
    expect(await holdings(c)).toEqual(before);
    await expectLedgerSound(c.t.deps.db);
  });
});

describe('Binance asking us to wait', () => {
  it.each([
    [429, 'rate-limited'],
    [418, 'banned'],
  ] as const)(
    'a %i with Retry-After: 3: no request to Binance for 3 s from any route, then a fresh price',
    async (_status, mode) => {
      const c = await chaosApp();
      await warmUp(c);
      c.fake.retryAfterSeconds = 3;
      c.clock.advance(MAX_AGE_MS + 1000);
      c.fake.mode = mode;
      const sent = c.fake.requestCount;
      const stale = await getPrice(c.app);
      expect(stale.statusCode).toBe(200);
      expect(stale.json()).toMatchObject({ price: BTC_LAST, stale: true });
      expect(c.fake.requestCount, 'the rate limit is not retried').toBe(sent + 1);

      // Binance would answer now, but asked to be left alone for 3 s.
      c.fake.mode = 'ok';
      const before = await holdings(c);
      expectUnavailable(await buy(c), 'order during the back-off');
      expect(await holdings(c)).toEqual(before);
      expect((await getPrices(c.app)).json().items.map((i: { stale: boolean }) => i.stale)).toEqual([
        true,
        true,
      ]);
      for (const url of ['/api/v1/market/tickers/BTC', '/api/v1/market/candles/ETH']) {
        expectUnavailable(await c.app.inject({ method: 'GET', url }), url);
      }
      c.clock.advance(2000);
      expect((await getPrice(c.app)).json().stale).toBe(true);
      expectUnavailable(await buy(c), 'order 2 s into the back-off');
      expect(c.fake.requestCount, 'no request while Retry-After runs').toBe(sent + 1);

      c.clock.advance(1000);
      const fresh = await getPrice(c.app);
      expect(fresh.json()).toMatchObject({ price: BTC_LAST, stale: false });
      expect(c.fake.requestCount).toBe(sent + 2);
      expect((await buy(c)).statusCode).toBe(201);
      await expectLedgerSound(c.t.deps.db);
    },
  );

  it('a 418 past the stale window: 503 with the ban’s Retry-After to reads and orders, no request until it ends', async () => {
    const c = await chaosApp();
    await warmUp(c);
    c.fake.retryAfterSeconds = 120;
    c.clock.advance(STALE_MAX_MS + 1000);
    c.fake.mode = 'banned';
    expectUnavailable(await getPrice(c.app), 'read at the ban');
    const sent = c.fake.requestCount;
    c.fake.mode = 'ok';
    for (let second = 0; second < 114; second += 19) {
      c.clock.advance(19_000);
      // Retry-After is what is left of the ban (give or take the real time the test takes), not 1 s.
      const left = 120 - (second + 19);
      for (const [what, res] of [
        ['read', await getPrice(c.app)],
        ['batch', await getPrices(c.app)],
        ['order', await buy(c)],
        ['ticker', await c.app.inject({ method: 'GET', url: '/api/v1/market/tickers/BTC' })],
      ] as const) {
        expectUnavailable(res, `${what} ${second + 19} s into the ban`);
        expect(Number(res.headers['retry-after']), `${what}: Retry-After`).toBeGreaterThanOrEqual(left - 2);
        expect(Number(res.headers['retry-after']), `${what}: Retry-After`).toBeLessThanOrEqual(left);
      }
    }
    expect(c.fake.requestCount).toBe(sent);
    c.clock.advance(6000);
    expect((await getPrice(c.app)).json()).toMatchObject({ stale: false });
    expect((await buy(c)).statusCode).toBe(201);
  });
});

describe('the worker’s jobs during a ban', () => {
  it('a 418 with Retry-After: 3 while liquidation checks an open short every 100 ms: no request until it ends', async () => {
    const c = await chaosApp({ jobs: true });
    await warmUp(c);
    expect(
      (await postOrder(c.app, c.user.token, { symbol: 'BTCUSDT', side: 'short', quantity: '0.001' }))
        .statusCode,
    ).toBe(201);
    c.fake.retryAfterSeconds = 3;
    c.fake.mode = 'banned';
    c.clock.advance(CACHE_TTL_MS);
    // The jobs or this read meet the 418 first: either way the ban starts now.
    await getPrice(c.app);
    const bannedAtMs = performance.now();
    const sent = c.fake.requestCount;
    c.fake.mode = 'ok';
    await new Promise((resolve) => setTimeout(resolve, 2000));
    if (performance.now() - bannedAtMs < 2900)
      expect(c.fake.requestCount, 'no request from any job during the ban').toBe(sent);
    // Once it ends, the jobs ask again on their own, and get an answer.
    const deadlineMs = performance.now() + 5000;
    while (c.fake.count(TICKER_24HR) === 0 || c.fake.requestCount === sent) {
      if (performance.now() > deadlineMs) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(c.fake.requestCount).toBeGreaterThan(sent);
    expect((await getPrice(c.app)).json().stale).toBe(false);
    await expectLedgerSound(c.t.deps.db);
  });
});

describe('Binance’s clock', () => {
  it('is never read: an hour of skew in serverTime and its tickers’ times changes nothing', async () => {
    const c = await chaosApp();
    c.fake.serverTimeSkewMs = -3_600_000;
    const beforeMs = c.clock.nowMs();
    const price = await getPrice(c.app);
    expect(price.json()).toMatchObject({ price: BTC_LAST, stale: false });
    // as_of is when this server took the price, not Binance's closeTime (the recording's, long past).
    expect(Date.parse(price.json().as_of)).toBeGreaterThanOrEqual(beforeMs);
    expect((await buy(c)).statusCode).toBe(201);
    expect(c.fake.count('/api/v3/time')).toBe(0);
  });
});
