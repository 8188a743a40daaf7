import type { BetRow } from '../../modules/bets/index.js';
import { decimalToJsonNumber } from '../../shared/json.js';

/** Seed 002's answer to `POST /api/v1/trade_it/`: the bet, pending, with the server's start price. */
export interface TradeView {
  id: string;
  status: 'pending' | 'completed';
  /** the base asset, e.g. `BTC` */
  exchange: string;
  symbol: string;
  bet_amount: number;
  leverage: number;
  direction: 'up' | 'down';
  /** minutes */
  time: number;
  start_price: number;
  due_at: string;
}

/** A bet as seed 002 shows it: amounts and prices as JSON numbers (this edge only), `time` in minutes. */
export function toTradeView(bet: BetRow): TradeView {
  return {
    id: bet.id,
    status: bet.status,
    exchange: bet.symbol.slice(0, -bet.quoteAsset.length),
    symbol: bet.symbol,
    bet_amount: decimalToJsonNumber(bet.stake),
    leverage: bet.leverage,
    direction: bet.direction,
    time: bet.durationMs / 60_000,
    start_price: decimalToJsonNumber(bet.startPrice),
    due_at: bet.dueAt.toISOString(),
  };
}

/** Seed 002's `GET /api/v1/trade_status/{id}`: `{status, result, profit}`; result and profit null while pending. */
export function toTradeStatus(bet: BetRow): {
  status: 'pending' | 'completed';
  result: 'W' | 'L' | 'D' | null;
  profit: number | null;
} {
  return {
    status: bet.status,
    result: bet.result,
    profit: bet.profit === null ? null : decimalToJsonNumber(bet.profit),
  };
}
