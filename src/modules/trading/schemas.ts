import { z } from 'zod';
import { idempotencyKeyHeader } from '../../platform/http/idempotency.js';
import { decimalOutput, pageQuery, positiveAmountInput } from '../../platform/http/schemas.js';
import { ORDER_SIDES } from './fills.js';

export const orderOutput = z
  .object({
    id: z.uuid(),
    client_order_id: z.string().nullable(),
    wallet_id: z.uuid(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    side: z.enum(ORDER_SIDES),
    quantity: decimalOutput('base asset', '0.01'),
    price: decimalOutput('fill price, quote asset per base unit', '46969.15'),
    notional: decimalOutput('price × quantity, quote asset', '469.6915'),
    fee: decimalOutput('taker fee, quote asset', '0.4696915'),
    status: z.literal('filled'),
    position_id: z.uuid().nullable().meta({ description: 'the short a short or close_short belongs to' }),
    realized_pnl: z
      .string()
      .nullable()
      .meta({ description: 'close_short only: (entry − exit) × quantity − both legs’ fees, quote asset' }),
    liquidation: z.boolean().meta({ description: 'true for a close_short made by the liquidation job' }),
    created_at: z.string(),
  })
  .meta({ id: 'Order' });

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
    client_order_id: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,48}$/, '1–48 letters, digits, "_", ".", ":" or "-"')
      .optional()
      .meta({ description: 'unique per user: a repeat returns the first order (200)' }),
  })
  .refine((body) => (body.quantity === undefined) !== (body.quote_amount === undefined), {
    message: 'give exactly one of quantity and quote_amount',
    path: ['quantity'],
  });

export const placeOrderHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });

/** A page of the caller's orders, optionally of one symbol or side. */
export const orderListQuery = pageQuery.extend({
  symbol: z.string().min(1).max(32).optional().meta({ description: 'BTCUSDT or BTC' }),
  side: z.enum(ORDER_SIDES).optional(),
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
