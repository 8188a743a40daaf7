import type { BetRow } from '../../modules/bets/index.js';
import { Decimal } from '../../shared/decimal.js';

/**
 * A NUMERIC(38,8) amount or price as a JSON number, the way seed 002 shows them. Only here, at the
 * seed's edge: the value is exact in the ledger, and at most 8 decimals of a price or a stake print
 * back as the same decimal through a double.
 */
export function jsonNumber(value: string): number {
  return Number(new Decimal(value).toFixed());
}

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
    bet_amount: jsonNumber(bet.stake),
    leverage: bet.leverage,
    direction: bet.direction,
    time: bet.durationMs / 60_000,
    start_price: jsonNumber(bet.startPrice),
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
    profit: bet.profit === null ? null : jsonNumber(bet.profit),
  };
}
