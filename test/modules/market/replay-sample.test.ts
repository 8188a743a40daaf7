/**
 * The offline demo runs from a fresh clone (issue 22, point 3): `PRICE_SOURCE=replay` with no path
 * plays the sample shipped in `samples/market/` (BTCUSDT and ETHUSDT of 2021-09-23), found from the
 * package, not the working folder; its recorded exchangeInfo gives the replay Binance's filters.
 * The app is built by the test helper over the source `createPriceSource` makes from the config.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { createPriceSource, ReplayPriceSource } from '../../../src/modules/market/index.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { loadConfig } from '../../../src/platform/config/env.js';
import { postOrder, registerUser, useAppFactory } from '../../helpers/app.js';
import { manualClock } from '../../helpers/clock.js';

const apps = useAppFactory();

describe('PRICE_SOURCE=replay (the shipped sample)', () => {
  it('is a valid PRICE_SOURCE; replay: with nothing after it is not', () => {
    expect(loadConfig({ PRICE_SOURCE: 'replay' }).priceSource).toBe('replay');
    expect(() => loadConfig({ PRICE_SOURCE: 'replay:' })).toThrow(/PRICE_SOURCE: must be/);
    expect(() => loadConfig({ PRICE_SOURCE: 'replays' })).toThrow(/PRICE_SOURCE: must be/);
  });

  it('plays BTCUSDT and ETHUSDT of 2021-09-23 from any working folder, with their recorded filters', async () => {
    const clock = manualClock();
    const config = loadConfig({ PRICE_SOURCE: 'replay' });
    const cwd = process.cwd();
    let source: ReturnType<typeof createPriceSource>;
    try {
      process.chdir(os.tmpdir()); // the sample is found from the package, not from here
      source = createPriceSource(config, clock, new MemoryCache());
    } finally {
      process.chdir(cwd);
    }
    expect(source).toBeInstanceOf(ReplayPriceSource);
    expect((source as ReplayPriceSource).symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect((source as ReplayPriceSource).replayInstantMs()).toBe(Date.parse('2021-09-23T00:00:00Z'));

    const t = await apps.build({ priceSource: source, clock, env: { PRICE_SOURCE: 'replay' } });
    const prices = await t.app.inject({ method: 'GET', url: '/api/v1/market/prices?symbols=BTC,ETH' });
    expect(prices.json().items).toEqual([
      expect.objectContaining({ symbol: 'BTCUSDT', price: '43546.37', source: 'replay' }),
      expect.objectContaining({ symbol: 'ETHUSDT', price: '3076.92', source: 'replay' }),
    ]);
    const symbols = await t.app.inject({ method: 'GET', url: '/api/v1/market/symbols' });
    const filters = symbols
      .json()
      .items.map((s: Record<string, string>) => [
        s.symbol,
        s.tick_size,
        s.min_qty,
        s.step_size,
        s.min_notional,
      ]);
    expect(filters).toEqual([
      ['BTCUSDT', '0.01', '0.00001', '0.00001', '10'],
      ['ETHUSDT', '0.01', '0.0001', '0.0001', '10'],
    ]);

    // The README's session: a buy and a sell at the replayed price; the recorded LOT_SIZE applies.
    const user = await registerUser(t.app);
    const buy = await postOrder(t.app, user.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.01' });
    expect(buy.statusCode).toBe(201);
    expect(buy.json()).toMatchObject({ avg_fill_price: '43546.37', quantity: '0.01' });
    const tooSmall = await postOrder(t.app, user.token, {
      symbol: 'ETHUSDT',
      side: 'buy',
      quantity: '0.00005',
    });
    expect(tooSmall.statusCode).toBe(422);
    expect(tooSmall.json().error.code).toBe('FILTER_FAILURE');
  });
});
