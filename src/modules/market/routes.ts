import type { FastifyInstance, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { SymbolBudget } from '../../platform/http/public-limits.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { formatDecimal } from '../../shared/decimal.js';
import { ValidationError } from '../../shared/errors.js';
import type { Quote } from './quote.js';
import {
  candlesOutput,
  candlesQuery,
  feesOutput,
  priceOutput,
  pricesOutput,
  pricesQuery,
  symbolListOutput,
  symbolParam,
  tickerOutput,
} from './schemas.js';
import type { PriceService, ServedQuote } from './service.js';

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

/** What the market routes read: the prices and the exchange's fees. */
interface MarketRoutesDeps {
  prices: PriceService;
  fees: TradingFees;
  /** the per-client-address limit of these public routes (`perAddressRateLimit`) */
  publicLimit: onRequestAsyncHookHandler;
  /** the distinct symbols a client address may make the server fetch per minute (`symbolBudget`) */
  symbolBudget: SymbolBudget;
}

/**
 * Public market data: prices (one or many), 24 h tickers, candles and the tradable symbols.
 * `BTC` means `BTC` + the quote asset.
 */
export async function marketRoutes(app: FastifyInstance, deps: MarketRoutesDeps): Promise<void> {
  app.addHook('onRequest', deps.publicLimit);
  registerPriceList(app, deps);
  registerMarketStats(app, deps);
  registerExchangeInfo(app, deps);
  registerPrice(app, deps);
}

/** `symbolOf(text)`: the symbol `text` names (`BTC` → `BTCUSDT`); a malformed one → 422. */
function symbolReader(prices: PriceService): (text: string) => string {
  return (text) => {
    const symbol = prices.normalizeSymbol(text);
    if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
    return symbol;
  };
}

// The price routes answer views this module builds itself from validated quotes: they are sent
// with JSON.stringify rather than validated again on the way out (the hot path of every client).
const plainJson = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };

/** `GET /prices?symbols=…`: several prices in one upstream batch. */
function registerPriceList(app: FastifyInstance, deps: MarketRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const symbolOf = symbolReader(deps.prices);

  r.get(
    '/prices',
    {
      ...plainJson,
      schema: {
        tags: ['market'],
        summary: 'Current prices of several symbols at once (one upstream batch for all)',
        querystring: pricesQuery,
        response: { 200: pricesOutput, 422: errorResponse, 429: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) => {
      const parts = request.query.symbols
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      if (parts.length === 0 || parts.length > SYMBOLS_PER_REQUEST_MAX)
        throw new ValidationError(`give 1 to ${SYMBOLS_PER_REQUEST_MAX} symbols, separated by commas`);
      const symbols = parts.map(symbolOf);
      await deps.symbolBudget(
        request,
        reply,
        symbols.filter((symbol) => !deps.prices.freshQuote(symbol)),
      );
      const { quotes, unknown } = await deps.prices.getQuotes(symbols, 'read');
      return { items: quotes.map(toPriceView), unknown_symbols: unknown };
    },
  );
}

/** `GET /tickers/{symbol}` (24 h statistics) and `GET /candles/{symbol}` (OHLCV). */
function registerMarketStats(app: FastifyInstance, deps: MarketRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const symbolOf = symbolReader(deps.prices);

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
          429: errorResponse,
          501: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const symbol = symbolOf(request.params.symbol);
      await deps.symbolBudget(request, reply, [symbol]);
      const t = await deps.prices.getTicker24h(symbol);
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
        querystring: candlesQuery,
        response: {
          200: candlesOutput,
          404: errorResponse,
          422: errorResponse,
          429: errorResponse,
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
}

/** `GET /fees` and `GET /symbols`: what the exchange charges and lists. */
function registerExchangeInfo(app: FastifyInstance, deps: MarketRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/fees',
    {
      schema: {
        tags: ['market'],
        summary: 'The fee and margin rates every order pays and needs (for estimates before sending)',
        response: { 200: feesOutput, 429: errorResponse },
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
        response: { 200: symbolListOutput, 429: errorResponse, 501: errorResponse, 503: errorResponse },
      },
    },
    async () => ({
      items: (await deps.prices.getSymbols()).map((s) => ({
        symbol: s.symbol,
        base_asset: s.baseAsset,
        quote_asset: s.quoteAsset,
        tick_size: orNull(s.tickSize),
        min_price: orNull(s.minPrice),
        max_price: orNull(s.maxPrice),
        min_qty: orNull(s.minQty),
        max_qty: orNull(s.maxQty),
        step_size: orNull(s.stepSize),
        min_notional: orNull(s.minNotional),
      })),
    }),
  );
}

/** `GET /prices/{symbol}`: the hot path, a fresh quote's body kept ready as JSON. */
function registerPrice(app: FastifyInstance, deps: MarketRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const symbolOf = symbolReader(deps.prices);
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
        response: {
          200: priceOutput,
          404: errorResponse,
          422: errorResponse,
          429: errorResponse,
          503: errorResponse,
        },
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
      // Only a symbol the cache does not hold now costs the client's symbol budget.
      return deps
        .symbolBudget(request, reply as FastifyReply, [symbol])
        .then(() => deps.prices.getQuote(symbol, 'read'))
        .then(toPriceView);
    },
  );
}
