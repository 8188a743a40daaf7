import { ValidationError } from '../../shared/errors.js';
import type { PriceService } from '../market/index.js';
import { UntradableSymbolError } from './errors.js';

/**
 * The market symbol of a client's symbol, and its base asset.
 * @throws {ValidationError}, {UntradableSymbolError} (422)
 */
export function tradableSymbol(
  prices: PriceService,
  quoteAsset: string,
  input: string,
): { symbol: string; baseAsset: string } {
  const symbol = prices.normalizeSymbol(input);
  if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
  const baseAsset = symbol.slice(0, -quoteAsset.length);
  if (!symbol.endsWith(quoteAsset) || baseAsset.length === 0) {
    throw new UntradableSymbolError(`only ${quoteAsset} pairs are tradable`, { symbol });
  }
  return { symbol, baseAsset };
}
