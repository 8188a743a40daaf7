import { z } from 'zod';
import { decimalOutput } from '../../platform/http/schemas.js';
import { CANDLE_INTERVALS } from './quote.js';

export const priceOutput = z
  .object({
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    price: decimalOutput('last trade price, quote asset', '43250.12'),
    bid: decimalOutput('best bid: what a sell fills at', '43250.11'),
    ask: decimalOutput('best ask: what a buy fills at', '43250.12'),
    source: z.string().meta({ example: 'binance' }),
    as_of: z.string().meta({ description: 'when the price was true (ISO 8601 UTC)' }),
    stale: z.boolean().meta({ description: 'true when served from cache because the source is failing' }),
  })
  .meta({ id: 'Price' });

export const tickerOutput = z
  .object({
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    open: decimalOutput('first price of the window', '62636.13'),
    high: decimalOutput('highest price of the window', '63732.39'),
    low: decimalOutput('lowest price of the window', '60000'),
    last: decimalOutput('last price', '60755.18'),
    volume: decimalOutput('base asset traded in the window', '53076.8465'),
    quote_volume: decimalOutput('quote asset traded in the window', '3289695271.6771771'),
    price_change: decimalOutput('last − open', '-1880.95'),
    price_change_percent: z.string().meta({ description: '(last − open) / open × 100', example: '-3.003' }),
    open_time: z.string(),
    close_time: z.string(),
    trade_count: z.number().int().meta({ description: 'trades in the window (0 for the replay)' }),
  })
  .meta({ id: 'Ticker24h' });

export const candleOutput = z
  .object({
    open_time: z.string(),
    open: decimalOutput('open', '60685.22'),
    high: decimalOutput('high', '60729.84'),
    low: decimalOutput('low', '60670.9'),
    close: decimalOutput('close', '60719.27'),
    volume: decimalOutput('base asset traded', '21.63272'),
    close_time: z.string(),
  })
  .meta({ id: 'Candle' });

export const symbolOutput = z
  .object({
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    base_asset: z.string().meta({ example: 'BTC' }),
    quote_asset: z.string().meta({ example: 'USDT' }),
    tick_size: z.string().nullable().meta({ description: 'PRICE_FILTER tickSize' }),
    min_price: z.string().nullable().meta({ description: 'PRICE_FILTER minPrice' }),
    max_price: z.string().nullable().meta({ description: 'PRICE_FILTER maxPrice' }),
    min_qty: z.string().nullable().meta({ description: 'LOT_SIZE minQty' }),
    max_qty: z.string().nullable().meta({ description: 'LOT_SIZE maxQty' }),
    step_size: z.string().nullable().meta({ description: 'LOT_SIZE stepSize' }),
    min_notional: z.string().nullable().meta({ description: 'NOTIONAL (or MIN_NOTIONAL) minNotional' }),
  })
  .meta({ id: 'MarketSymbol' });

export const feesOutput = z
  .object({
    quote_asset: z.string().meta({ example: 'USDT' }),
    taker_fee_rate: decimalOutput('fee of each fill, a fraction of its notional (quote asset)', '0.001'),
    short_initial_margin_rate: decimalOutput('margin a short locks, a fraction of its notional', '0.5'),
    short_maintenance_margin_rate: decimalOutput('equity below which a short is liquidated', '0.3'),
  })
  .meta({ id: 'TradingFees' });

/** `BTCUSDT` or `BTC` (the route checks it: 2–20 letters or digits). */
export const symbolParam = z.object({ symbol: z.string().max(32).meta({ example: 'BTCUSDT' }) });

/** Comma-separated symbols; the route takes 1 to 100 of them. */
export const pricesQuery = z.object({
  symbols: z.string().min(1).max(2000).meta({
    description: 'comma-separated, at most 100: BTCUSDT,ETHUSDT or BTC,ETH',
    example: 'BTCUSDT,ETHUSDT',
  }),
});

export const pricesOutput = z.object({
  items: z.array(priceOutput),
  unknown_symbols: z.array(z.string()).meta({ description: 'symbols the source does not list' }),
});

export const candlesQuery = z.object({
  interval: z.enum(CANDLE_INTERVALS).default('1m').meta({ description: 'Binance’s kline intervals' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: '1–1000' }),
});

export const candlesOutput = z.object({
  symbol: z.string(),
  interval: z.string(),
  items: z.array(candleOutput),
});

export const symbolListOutput = z.object({ items: z.array(symbolOutput) });
