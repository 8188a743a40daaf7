import { formatDecimal } from '../../shared/decimal.js';
import type { OrderSide } from './fills.js';
import type { OrderType, TimeInForce } from './order-types.js';
import type { OrderRow } from './repository.js';

/** How an order filled: one fill, whole (the simulated book has the quoted price's depth). */
export interface FillView {
  /** quote asset per unit of base */
  price: string;
  /** base asset */
  quantity: string;
  /** quote asset */
  fee: string;
  /** maker: a resting order filled at its own limit price; taker: filled at the book */
  liquidity: 'maker' | 'taker';
}

/** An order as the order routes answer it; amounts are decimal strings. */
export interface OrderView {
  id: string;
  client_order_id: string | null;
  wallet_id: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  time_in_force: TimeInForce | null;
  /** base asset */
  quantity: string;
  /** the limit price, quote asset per unit of base; null for the market types */
  price: string | null;
  /** the trigger (last price); null but for the stop and take-profit types */
  stop_price: string | null;
  status: OrderRow['status'];
  /** base asset filled: 0 or the whole quantity */
  filled_quantity: string;
  /** null until filled */
  avg_fill_price: string | null;
  /** avg_fill_price × quantity, quote asset; null until filled */
  notional: string | null;
  /** quote asset; null until filled */
  fee: string | null;
  fills: FillView[];
  /** the OCO the order is a leg of */
  order_list_id: string | null;
  /** the order a cancel-replace put in this one's place */
  replaced_by: string | null;
  /** when a stop or take-profit order's trigger fired */
  triggered_at: string | null;
  /** the short position a `short` or `close_short` belongs to */
  position_id: string | null;
  /** close_short only: (entry − exit) × quantity − fees, quote asset */
  realized_pnl: string | null;
  /** true for a close_short the liquidation job made */
  liquidation: boolean;
  created_at: string;
  updated_at: string;
}

const decimalOrNull = (value: string | null) => (value === null ? null : formatDecimal(value));

/** An order row as the order routes answer it: amounts as decimal strings, times ISO 8601. */
export function toOrderView(order: OrderRow): OrderView {
  const filled = order.status === 'filled';
  return {
    id: order.id,
    client_order_id: order.clientOrderId,
    wallet_id: order.walletId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    time_in_force: order.timeInForce,
    quantity: formatDecimal(order.quantity),
    price: decimalOrNull(order.price),
    stop_price: decimalOrNull(order.stopPrice),
    status: order.status,
    filled_quantity: filled ? formatDecimal(order.quantity) : '0',
    avg_fill_price: decimalOrNull(order.avgFillPrice),
    notional: decimalOrNull(order.notional),
    fee: decimalOrNull(order.fee),
    fills:
      filled && order.avgFillPrice !== null && order.fee !== null && order.liquidity !== null
        ? [
            {
              price: formatDecimal(order.avgFillPrice),
              quantity: formatDecimal(order.quantity),
              fee: formatDecimal(order.fee),
              liquidity: order.liquidity,
            },
          ]
        : [],
    order_list_id: order.orderListId,
    replaced_by: order.replacedBy,
    triggered_at: order.triggeredAt?.toISOString() ?? null,
    position_id: order.positionId,
    realized_pnl: decimalOrNull(order.realizedPnl),
    liquidation: order.liquidation,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
  };
}
