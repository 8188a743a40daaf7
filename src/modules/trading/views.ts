import { formatDecimal } from '../../shared/decimal.js';
import type { OrderSide } from './fills.js';
import type { OrderRow } from './repository.js';

/** An order as the order routes answer it; amounts are decimal strings. */
export interface OrderView {
  id: string;
  client_order_id: string | null;
  wallet_id: string;
  symbol: string;
  side: OrderSide;
  /** base asset */
  quantity: string;
  /** quote asset per unit of base */
  price: string;
  /** price × quantity, quote asset */
  notional: string;
  /** quote asset */
  fee: string;
  status: 'filled';
  /** the short position a `short` or `close_short` belongs to */
  position_id: string | null;
  /** close_short only: (entry − exit) × quantity − fees, quote asset */
  realized_pnl: string | null;
  /** true for a close_short the liquidation job made */
  liquidation: boolean;
  created_at: string;
}

/** An order row as the order routes answer it: amounts as decimal strings, times ISO 8601. */
export function toOrderView(order: OrderRow): OrderView {
  return {
    id: order.id,
    client_order_id: order.clientOrderId,
    wallet_id: order.walletId,
    symbol: order.symbol,
    side: order.side,
    quantity: formatDecimal(order.quantity),
    price: formatDecimal(order.price),
    notional: formatDecimal(order.notional),
    fee: formatDecimal(order.fee),
    status: order.status,
    position_id: order.positionId,
    realized_pnl: order.realizedPnl === null ? null : formatDecimal(order.realizedPnl),
    liquidation: order.liquidation,
    created_at: order.createdAt.toISOString(),
  };
}
