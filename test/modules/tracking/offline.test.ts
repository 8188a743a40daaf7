/**
 * Price tracking offline (issue 22, point 3): coin names come from the list the product ships
 * (`samples/market/coingecko/coins-list.json`: bitcoin, ethereum) — at once on the replay source,
 * which then asks CoinGecko nothing, and whenever CoinGecko cannot be reached for a ticker the list
 * has. Seed 004's routes and the tracking pages work on the shipped sample with CoinGecko failing;
 * a ticker the list lacks still needs CoinGecko (503 SERVICE_UNAVAILABLE while it fails).
 */
import { describe, expect, it } from 'vitest';
import { createPriceSource } from '../../../src/modules/market/index.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { loadConfig } from '../../../src/platform/config/env.js';
import { systemClock } from '../../../src/shared/clock.js';
import { useTrackingApp } from '../../helpers/tracking.js';

const decimal = expect.stringMatching(/^\d+(\.\d+)?$/);

describe('on the replay source (the shipped sample)', () => {
  const t = useTrackingApp((coingecko) => {
    coingecko.mode = 'error500'; // offline: any request to CoinGecko would fail
    return {
      priceSource: createPriceSource(loadConfig({ PRICE_SOURCE: 'replay' }), systemClock, new MemoryCache()),
      env: { PRICE_SOURCE: 'replay' },
    };
  });

  it('tracks BTC and ETH with their names from the shipped list, asking CoinGecko nothing', async () => {
    const btc = await t.call('POST', '/api/v1/tracked', { symbol: 'btc' });
    console.log('POST /api/v1/tracked btc on the replay:', btc.statusCode, btc.body);
    expect(btc.statusCode).toBe(201);
    expect(btc.json()).toEqual({
      symbol: 'BTC',
      name: 'Bitcoin',
      current_price: decimal,
      last_updated: expect.any(String),
    });
    // Seed 004's own routes.
    const eth = await t.call('POST', '/crypto', { symbol: 'ETHUSDT' });
    expect(eth.statusCode).toBe(201);
    expect(eth.json().crypto).toMatchObject({ symbol: 'ETH', name: 'Ethereum' });
    expect((await t.call('GET', '/crypto')).json().cryptos.map((c: { name: string }) => c.name)).toEqual([
      'Bitcoin',
      'Ethereum',
    ]);
    expect((await t.call('PUT', '/crypto/eth/refresh')).statusCode).toBe(200);
    expect((await t.call('GET', '/crypto/ETH/history')).json().history).toHaveLength(2);
    expect((await t.call('GET', '/crypto/ETH/stats')).json().stats.records_count).toBe(2);
    const page = await t.call('GET', '/tracked');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<td>Bitcoin</td>');
    expect(t.coingecko.requestCount).toBe(0);
  });

  it('still asks CoinGecko for a ticker the shipped list lacks', async () => {
    const sol = await t.call('POST', '/api/v1/tracked', { symbol: 'SOL' });
    expect(sol.statusCode).toBe(503);
    expect(sol.json().error.code).toBe('SERVICE_UNAVAILABLE');
    expect(t.coingecko.count('/coins/list')).toBeGreaterThan(0);
  });
});

describe('on Binance, with CoinGecko failing', () => {
  const t = useTrackingApp((coingecko) => {
    coingecko.mode = 'error500';
    return {};
  });

  it('names a ticker of the shipped list from it; another ticker → 503 SERVICE_UNAVAILABLE', async () => {
    const btc = await t.call('POST', '/api/v1/tracked', { symbol: 'BTC' });
    expect(btc.statusCode).toBe(201);
    expect(btc.json()).toMatchObject({ symbol: 'BTC', name: 'Bitcoin', current_price: '60755.18' });
    expect(t.coingecko.count('/coins/list')).toBeGreaterThan(0); // CoinGecko was asked first
    t.built.binance!.setQuote('DOGEUSDT', { last: '0.08', bid: '0.08', ask: '0.08' });
    const doge = await t.call('POST', '/api/v1/tracked', { symbol: 'DOGE' });
    expect(doge.statusCode).toBe(503);
    expect(doge.json().error.code).toBe('SERVICE_UNAVAILABLE');
  });
});
