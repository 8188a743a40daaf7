import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SymbolInfo } from './quote.js';
import { tradingSymbolsOf } from './sources/binance.js';
import { ReplayFileError } from './sources/replay-tape.js';

/**
 * The small recorded market the product ships in `samples/market/` (provenance in its SOURCES.md):
 * BTCUSDT and ETHUSDT 1-minute klines of 2021-09-23, their recorded exchangeInfo entries and their
 * CoinGecko `/coins/list` entries. Found from this file, not from the working folder, so the
 * offline demo (`PRICE_SOURCE=replay`) runs from any folder of a fresh clone.
 */
export const SAMPLE_MARKET_DIR = fileURLToPath(new URL('../../../samples/market/', import.meta.url));
/** The kline files `PRICE_SOURCE=replay` plays. */
export const SAMPLE_KLINES_DIR = path.join(SAMPLE_MARKET_DIR, 'klines');
/** The `/coins/list` entries of the sample's coins (`[{id, symbol, name}]`). */
export const SAMPLE_COINS_LIST_FILE = path.join(SAMPLE_MARKET_DIR, 'coingecko', 'coins-list.json');
const SAMPLE_EXCHANGE_INFO_FILE = path.join(SAMPLE_MARKET_DIR, 'binance', 'exchangeInfo.json');

/**
 * The sample's symbols with Binance's filters (LOT_SIZE, MIN_NOTIONAL…), from its recorded exchangeInfo.
 * @throws {ReplayFileError} when the file is missing or not an exchangeInfo
 */
export function sampleSymbolInfo(): SymbolInfo[] {
  let body: unknown;
  try {
    body = JSON.parse(fs.readFileSync(SAMPLE_EXCHANGE_INFO_FILE, 'utf8'));
  } catch (error) {
    throw new ReplayFileError(`cannot read the shipped exchangeInfo: ${(error as Error).message}`);
  }
  const symbols = tradingSymbolsOf(body);
  if (!symbols) throw new ReplayFileError(`${SAMPLE_EXCHANGE_INFO_FILE} is not a Binance exchangeInfo`);
  return symbols;
}
