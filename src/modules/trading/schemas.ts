import { z } from 'zod';
import { idempotencyKeyHeader } from '../../platform/http/idempotency.js';
import { decimalOutput, pageQuery, positiveAmountInput } from '../../platform/http/schemas.js';
import { ORDER_SIDES } from './fills.js';
import { hasLimitPrice, hasStopPrice, takesTimeInForce } from './order-types.js';
import { ORDER_STATUSES, ORDER_TYPES, TIME_IN_FORCES } from './tables.js';

const nullableDecimal = (description: string, example: string) =>
  z.string().nullable().meta({ description, example });

export const orderOutput = z
  .object({
    id: z.uuid(),
    client_order_id: z.string().nullable(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    side: z.enum(ORDER_SIDES),
    type: z.enum(ORDER_TYPES),
    time_in_force: z.enum(TIME_IN_FORCES).nullable(),
    quantity: decimalOutput('base asset', '0.01'),
    price: nullableDecimal('limit price, quote asset per base unit; null for the market types', '46000'),
    stop_price: nullableDecimal('trigger (last price) of the stop and take-profit types', '45000'),
    status: z.enum(ORDER_STATUSES).meta({
      description:
        'new: resting or waiting for its trigger; filled; canceled; expired (an IOC/FOK that could not fill, a close of a liquidated or closed short); rejected (triggered but the wallet could not pay)',
    }),
    filled_quantity: decimalOutput('base asset filled: 0 or the whole quantity', '0.01'),
    avg_fill_price: nullableDecimal('fill price, quote asset per base unit; null until filled', '46969.15'),
    notional: nullableDecimal('avg_fill_price × quantity, quote asset; null until filled', '469.6915'),
    fee: nullableDecimal('maker or taker fee, quote asset; null until filled', '0.4696915'),
    fills: z.array(
      z.object({
        price: decimalOutput('quote asset per base unit', '46969.15'),
        quantity: decimalOutput('base asset', '0.01'),
        fee: decimalOutput('quote asset', '0.4696915'),
        liquidity: z.enum(['maker', 'taker']),
      }),
    ),
    order_list_id: z.uuid().nullable().meta({ description: 'the OCO this order is a leg of' }),
    replaced_by: z.uuid().nullable().meta({ description: 'the order a cancel-replace put in its place' }),
    triggered_at: z.string().nullable(),
    position_id: z.uuid().nullable().meta({ description: 'the short a short or close_short belongs to' }),
    realized_pnl: z
      .string()
      .nullable()
      .meta({ description: 'close_short only: (entry − exit) × quantity − both legs’ fees, quote asset' }),
    liquidation: z.boolean().meta({ description: 'true for a close_short made by the liquidation job' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Order' });

/** A client's order id: unique per user, a repeat returns the first order. */
const clientOrderIdInput = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,48}$/, '1–48 letters, digits, "_", ".", ":" or "-"')
  .optional()
  .meta({ description: 'unique per user: a repeat returns the first order (200)' });

/** An open short, valued at the current ask. */
export const positionOutput = z
  .object({
    id: z.uuid(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    quantity: decimalOutput('base asset owed', '0.01'),
    entry_price: decimalOutput('weighted average sale price', '46969.15'),
    mark_price: decimalOutput('the ask: buy-back price per unit now', '46990.00'),
    unrealized_pnl: decimalOutput('(entry − mark) × quantity, quote asset, fees excluded', '-0.2085'),
    margin: decimalOutput('initial margin held, quote asset', '234.85'),
    collateral: decimalOutput('sale proceeds plus margin held, quote asset', '704.54'),
    liquidation_price: decimalOutput('the ask at which the short is liquidated', '54195.17'),
    opened_at: z.string(),
  })
  .meta({ id: 'Position' });

/** Exactly one of `quantity` (base asset) and `quote_amount` (quote asset). */
export const placeOrderBody = z
  .object({
    wallet_id: z.uuid().optional().meta({ description: 'defaults to the caller’s default wallet' }),
    symbol: z.string().min(1).max(32).meta({ description: 'BTCUSDT or BTC', example: 'BTCUSDT' }),
    side: z.enum(ORDER_SIDES).meta({
      description:
        'buy and close_short fill at the ask, sell and short at the bid. A short holds SHORT_INITIAL_MARGIN × notional plus the sale proceeds as collateral; close_short buys back (part of) the wallet’s open short on the symbol.',
    }),
    quantity: positiveAmountInput.optional().meta({
      description:
        'base asset, decimal string or number, ≤ 8 decimals, a whole number of the symbol’s LOT_SIZE step (off-step → 422 LOT_SIZE)',
      example: '0.01',
    }),
    quote_amount: positiveAmountInput.optional().meta({
      description:
        'instead of quantity: a buy spends at most this much quote, fee included; other sides trade at most this notional (fee excluded). The quantity is rounded DOWN to the lot step.',
      example: '100',
    }),
    client_order_id: clientOrderIdInput,
    type: z.enum(ORDER_TYPES).default('market').meta({
      description:
        'market (default) fills at once. limit rests until the ask ≤ price (buys) or the bid ≥ price (sells) and fills at price with the maker fee; marketable when placed, it fills at once at the book with the taker fee. limit_maker is refused (422) if it would fill at once. stop_loss / take_profit fill as market orders when the last price reaches stop_price; the *_limit ones then rest at price.',
    }),
    price: positiveAmountInput
      .optional()
      .meta({ description: 'limit price of the limit types (PRICE_FILTER applies)', example: '46000' }),
    stop_price: positiveAmountInput.optional().meta({
      description:
        'trigger of the stop and take-profit types: stop_loss when the last price moves against the side through it (sells: last ≤ stop), take_profit when in its favour (sells: last ≥ stop); one that would trigger at once → 422',
      example: '45000',
    }),
    time_in_force: z
      .enum(TIME_IN_FORCES)
      .optional()
      .meta({ description: 'limit, stop_loss_limit, take_profit_limit: gtc (default), ioc or fok' }),
  })
  .superRefine((body, ctx) => {
    if ((body.quantity === undefined) === (body.quote_amount === undefined))
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of quantity and quote_amount',
        path: ['quantity'],
      });
    if (body.type !== 'market' && body.quote_amount !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: 'quote_amount is for market orders only',
        path: ['quote_amount'],
      });
    checkTypeFields(body, ctx);
  });

/** The fields a type needs and the ones it must not have. */
function checkTypeFields(
  body: {
    type: (typeof ORDER_TYPES)[number];
    price?: unknown;
    stop_price?: unknown;
    time_in_force?: unknown;
  },
  ctx: z.RefinementCtx,
): void {
  const rules = [
    ['price', hasLimitPrice(body.type), body.price],
    ['stop_price', hasStopPrice(body.type), body.stop_price],
    ['time_in_force', takesTimeInForce(body.type), body.time_in_force],
  ] as const;
  for (const [field, needed, value] of rules) {
    if (field === 'time_in_force' && needed) continue;
    if (needed && value === undefined)
      ctx.addIssue({ code: 'custom', message: `a ${body.type} order needs ${field}`, path: [field] });
    if (!needed && value !== undefined)
      ctx.addIssue({ code: 'custom', message: `a ${body.type} order takes no ${field}`, path: [field] });
  }
}

/** An OCO: a limit leg at `price` and a stop leg at `stop_price` on one quantity. */
export const placeOcoBody = z.object({
  wallet_id: z.uuid().optional().meta({ description: 'defaults to the caller’s default wallet' }),
  symbol: z.string().min(1).max(32).meta({ example: 'BTCUSDT' }),
  side: z.enum(ORDER_SIDES),
  quantity: positiveAmountInput.meta({ description: 'base asset, both legs', example: '0.01' }),
  price: positiveAmountInput.meta({
    description: 'the limit (take-profit) leg’s price: a sell above the market, a buy below',
    example: '50000',
  }),
  stop_price: positiveAmountInput.meta({
    description: 'the stop leg’s trigger: a sell below the market, a buy above',
    example: '44000',
  }),
  stop_limit_price: positiveAmountInput.optional().meta({
    description: 'given: the stop leg is a stop_loss_limit at this price; else a stop_loss (market)',
  }),
  time_in_force: z
    .enum(TIME_IN_FORCES)
    .optional()
    .meta({ description: 'of the stop_loss_limit leg (default gtc)' }),
  client_order_id: clientOrderIdInput,
});

/** An OCO and its two legs. */
export const ocoOutput = z.object({ id: z.uuid(), orders: z.array(orderOutput) }).meta({ id: 'OrderList' });

/** A cancel-replace: what changes (at least one). */
export const replaceOrderBody = z
  .object({
    price: positiveAmountInput.optional(),
    stop_price: positiveAmountInput.optional(),
    quantity: positiveAmountInput.optional(),
  })
  .refine(
    (body) => body.price !== undefined || body.stop_price !== undefined || body.quantity !== undefined,
    {
      message: 'give price, stop_price or quantity',
      path: ['price'],
    },
  );

/** Cancels the wallet's open orders on a symbol. */
export const cancelAllQuery = z.object({
  symbol: z.string().min(1).max(32).meta({ description: 'BTCUSDT or BTC' }),
  wallet_id: z.uuid().optional().meta({ description: 'defaults to the caller’s default wallet' }),
});

export const orderListOutput = z.object({ items: z.array(orderOutput) });

export const placeOrderHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });

/** A page of the caller's orders, optionally of one symbol or side. */
export const orderListQuery = pageQuery.extend({
  symbol: z.string().min(1).max(32).optional().meta({ description: 'BTCUSDT or BTC' }),
  side: z.enum(ORDER_SIDES).optional(),
  status: z
    .enum([...ORDER_STATUSES, 'open'])
    .optional()
    .meta({ description: 'open: the resting ones (status new)' }),
});

export const orderPageOutput = z.object({ items: z.array(orderOutput), next_cursor: z.string().nullable() });

export const orderIdParam = z.object({ order_id: z.uuid() });

export const positionListOutput = z.object({ items: z.array(positionOutput) });

export const holdingOutput = z.object({
  asset: z.string().meta({ example: 'BTC' }),
  quantity: decimalOutput('available + locked', '0.5'),
  average_cost: z.string().nullable().meta({ description: 'average cost per unit bought, fees included' }),
  mark_price: decimalOutput('the bid', '46969.15'),
  market_value: decimalOutput('quantity × bid, quote asset', '23484.575'),
  unrealized_pnl: decimalOutput('market value − quantity × average cost', '12.5'),
});

export const portfolioOutput = z
  .object({
    wallet_id: z.uuid(),
    quote_asset: z.string(),
    holdings: z.array(holdingOutput),
    shorts: z.array(positionOutput),
    totals: z.object({
      cash: decimalOutput('quote asset, available + locked', '10000'),
      equity: decimalOutput('cash + holdings at the bid − shorts at the ask', '10012.5'),
      unrealized_pnl: decimalOutput('holdings and shorts', '12.5'),
      realized_pnl: decimalOutput('sells (average cost) and closed shorts', '0'),
      margin_used: decimalOutput('initial margin of the open shorts', '0'),
    }),
    as_of: z.string(),
  })
  .meta({ id: 'Portfolio' });

/**
 * A wallet id of the portfolio: any string up to 64 characters, so that a malformed id answers
 * 404 like any id that is not the caller's, not 422.
 */
export const portfolioWalletParam = z.object({
  wallet_id: z.string().max(64).meta({ description: 'wallet id (UUID)' }),
});
