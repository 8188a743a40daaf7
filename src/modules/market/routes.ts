import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { decimalOutput, errorResponse } from '../../platform/http/schemas.js';
import { formatDecimal } from '../../shared/decimal.js';
import { ValidationError } from '../../shared/errors.js';
import { CANDLE_INTERVALS, type Quote } from './quote.js';
import type { PriceService, ServedQuote } from './service.js';

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

/** The wire form of a quote. */
export function toPriceView(quote: ServedQuote): z.infer<typeof priceOutput> {
  return {
    symbol: quote.symbol,
    price: formatDecimal(quote.last),
    bid: formatDecimal(quote.bid),
    ask: formatDecimal(quote.ask),
    source: quote.source,
    as_of: new Date(quote.asOfMs).toISOString(),
    stale: quote.stale,
  };
}

const tickerOutput = z
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

const candleOutput = z
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

const symbolOutput = z
  .object({
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    base_asset: z.string().meta({ example: 'BTC' }),
    quote_asset: z.string().meta({ example: 'USDT' }),
    tick_size: z.string().nullable().meta({ description: 'PRICE_FILTER tickSize' }),
    min_qty: z.string().nullable().meta({ description: 'LOT_SIZE minQty' }),
    max_qty: z.string().nullable().meta({ description: 'LOT_SIZE maxQty' }),
    step_size: z.string().nullable().meta({ description: 'LOT_SIZE stepSize' }),
    min_notional: z.string().nullable().meta({ description: 'NOTIONAL (or MIN_NOTIONAL) minNotional' }),
  })
  .meta({ id: 'MarketSymbol' });

const feesOutput = z
  .object({
    quote_asset: z.string().meta({ example: 'USDT' }),
    taker_fee_rate: decimalOutput('fee of each fill, a fraction of its notional (quote asset)', '0.001'),
    short_initial_margin_rate: decimalOutput('margin a short locks, a fraction of its notional', '0.5'),
    short_maintenance_margin_rate: decimalOutput('equity below which a short is liquidated', '0.3'),
  })
  .meta({ id: 'TradingFees' });

/** What this exchange charges and requires (decimal strings, fractions): what an estimate needs. */
export interface TradingFees {
  quoteAsset: string;
  takerFeeRate: string;
  shortInitialMarginRate: string;
  shortMaintenanceMarginRate: string;
}

/** Symbols whose price body is kept at most (the map is emptied when full). */
const PRICE_BODIES_MAX = 10_000;

/** Symbols per `GET /market/prices?symbols=` request at most. */
const SYMBOLS_PER_REQUEST_MAX = 100;

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = (text: string | undefined) => (text === undefined ? null : formatDecimal(text));

/**
 * Public market data: prices (one or many), 24 h tickers, candles and the tradable symbols.
 * `BTC` means `BTC` + the quote asset.
 */
export async function marketRoutes(
  app: FastifyInstance,
  deps: { prices: PriceService; fees: TradingFees },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // The JSON body of each symbol's fresh quote, made once per quote: a hot symbol is read far more
  // often than it changes.
  const bodies = new Map<string, { quote: Quote; body: string }>();
  const bodyOf = (quote: Quote): string => {
    const kept = bodies.get(quote.symbol);
    if (kept?.quote === quote) return kept.body;
    if (bodies.size >= PRICE_BODIES_MAX) bodies.clear();
    const body = JSON.stringify(toPriceView({ ...quote, stale: false }));
    bodies.set(quote.symbol, { quote, body });
    return body;
  };
  const symbolOf = (text: string): string => {
    const symbol = deps.prices.normalizeSymbol(text);
    if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
    return symbol;
  };
  const symbolParam = z.object({ symbol: z.string().max(32).meta({ example: 'BTCUSDT' }) });
  // The price routes answer views this module builds itself from validated quotes: they are sent
  // with JSON.stringify rather than validated again on the way out (the hot path of every client).
  const plainJson = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };

  r.get(
    '/prices',
    {
      ...plainJson,
      schema: {
        tags: ['market'],
        summary: 'Current prices of several symbols at once (one upstream batch for all)',
        querystring: z.object({
          symbols: z.string().min(1).max(2000).meta({
            description: 'comma-separated, at most 100: BTCUSDT,ETHUSDT or BTC,ETH',
            example: 'BTCUSDT,ETHUSDT',
          }),
        }),
        response: {
          200: z.object({
            items: z.array(priceOutput),
            unknown_symbols: z.array(z.string()).meta({ description: 'symbols the source does not list' }),
          }),
          422: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request) => {
      const parts = request.query.symbols
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      if (parts.length === 0 || parts.length > SYMBOLS_PER_REQUEST_MAX)
        throw new ValidationError(`give 1 to ${SYMBOLS_PER_REQUEST_MAX} symbols, separated by commas`);
      const { quotes, unknown } = await deps.prices.getQuotes(parts.map(symbolOf), 'read');
      return { items: quotes.map(toPriceView), unknown_symbols: unknown };
    },
  );

  r.get(
    '/tickers/:symbol',
    {
      schema: {
        tags: ['market'],
        summary: '24 h statistics of a symbol',
        params: symbolParam,
        response: {
          200: tickerOutput,
          404: errorResponse,
          422: errorResponse,
          501: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request) => {
      const t = await deps.prices.getTicker24h(symbolOf(request.params.symbol));
      return {
        symbol: t.symbol,
        open: formatDecimal(t.open),
        high: formatDecimal(t.high),
        low: formatDecimal(t.low),
        last: formatDecimal(t.last),
        volume: formatDecimal(t.volume),
        quote_volume: formatDecimal(t.quoteVolume),
        price_change: formatDecimal(t.priceChange),
        price_change_percent: t.priceChangePercent,
        open_time: iso(t.openTimeMs),
        close_time: iso(t.closeTimeMs),
        trade_count: t.tradeCount,
      };
    },
  );

  r.get(
    '/candles/:symbol',
    {
      schema: {
        tags: ['market'],
        summary: 'OHLCV candles of a symbol, oldest first',
        params: symbolParam,
        querystring: z.object({
          interval: z.enum(CANDLE_INTERVALS).default('1m').meta({ description: 'Binance’s kline intervals' }),
          limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: '1–1000' }),
        }),
        response: {
          200: z.object({ symbol: z.string(), interval: z.string(), items: z.array(candleOutput) }),
          404: errorResponse,
          422: errorResponse,
          501: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request) => {
      const symbol = symbolOf(request.params.symbol);
      const { interval, limit } = request.query;
      const candles = await deps.prices.getCandles(symbol, interval, limit);
      return {
        symbol,
        interval,
        items: candles.map((c) => ({
          open_time: iso(c.openTimeMs),
          open: formatDecimal(c.open),
          high: formatDecimal(c.high),
          low: formatDecimal(c.low),
          close: formatDecimal(c.close),
          volume: formatDecimal(c.volume),
          close_time: iso(c.closeTimeMs),
        })),
      };
    },
  );

  r.get(
    '/fees',
    {
      schema: {
        tags: ['market'],
        summary: 'The fee and margin rates every order pays and needs (for estimates before sending)',
        response: { 200: feesOutput },
      },
    },
    async () => ({
      quote_asset: deps.fees.quoteAsset,
      taker_fee_rate: formatDecimal(deps.fees.takerFeeRate),
      short_initial_margin_rate: formatDecimal(deps.fees.shortInitialMarginRate),
      short_maintenance_margin_rate: formatDecimal(deps.fees.shortMaintenanceMarginRate),
    }),
  );

  r.get(
    '/symbols',
    {
      schema: {
        tags: ['market'],
        summary: 'Symbols tradable against the quote asset, with Binance’s filters',
        response: { 200: z.object({ items: z.array(symbolOutput) }), 501: errorResponse, 503: errorResponse },
      },
    },
    async () => ({
      items: (await deps.prices.getSymbols()).map((s) => ({
        symbol: s.symbol,
        base_asset: s.baseAsset,
        quote_asset: s.quoteAsset,
        tick_size: orNull(s.tickSize),
        min_qty: orNull(s.minQty),
        max_qty: orNull(s.maxQty),
        step_size: orNull(s.stepSize),
        min_notional: orNull(s.minNotional),
      })),
    }),
  );
  r.get(
    '/prices/:symbol',
    {
      ...plainJson,
      // The symbol is checked by `symbolOf` (letters and digits, 2–20): the schema only documents it.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
      schema: {
        tags: ['market'],
        summary: 'Current price, best bid and ask of a symbol (BTCUSDT or BTC)',
        params: symbolParam,
        response: { 200: priceOutput, 404: errorResponse, 422: errorResponse, 503: errorResponse },
      },
    },
    (request, reply) => {
      const symbol = symbolOf(request.params.symbol);
      const fresh = deps.prices.freshQuote(symbol);
      // The body is JSON already: sent as it is, with no serializer run.
      if (fresh) {
        (reply as FastifyReply).type('application/json; charset=utf-8').send(bodyOf(fresh));
        return;
      }
      return deps.prices.getQuote(symbol, 'read').then(toPriceView);
    },
  );
}
