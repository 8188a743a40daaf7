import { Decimal, formatDecimal } from '../../shared/decimal.js';
import type { BetDirection, BetResult } from './payout.js';
import type { BetRow } from './repository.js';

/** A bet as the v1 routes answer it; amounts and prices are decimal strings (quote asset). */
export interface BetView {
  id: string;
  wallet_id: string;
  symbol: string;
  direction: BetDirection;
  stake: string;
  leverage: number;
  duration_seconds: number;
  start_price: string;
  due_at: string;
  status: 'pending' | 'completed';
  end_price: string | null;
  /** the instant `end_price` was the market's price (ISO 8601): the due time when it could be had */
  end_price_at: string | null;
  result: BetResult | null;
  profit: string | null;
  /** stake + profit, credited back at settlement */
  payout: string | null;
  settled_at: string | null;
  late: boolean;
  /** why the last settlement attempt was refused (still pending, tried again); null otherwise */
  settlement_error: string | null;
  created_at: string;
}

/** A bet as the v1 bet routes answer it: amounts and prices as decimal strings, times ISO 8601. */
export function toBetView(bet: BetRow): BetView {
  return {
    id: bet.id,
    wallet_id: bet.walletId,
    symbol: bet.symbol,
    direction: bet.direction,
    stake: formatDecimal(bet.stake),
    leverage: bet.leverage,
    duration_seconds: bet.durationMs / 1000,
    start_price: formatDecimal(bet.startPrice),
    due_at: bet.dueAt.toISOString(),
    status: bet.status,
    end_price: bet.endPrice === null ? null : formatDecimal(bet.endPrice),
    end_price_at: bet.endPriceAt?.toISOString() ?? null,
    result: bet.result,
    profit: bet.profit === null ? null : formatDecimal(bet.profit),
    payout: bet.profit === null ? null : formatDecimal(new Decimal(bet.stake).plus(bet.profit)),
    settled_at: bet.settledAt?.toISOString() ?? null,
    late: bet.late,
    settlement_error: bet.settlementError,
    created_at: bet.createdAt.toISOString(),
  };
}
