import type { ErrorRenderer } from '../../platform/http/error-handler.js';
import type { HttpError } from '../../platform/http/errors.js';
import { decimalToJsonNumber } from '../../shared/json.js';

/** Seed 004's errors are `{"error": "text"}`. */
export const renderSeed004Error: ErrorRenderer = (error) => ({ error: error.message });

/**
 * Seed 004 answers a bad or missing field with 400 (it has no 422), and lists 400 for a bad
 * body of any kind; every other status is the v1 one.
 */
export function seed004Status(error: HttpError): number {
  return error.status === 422 || error.status === 415 ? 400 : error.status;
}

/** Seed 004 shows prices as JSON numbers: the decimal strings of the v1 views, converted at this edge only. */
export function seed004Crypto(view: {
  symbol: string;
  name: string;
  current_price: string;
  last_updated: string;
}): { symbol: string; name: string; current_price: number; last_updated: string } {
  return { ...view, current_price: decimalToJsonNumber(view.current_price) };
}

/** `{symbol, history: [{price, timestamp}]}` with prices as JSON numbers. */
export function seed004History(view: { symbol: string; history: { price: string; timestamp: string }[] }) {
  return {
    symbol: view.symbol,
    history: view.history.map((point) => ({
      price: decimalToJsonNumber(point.price),
      timestamp: point.timestamp,
    })),
  };
}

/** `{symbol, current_price, stats: {…}}` with every figure a JSON number. */
export function seed004Stats(view: {
  symbol: string;
  current_price: string;
  stats: {
    min_price: string;
    max_price: string;
    avg_price: string;
    price_change: string;
    price_change_percent: string;
    records_count: number;
  };
}) {
  const { stats } = view;
  return {
    symbol: view.symbol,
    current_price: decimalToJsonNumber(view.current_price),
    stats: {
      min_price: decimalToJsonNumber(stats.min_price),
      max_price: decimalToJsonNumber(stats.max_price),
      avg_price: decimalToJsonNumber(stats.avg_price),
      price_change: decimalToJsonNumber(stats.price_change),
      price_change_percent: decimalToJsonNumber(stats.price_change_percent),
      records_count: stats.records_count,
    },
  };
}
