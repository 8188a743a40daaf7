import { z } from 'zod';
import { errorResponse } from '../../platform/http/schemas.js';
import { trackedOutput } from './views.js';

/** A ticker in a path or body: `BTC`, `btc` or `BTCUSDT` are one crypto. */
export const symbolInput = z.string().max(32).meta({ description: 'ticker, any case', example: 'BTC' });

export const symbolParam = z.object({ symbol: symbolInput });

export const trackBody = z.object({ symbol: symbolInput });

/** Every tracked crypto: at most 100, so one page (`next_cursor` is always null). */
export const trackedListOutput = z.object({ items: z.array(trackedOutput), next_cursor: z.null() });

/** The error answers of every tracking route but the list. */
export const trackingErrors = {
  401: errorResponse,
  404: errorResponse,
  422: errorResponse,
  503: errorResponse,
};
