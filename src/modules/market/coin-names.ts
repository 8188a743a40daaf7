import fs from 'node:fs';
import { z } from 'zod';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import type { Config } from '../../platform/config/env.js';
import type { Clock } from '../../shared/clock.js';
import { UpstreamUnavailableError } from './errors.js';
import type { PriceSource } from './quote.js';
import { SAMPLE_COINS_LIST_FILE } from './sample.js';
import { CoinGeckoPriceSource, type ResolvedCoin } from './sources/coingecko.js';
import { createCoinGeckoSource } from './sources/index.js';
import { ReplayPriceSource } from './sources/replay.js';
import { baseAssetOf } from './sources/upstream.js';

const shippedListSchema = z.array(z.object({ id: z.string(), symbol: z.string(), name: z.string() }));

/**
 * The CoinGecko `/coins/list` entries the product ships (`samples/market/coingecko/coins-list.json`:
 * bitcoin and ethereum), one coin per ticker — the one CoinGecko's own rule (largest market cap)
 * names. Read once, on first use; an unreadable file lists nothing, so the caller's own error stands.
 */
export class ShippedCoinList {
  private byTicker: Map<string, ResolvedCoin> | undefined;

  constructor(
    private readonly quoteAsset: string,
    private readonly file = SAMPLE_COINS_LIST_FILE,
  ) {}

  /** The shipped coin of a ticker (`BTC`, `btc`, `BTCUSDT`), or undefined when the list has none. */
  find(symbol: string): ResolvedCoin | undefined {
    let base: string;
    try {
      base = baseAssetOf(symbol, this.quoteAsset);
    } catch {
      return undefined;
    }
    return this.load().get(base);
  }

  private load(): Map<string, ResolvedCoin> {
    if (this.byTicker) return this.byTicker;
    this.byTicker = new Map();
    try {
      const entries = shippedListSchema.parse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
      for (const { id, symbol, name } of entries) {
        const base = symbol.toUpperCase();
        if (!this.byTicker.has(base)) this.byTicker.set(base, { id, symbol: base, name });
      }
    } catch {
      // Names then come from CoinGecko alone, as before the list was shipped.
    }
    return this.byTicker;
  }
}

/**
 * Coin names from CoinGecko, with the shipped list behind it: a ticker the list has is named from
 * it when CoinGecko cannot be reached, and at once (no network at all) when `shippedFirst` — the
 * replay source, which runs offline.
 */
export class CoinNames {
  constructor(
    private readonly coingecko: Pick<CoinGeckoPriceSource, 'resolveSymbol'>,
    private readonly shipped: ShippedCoinList,
    private readonly shippedFirst: boolean,
  ) {}

  /**
   * `BTC`, `btc` and `BTCUSDT` all give `{id: 'bitcoin', symbol: 'BTC', name: 'Bitcoin'}`.
   * @throws {UnknownSymbolError} when CoinGecko lists no coin under the ticker
   * @throws {UpstreamUnavailableError} when CoinGecko cannot be reached and the shipped list lacks it
   */
  async resolveSymbol(symbol: string): Promise<ResolvedCoin> {
    const shipped = this.shippedFirst ? this.shipped.find(symbol) : undefined;
    if (shipped) return shipped;
    try {
      return await this.coingecko.resolveSymbol(symbol);
    } catch (error) {
      const fallback = error instanceof UpstreamUnavailableError ? this.shipped.find(symbol) : undefined;
      if (fallback) return fallback;
      throw error;
    }
  }
}

/** What {@link createCoinNames} takes from its process. */
export interface CoinNamesDeps {
  config: Config;
  clock: Clock;
  cache: KeyValueCache;
  priceSource: PriceSource;
  fallbackPriceSource?: PriceSource;
}

/**
 * The coin names of a process (seed 004's names): CoinGecko — the process's own CoinGecko source
 * when it has one (`PRICE_SOURCE=coingecko`, or the fallback behind Binance), else one built from
 * `COINGECKO_BASE_URL`, its symbol → id map in the shared cache either way — with the shipped list
 * behind it, and before it on the replay source.
 */
export function createCoinNames(deps: CoinNamesDeps): CoinNames {
  const own = [deps.priceSource, deps.fallbackPriceSource].find(
    (source): source is CoinGeckoPriceSource => source instanceof CoinGeckoPriceSource,
  );
  return new CoinNames(
    own ?? createCoinGeckoSource(deps.config, deps.clock, deps.cache),
    new ShippedCoinList(deps.config.quoteAsset),
    deps.priceSource instanceof ReplayPriceSource,
  );
}
