/**
 * Every way an order can be refused: not enough money, bad input on each field, unknown or
 * untradable symbols, a failing price source. Each answers a 4xx (or 503 for the price) in the one
 * error shape, and the wallet is unchanged afterwards.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, getWallet, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' } });
let user: Awaited<ReturnType<typeof registerUser>>;

beforeAll(async () => {
  user = await registerUser(t.app);
});
afterEach(() => {
  t.binance!.mode = 'ok';
});

function walletBody() {
  return getWallet(t.app, user.token, user.walletId);
}

function order(payload: unknown, headers: Record<string, string> = bearer(user.token)) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

describe('orders that must be refused', () => {
  it('refuses a buy beyond the cash with 400 INSUFFICIENT_FUNDS and moves nothing', async () => {
    const before = await walletBody();
    const res = await order({ symbol: 'BTCUSDT', side: 'buy', quantity: '1' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: {
        code: 'INSUFFICIENT_FUNDS',
        details: { asset: 'USDT', available: '10000', required: '60815.94519' },
      },
    });
    expect(await walletBody()).toEqual(before);
    // The refused journal rolled back; the next order on the same accounts still fills.
    expect((await order({ symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' })).statusCode).toBe(201);
    expect((await order({ symbol: 'BTCUSDT', side: 'sell', quantity: '0.001' })).statusCode).toBe(201);
  });

  it('refuses orders beyond the largest balance with 422 BALANCE_LIMIT_EXCEEDED, on every side', async () => {
    // A coin at the ledger's smallest price: 10^25 of it is a notional of 10^17 (a new user's second
    // short of this size used to overflow the position's columns: a 500).
    t.binance!.setQuote('DUSTUSDT', { last: '0.00000001', bid: '0.00000001', ask: '0.00000001' });
    // Its LOT_SIZE allows any whole quantity, so that only the bound can refuse these.
    const anyQuantity = { minQty: '1', maxQty: '900000000000000000000000000000', stepSize: '1' };
    t.binance!.setFilters('DUSTUSDT', { ...anyQuantity, minNotional: '0.00000001' });
    const before = await walletBody();
    for (const side of ['buy', 'sell', 'short', 'short', 'close_short']) {
      const res = await order({ symbol: 'DUSTUSDT', side, quantity: '10000000000000000000000000' });
      expect(res.statusCode, `${side}: ${res.body}`).toBe(422);
      expect(res.json().error).toMatchObject({
        code: 'BALANCE_LIMIT_EXCEEDED',
        details: { quantity: '10000000000000000000000000', balance_max: '1000000000000000' },
      });
    }
    const byQuote = await order({ symbol: 'DUSTUSDT', side: 'sell', quote_amount: '100000000000000000000' });
    expect(byQuote.statusCode, byQuote.body).toBe(422);
    expect(byQuote.json().error.code).toBe('BALANCE_LIMIT_EXCEEDED');
    expect(await walletBody()).toEqual(before);
  });

  it('refuses a sell of base asset the wallet does not hold', async () => {
    const before = await walletBody();
    const res = await order({ symbol: 'BTCUSDT', side: 'sell', quantity: '0.001' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      details: { asset: 'BTC', available: '0' },
    });
    expect(await walletBody()).toEqual(before);
  });

  const invalidBodies: [string, unknown][] = [
    ['negative quantity', { symbol: 'BTCUSDT', side: 'buy', quantity: '-1' }],
    ['zero quantity', { symbol: 'BTCUSDT', side: 'buy', quantity: 0 }],
    ['1e309 (Infinity)', '{"symbol":"BTCUSDT","side":"buy","quantity":1e309}'],
    ['"NaN"', { symbol: 'BTCUSDT', side: 'buy', quantity: 'NaN' }],
    ['exponent string', { symbol: 'BTCUSDT', side: 'buy', quantity: '1e-3' }],
    ['9 decimals', { symbol: 'BTCUSDT', side: 'buy', quantity: '0.000000001' }],
    ['30-digit decimal', { symbol: 'BTCUSDT', side: 'buy', quantity: '0.123456789012345678901234567890' }],
    [
      'overflowing quantity',
      { symbol: 'BTCUSDT', side: 'buy', quantity: '1234567890123456789012345678901234567' },
    ],
    ['ambiguous JSON number', '{"symbol":"BTCUSDT","side":"buy","quantity":0.10000000000000001}'],
    ['unknown side', { symbol: 'BTCUSDT', side: 'hold', quantity: '1' }],
    ['missing side', { symbol: 'BTCUSDT', quantity: '1' }],
    ['quantity as object', { symbol: 'BTCUSDT', side: 'buy', quantity: { value: 1 } }],
    ['symbol with junk', { symbol: 'BTC/USDT;drop', side: 'buy', quantity: '1' }],
    ['10 kB symbol', { symbol: 'B'.repeat(10_000), side: 'buy', quantity: '1' }],
    ['wallet id not a UUID', { wallet_id: 'abc', symbol: 'BTCUSDT', side: 'buy', quantity: '1' }],
    ['array body', [{ symbol: 'BTCUSDT', side: 'buy', quantity: '1' }]],
    [
      'too long client_order_id',
      { symbol: 'BTCUSDT', side: 'buy', quantity: '1', client_order_id: 'x'.repeat(49) },
    ],
  ];
  it.each(invalidBodies)('answers 422 for %s and moves nothing', async (_name, payload) => {
    const before = await walletBody();
    const res = await order(payload);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
    expect(await walletBody()).toEqual(before);
  });

  it('answers 400 for malformed JSON and 415 for another content type', async () => {
    const malformed = await order('{"symbol": "BTCUSDT",');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('MALFORMED_JSON');
    const text = await t.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...bearer(user.token), 'content-type': 'application/xml' },
      payload: '<order side="buy"/>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 404 UNKNOWN_SYMBOL for a symbol Binance does not list', async () => {
    const res = await order({ symbol: 'NOPEUSDT', side: 'buy', quantity: '1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('UNKNOWN_SYMBOL');
  });

  it('answers 404 for another user’s wallet', async () => {
    const other = await registerUser(t.app);
    const res = await order({ wallet_id: other.walletId, symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('answers 401 without a valid token', async () => {
    expect((await order({ symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' }, {})).statusCode).toBe(401);
    expect(
      (await order({ symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' }, bearer('garbage'))).statusCode,
    ).toBe(401);
  });

  it.each(['error500', 'hang', 'garbage', 'html', 'rate-limited'] as const)(
    'answers 503 PRICE_UNAVAILABLE with Retry-After when Binance fails (%s) and moves nothing',
    async (mode) => {
      // A symbol never priced before: no cached price young enough can stand in for the failing upstream.
      const symbol = `F${mode.replace(/[^a-z0-9]/g, '').toUpperCase()}USDT`;
      t.binance!.setQuote(symbol, { last: '10', bid: '10', ask: '10' });
      const before = await walletBody();
      t.binance!.mode = mode;
      const res = await order({ symbol, side: 'buy', quantity: '1' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json().error.code).toBe('PRICE_UNAVAILABLE');
      t.binance!.mode = 'ok';
      expect(await walletBody()).toEqual(before);
    },
  );
});
