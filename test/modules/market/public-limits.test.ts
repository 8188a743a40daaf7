/**
 * The public market routes' defences (issue 21, point 4), over a fake Binance on loopback:
 * - a per-client-address limit: beyond it 429 RATE_LIMITED with Retry-After, other addresses go on;
 * - a bound on the distinct symbols one address may make the server fetch per minute: a new symbol
 *   beyond it is refused before any upstream request, a symbol already named (or cached) is free;
 * - `TRUST_PROXY`: behind a trusted proxy the limits count the forwarded client address;
 * - CORS closed by default, open to the configured origins only.
 */
import { describe, expect, it } from 'vitest';
import { useAppFactory } from '../../helpers/app.js';

const apps = useAppFactory();

const get = (
  t: Awaited<ReturnType<typeof apps.build>>,
  url: string,
  headers: Record<string, string> = {},
  remoteAddress?: string,
) => t.app.inject({ method: 'GET', url, headers, ...(remoteAddress ? { remoteAddress } : {}) });

describe('the public market routes', () => {
  it('limit each client address, with Retry-After, and leave the other addresses alone', async () => {
    const t = await apps.build({ env: { PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN: '5' } });
    for (let i = 0; i < 5; i++) expect((await get(t, '/api/v1/market/fees')).statusCode).toBe(200);
    const refused = await get(t, '/api/v1/market/fees');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect((await get(t, '/api/v1/market/fees', {}, '10.0.0.7')).statusCode).toBe(200);
    // Routes other than the public market data keep their own limits.
    expect((await get(t, '/health/live')).statusCode).toBe(200);
  });

  it('bound the distinct symbols an address makes the server fetch, refused before Binance is asked', async () => {
    const t = await apps.build({ env: { PUBLIC_SYMBOLS_PER_ADDRESS_PER_MIN: '3', PRICE_CACHE_TTL_MS: '0' } });
    const binance = t.binance!;
    for (const symbol of ['BTCUSDT', 'ETHUSDT', 'BNBUSDT'])
      binance.setQuote(symbol, { last: '1', bid: '1', ask: '1' });
    binance.setQuote('SOLUSDT', { last: '2', bid: '2', ask: '2' });
    for (const symbol of ['BTCUSDT', 'ETHUSDT', 'BNBUSDT'])
      expect((await get(t, `/api/v1/market/prices/${symbol}`)).statusCode).toBe(200);
    const asked = binance.priceRequestsBySymbol.get('SOLUSDT') ?? 0;
    const refused = await get(t, '/api/v1/market/prices/SOLUSDT');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(binance.priceRequestsBySymbol.get('SOLUSDT') ?? 0).toBe(asked);
    // The same symbols again cost nothing more, on every public route that names one.
    expect((await get(t, '/api/v1/market/prices/BTC')).statusCode).toBe(200);
    expect((await get(t, '/api/v1/market/prices?symbols=BTCUSDT,ETHUSDT')).statusCode).toBe(200);
    expect((await get(t, '/api/v1/market/prices?symbols=BTCUSDT,SOLUSDT')).statusCode).toBe(429);
    // Another address has its own budget.
    expect((await get(t, '/api/v1/market/prices/SOLUSDT', {}, '10.0.0.8')).statusCode).toBe(200);
  });

  it('count the forwarded address behind a trusted proxy, and the socket address otherwise', async () => {
    const proxied = await apps.build({
      env: { PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN: '2', TRUST_PROXY: '127.0.0.1' },
    });
    for (const client of ['203.0.113.1', '203.0.113.1'])
      expect((await get(proxied, '/api/v1/market/fees', { 'x-forwarded-for': client })).statusCode).toBe(200);
    expect((await get(proxied, '/api/v1/market/fees', { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(
      429,
    );
    expect((await get(proxied, '/api/v1/market/fees', { 'x-forwarded-for': '203.0.113.2' })).statusCode).toBe(
      200,
    );

    // Not trusted (the default): a client cannot pick its own address with the header.
    const direct = await apps.build({ env: { PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN: '2' } });
    for (const client of ['203.0.113.1', '203.0.113.2'])
      expect((await get(direct, '/api/v1/market/fees', { 'x-forwarded-for': client })).statusCode).toBe(200);
    expect((await get(direct, '/api/v1/market/fees', { 'x-forwarded-for': '203.0.113.3' })).statusCode).toBe(
      429,
    );
  });

  it('answer no CORS headers by default, and only the configured origins when set', async () => {
    const closed = await apps.build();
    const plain = await get(closed, '/api/v1/market/fees', { origin: 'https://evil.example' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();

    const open = await apps.build({ env: { CORS_ORIGINS: 'https://app.example.com' } });
    const preflight = await open.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/orders',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('idempotency-key');
    const other = await get(open, '/api/v1/market/fees', { origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
