/**
 * The CoinMarketCap price source against a fake CoinMarketCap on loopback that answers
 * `/v2/cryptocurrency/quotes/latest` in the documented v2 shape (no recorded CoinMarketCap response
 * exists, so prices are the test's own): several tickers in one call with the key in its header and
 * nowhere else, shared tickers resolved to the largest market cap, unknown tickers, a refused key
 * whose error never shows the key, 429 and the other failures, and PRICE_SOURCE wiring.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UnknownSymbolError, UpstreamUnavailableError } from '../../../src/modules/market/errors.js';
import { CoinMarketCapPriceSource } from '../../../src/modules/market/sources/coinmarketcap.js';
import { createPriceSource } from '../../../src/modules/market/sources/index.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { ConfigError, loadConfig } from '../../../src/platform/config/env.js';
import { systemClock } from '../../../src/shared/clock.js';
import { type FakeCmcCoin, FakeCoinMarketCap } from '../../helpers/fake-coinmarketcap.js';

const API_KEY = 'cmc-test-key-5f0c1d8e-not-a-real-one';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const coin = (
  id: number,
  name: string,
  priceUsd: number | null,
  marketCapUsd: number | null,
): FakeCmcCoin => ({
  id,
  name,
  slug: name.toLowerCase(),
  cmcRank: id,
  priceUsd,
  marketCapUsd,
});

async function fake(): Promise<FakeCoinMarketCap> {
  const cmc = await new FakeCoinMarketCap(API_KEY).start();
  cleanups.push(() => cmc.close());
  // A shared ticker: the real coin (largest cap) is listed second.
  cmc.setCoins('BTC', [
    coin(31_000, 'BlackrockTradingCurrency', 0.0001, 1000),
    coin(1, 'Bitcoin', 43250.12, 8.5e11),
  ]);
  cmc.setCoins('ETH', [coin(1027, 'Ethereum', 2290.5, 2.75e11)]);
  return cmc;
}

function source(cmc: FakeCoinMarketCap, apiKey = API_KEY, timeoutMs = 2000) {
  return new CoinMarketCapPriceSource({
    baseUrl: cmc.baseUrl,
    apiKey,
    timeoutMs,
    clock: systemClock,
    cache: new MemoryCache(),
  });
}

describe('CoinMarketCap source', () => {
  it('prices several tickers in one call, the key only in X-CMC_PRO_API_KEY', async () => {
    const cmc = await fake();
    const quotes = await source(cmc).fetchQuotes(['BTCUSDT', 'ETH', 'NOPE', 'b$d']);
    expect([...quotes.keys()]).toEqual(['BTCUSDT', 'ETH']);
    expect(quotes.get('BTCUSDT')).toMatchObject({
      symbol: 'BTCUSDT',
      last: '43250.12',
      bid: '43250.12',
      ask: '43250.12',
      source: 'coinmarketcap',
    });
    expect(quotes.get('ETH')).toMatchObject({ symbol: 'ETHUSDT', last: '2290.5' });
    expect(cmc.requestCount).toBe(1);
    const url = cmc.requests[0]!;
    expect(url.pathname).toBe('/v2/cryptocurrency/quotes/latest');
    expect(url.searchParams.get('symbol')).toBe('BTC,ETH,NOPE');
    expect(url.searchParams.get('convert')).toBe('USD');
    expect(url.href).not.toContain(API_KEY);
    expect(cmc.keysReceived).toEqual([API_KEY]);
  });

  it('throws UnknownSymbolError for a ticker it does not list', async () => {
    const cmc = await fake();
    await expect(source(cmc).fetchQuote('NOPEUSDT')).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(source(cmc).fetchQuote('B$C')).rejects.toBeInstanceOf(UnknownSymbolError);
    expect((await source(cmc).fetchQuote('BTC')).last).toBe('43250.12');
  });

  it('a refused key → UpstreamUnavailableError that does not show the key', async () => {
    const cmc = await fake();
    const wrongKey = 'cmc-wrong-key-0123456789abcdef';
    const error = await source(cmc, wrongKey)
      .fetchQuote('BTC')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(String((error as Error).message)).not.toContain(wrongKey);
    expect(JSON.stringify(error)).not.toContain(wrongKey);
    expect(String((error as Error).stack)).not.toContain(wrongKey);
  });

  it('429 → retryAfterSeconds; 500, hang and garbage → UpstreamUnavailableError', async () => {
    const cmc = await fake();
    cmc.mode = 'rate-limited';
    await expect(source(cmc).fetchQuote('BTC')).rejects.toMatchObject({ retryAfterSeconds: 2 });
    for (const mode of ['error500', 'hang', 'garbage'] as const) {
      cmc.mode = mode;
      await expect(source(cmc, API_KEY, 300).fetchQuote('BTC')).rejects.toBeInstanceOf(
        UpstreamUnavailableError,
      );
    }
  });

  it('PRICE_SOURCE=coinmarketcap needs COINMARKETCAP_API_KEY', async () => {
    const cmc = await fake();
    const config = {
      ...loadConfig({ COINMARKETCAP_API_KEY: API_KEY, COINMARKETCAP_BASE_URL: cmc.baseUrl }),
      priceSource: 'coinmarketcap',
    };
    const created = createPriceSource(config, systemClock, new MemoryCache());
    expect(created).toBeInstanceOf(CoinMarketCapPriceSource);
    expect((await created.fetchQuote('ETHUSDT')).last).toBe('2290.5');
    expect(() =>
      createPriceSource({ ...config, coinmarketcapApiKey: undefined }, systemClock, new MemoryCache()),
    ).toThrow(ConfigError);
  });
});
