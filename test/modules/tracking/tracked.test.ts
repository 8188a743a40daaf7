/**
 * `/api/v1/tracked`: the same capability as seed 004's `/crypto` in the v1 contract — decimal
 * strings, the one error shape `{"error": {code, message, details}}`, 422 for junk, 404 for an
 * untracked or unknown symbol, 409 when tracked, 204 on delete (history gone) — with CoinGecko as
 * the price source (names and prices from one fake server), and symbols in any case meaning one
 * record and one history.
 */
import { describe, expect, it } from 'vitest';
import { CoinGeckoPriceSource } from '../../../src/modules/market/index.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { systemClock } from '../../../src/shared/clock.js';
import { useTrackingApp } from '../../helpers/tracking.js';

const t = useTrackingApp((coingecko) => {
  // Listed before the coin map is first fetched (it is then kept 24 h): a name that is markup.
  coingecko.addCoin({ id: 'evil-coin', symbol: 'evil', name: '<script>alert("x")</script>' });
  return {
    priceSource: new CoinGeckoPriceSource({
      baseUrl: coingecko.baseUrl,
      timeoutMs: 1500,
      clock: systemClock,
      cache: new MemoryCache(),
    }),
    env: { PRICE_SOURCE: 'coingecko', PRICE_HISTORY_LIMIT: '3' },
  };
});
const call = t.call;

const v1Error = (code: string) => ({
  error: { code, message: expect.any(String), details: expect.any(Object) },
});

describe('/api/v1/tracked', () => {
  it('adds, lists, refreshes (history capped), reads stats and deletes, with decimal strings', async () => {
    t.coingecko.setPrice('bitcoin', '45000.123456789');
    const added = await call('POST', '/api/v1/tracked', { symbol: 'btc' });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toEqual({
      symbol: 'BTC',
      name: 'Bitcoin',
      current_price: '45000.12345679',
      last_updated: expect.any(String),
    });
    expect((await call('GET', '/api/v1/tracked')).json()).toEqual({
      items: [added.json()],
      next_cursor: null,
    });
    for (const [price, symbol] of [
      ['46000', 'BTC'],
      ['47000.5', 'Btc'],
      ['44000', 'BTCUSDT'],
    ] as const) {
      t.coingecko.setPrice('bitcoin', price);
      const refreshed = await call('PUT', `/api/v1/tracked/${symbol}/refresh`);
      expect(refreshed.statusCode).toBe(200);
      expect(refreshed.json().current_price).toBe(price);
    }
    const history = (await call('GET', '/api/v1/tracked/bTc/history')).json();
    expect(history.history.map((p: { price: string }) => p.price)).toEqual(['44000', '47000.5', '46000']);
    expect((await call('GET', '/api/v1/tracked/btc/stats')).json()).toEqual({
      symbol: 'BTC',
      current_price: '44000',
      stats: {
        min_price: '44000',
        max_price: '47000.5',
        avg_price: '45666.83333333',
        price_change: '-2000',
        price_change_percent: '-4.35',
        records_count: 3,
      },
    });
    const deleted = await call('DELETE', '/api/v1/tracked/BTC');
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await call('GET', '/api/v1/tracked/btc/history')).json()).toEqual(v1Error('NOT_TRACKED'));
    const left = await t.database.db.$client.query('select count(*)::int as n from tracked_price_history');
    expect(left.rows[0].n).toBe(0);
  });

  it('answers 409 ALREADY_TRACKED, 404 UNKNOWN_SYMBOL and 422 for junk, changing nothing', async () => {
    t.coingecko.setPrice('ethereum', 3000);
    expect((await call('POST', '/api/v1/tracked', { symbol: 'ETH' })).statusCode).toBe(201);
    const again = await call('POST', '/api/v1/tracked', { symbol: 'eth' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual(v1Error('ALREADY_TRACKED'));
    const unknown = await call('POST', '/api/v1/tracked', { symbol: 'NOPEZZ' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual(v1Error('UNKNOWN_SYMBOL'));
    for (const payload of [
      { symbol: '' },
      { symbol: 'x'.repeat(33) },
      { symbol: 'BT C' },
      { symbol: 7 },
      {},
    ]) {
      const bad = await call('POST', '/api/v1/tracked', payload);
      expect(bad.statusCode).toBe(422);
      expect(bad.json()).toEqual(v1Error('VALIDATION_ERROR'));
    }
    for (const url of ['/api/v1/tracked/%2F', '/api/v1/tracked/a%20b/stats', '/api/v1/tracked/é/history']) {
      expect((await call('GET', url)).statusCode).toBe(422);
    }
    expect(
      (await call('GET', '/api/v1/tracked')).json().items.map((c: { symbol: string }) => c.symbol),
    ).toEqual(['ETH']);
    expect((await t.built.app.inject({ method: 'GET', url: '/api/v1/tracked' })).statusCode).toBe(401);
  });
});

describe('/tracked pages', () => {
  const page = (url: string, cookie?: string) =>
    t.built.app.inject({
      method: 'GET',
      url,
      headers: cookie ? { cookie: `pb_access_token=${cookie}` } : {},
    });

  it('renders the list, a history with its chart and the stats as escaped HTML, by the auth cookie', async () => {
    t.coingecko.setPrice('evil-coin', 1.5);
    expect((await call('POST', '/api/v1/tracked', { symbol: 'EVIL' })).statusCode).toBe(201);
    t.coingecko.setPrice('evil-coin', 2);
    await call('PUT', '/api/v1/tracked/evil/refresh');

    const list = await page('/tracked', t.token);
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(list.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(list.body).not.toContain('<script>');
    expect(list.body).toContain('href="/tracked/EVIL"');

    const history = await page('/tracked/evil', t.token);
    expect(history.statusCode).toBe(200);
    expect(history.body).toMatch(
      /<svg role="img" aria-label="EVIL price[^"]*"[^>]*>\s*<polyline [^>]*points="0\.0,160\.0 600\.0,0\.0"/,
    );
    expect(history.body).toContain('<td class="num">2</td>');

    const stats = await page('/tracked/EVIL/stats', t.token);
    expect(stats.statusCode).toBe(200);
    expect(stats.body).toContain('<th scope="row">Change %</th><td class="num">33.33</td>');
  });

  it('answers pages with a status and an HTML error: 401 without login, 404 untracked, 422 junk', async () => {
    for (const [url, cookie, status] of [
      ['/tracked', undefined, 401],
      ['/tracked/NOPEZZ', t.token, 404],
      ['/tracked/NOPEZZ/stats', t.token, 404],
      ['/tracked/%3Cb%3E', t.token, 422],
    ] as const) {
      const res = await page(url, cookie);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).not.toContain('<b>');
    }
  });

  // The document listed only a 200 with no content type: found by test/fuzz/openapi.fuzz.test.ts.
  it('are documented as they answer: pages, errors included', async () => {
    const { paths } = (await t.built.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const types = (path: string) =>
      Object.fromEntries(
        Object.entries(paths[path].get.responses as Record<string, { content: object }>).map(
          ([status, r]) => [status, Object.keys(r.content)],
        ),
      );
    const html = ['text/html'];
    expect(types('/tracked')).toEqual({ 200: html, 401: html, 422: html });
    for (const path of ['/tracked/{symbol}', '/tracked/{symbol}/stats'])
      expect(types(path)).toEqual({
        200: html,
        400: html,
        401: html,
        404: html,
        414: html,
        422: html,
        503: html,
      });
  });
});

describe('/api/v1/tracked under concurrency', () => {
  it('adds a symbol once when asked in parallel (one 201, the rest 409) and keeps parallel refreshes capped', async () => {
    t.coingecko.setPrice('weth', 3001);
    const adds = await Promise.all(
      ['WETH', 'weth', 'Weth', 'wETH', 'WETHUSDT'].map((symbol) =>
        call('POST', '/api/v1/tracked', { symbol }),
      ),
    );
    expect(adds.map((res) => res.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
    const refreshes = await Promise.all(
      Array.from({ length: 6 }, () => call('PUT', '/api/v1/tracked/weth/refresh')),
    );
    expect(refreshes.map((res) => res.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await call('GET', '/api/v1/tracked/WETH/history')).json().history).toHaveLength(3);
    const rows = await t.database.db.$client.query(
      "select count(*)::int as n from tracked_cryptos where symbol = 'WETH'",
    );
    expect(rows.rows[0].n).toBe(1);
  });
});
