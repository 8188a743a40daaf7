import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { decimalOutput, errorResponse } from '../../platform/http/schemas.js';
import { formatDecimal } from '../../shared/decimal.js';
import { ValidationError } from '../../shared/errors.js';
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

/** `GET /api/v1/market/prices/{symbol}` (public). */
export async function marketRoutes(app: FastifyInstance, deps: { prices: PriceService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/prices/:symbol',
    {
      schema: {
        tags: ['market'],
        summary: 'Current price, best bid and ask of a symbol (BTCUSDT or BTC)',
        params: z.object({ symbol: z.string().max(32).meta({ example: 'BTCUSDT' }) }),
        response: { 200: priceOutput, 404: errorResponse, 422: errorResponse, 503: errorResponse },
      },
    },
    async (request) => {
      const symbol = deps.prices.normalizeSymbol(request.params.symbol);
      if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
      return toPriceView(await deps.prices.getQuote(symbol, 'read'));
    },
  );
}
