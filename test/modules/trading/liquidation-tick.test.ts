/**
 * Liquidation on a fresh price: the periodic check is an hour away here, so what closes the short is
 * the tick the API's price service publishes when a read fetches the new price.
 */
import { describe, expect, it } from 'vitest';
import { bearer, postOrder, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp({
  env: { PRICE_CACHE_TTL_MS: '0', LIQUIDATION_CHECK_INTERVAL_MS: '3600000' },
  jobs: true,
});

describe('liquidation on each fresh price', () => {
  it('closes an underwater short when a fresh price is published, long before the next periodic check', async () => {
    t.binance!.setQuote('BTCUSDT', { last: '60755.18', bid: '60755.18', ask: '60755.19' });
    const { token } = await registerUser(t.app);
    expect(
      (await postOrder(t.app, token, { symbol: 'BTC', side: 'short', quantity: '0.1' })).statusCode,
    ).toBe(201);
    t.binance!.setQuote('BTCUSDT', { last: '70200', bid: '70199.99', ask: '70200' });
    // Any read that fetches the price publishes it.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/market/prices/BTC' })).statusCode).toBe(200);
    const deadline = Date.now() + 3000;
    let liquidated: { liquidation: boolean; price: string }[] = [];
    while (Date.now() < deadline && liquidated.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const orders = await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: bearer(token) });
      liquidated = orders.json().items.filter((o: { liquidation: boolean }) => o.liquidation);
    }
    expect(liquidated).toEqual([expect.objectContaining({ avg_fill_price: '70200' })]);
  });
});
