import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type Schemas = components['schemas'];
export type User = Schemas['User'];
export type Wallet = Schemas['Wallet'];
export type Order = Schemas['Order'];
export type Position = Schemas['Position'];
export type Bet = Schemas['Bet'];
export type Portfolio = Schemas['Portfolio'];
export type JournalTransaction = Schemas['JournalTransaction'];
export type TrackedCrypto = Schemas['TrackedCrypto'];
export type TrackedStats = Schemas['TrackedStats'];
export type TrackedHistory = Schemas['TrackedHistory'];
export type Candle = Schemas['Candle'];
export type Ticker24h = Schemas['Ticker24h'];
export type MarketSymbol = Schemas['MarketSymbol'];
export type TradingFees = Schemas['TradingFees'];
export type OrderSide = Order['side'];
export type OrderType = Order['type'];
export type TimeInForce = NonNullable<Order['time_in_force']>;

/**
 * The API client, typed from the server's own `/openapi.json` (openapi-typescript): a path, a
 * parameter or a field the document does not have fails the build. Auth is the HttpOnly cookie set
 * at sign-in, sent by the browser; no token is ever held by this code.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });

/** An answer other than 2xx, in words a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What an error code means, said first; the server's own message follows (it names the filter, the asset). */
const LEADS: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Insufficient funds',
  INSUFFICIENT_MARGIN: 'Insufficient margin',
  FILTER_FAILURE: 'The exchange’s filters refuse this order',
  PRICE_UNAVAILABLE: 'No fresh price right now: try again in a moment',
  SERVICE_BUSY: 'The server is busy: try again in a moment',
  SERVICE_UNAVAILABLE: 'The server is unavailable: try again in a moment',
  VALIDATION_ERROR: 'Check the form',
  INVALID_CREDENTIALS: 'Wrong username or password',
  INVALID_CURRENT_PASSWORD: 'The current password is wrong',
  USERNAME_TAKEN: 'This username is taken',
  RATE_LIMITED: 'Too many requests: wait a moment',
  NO_OPEN_SHORT: 'No open short to close',
  UNKNOWN_SYMBOL: 'Unknown symbol',
  ALREADY_TRACKED: 'Already tracked',
  WALLET_LIMIT_REACHED: 'You have as many wallets as allowed',
  BALANCE_LIMIT_EXCEEDED: 'This would exceed the balance limit',
  WOULD_MATCH_IMMEDIATELY: 'This order would fill at once',
  WOULD_TRIGGER_IMMEDIATELY: 'The price has already reached this stop',
  TOO_MANY_OPEN_ORDERS: 'Too many open orders in this wallet',
  ORDER_NOT_OPEN: 'This order is no longer open',
};

interface ErrorBody {
  error?: { code?: string; message?: string };
}

let onUnauthorized: () => void = () => undefined;

/** Called when an answer says the session is over (401 UNAUTHORIZED): the app shows the sign-in. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

let renewing: Promise<boolean> | undefined;

/** Asks for a new access token with the HttpOnly refresh cookie; true when the session goes on. */
async function refreshOnce(): Promise<boolean> {
  // Another tab may have renewed the session meanwhile (the cookies are shared): then it works as it is.
  const me = await fetch('/api/v1/users/me', { credentials: 'same-origin' });
  if (me.ok) return true;
  const renewed = await fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' });
  return renewed.ok;
}

/**
 * Renews the session once for every caller that found it expired (the access token lives minutes,
 * the refresh cookie days). Tabs take turns through a Web Lock: a refresh token works once, and two
 * tabs presenting it together would end the session as stolen.
 */
export function renewSession(): Promise<boolean> {
  renewing ??= inTurn()
    .catch(() => false)
    .finally(() => {
      renewing = undefined;
    });
  return renewing;
}

async function inTurn(): Promise<boolean> {
  if (!navigator.locks) return refreshOnce();
  return await navigator.locks.request('paperbroker-session', () => refreshOnce());
}

/**
 * The data of a call, or an `ApiError` with the server's error in words. An answer that says the
 * session expired (401 UNAUTHORIZED) renews it and sends the request once more; when that fails, the
 * app shows the sign-in.
 *
 * @throws {ApiError} on any non-2xx answer, or status 0 when the server cannot be reached
 */
export async function call<T>(request: () => Promise<Answer<T>>): Promise<T> {
  let result: Answer<T>;
  try {
    result = await request();
    if (result.response.status === 401 && codeOf(result) === 'UNAUTHORIZED' && (await renewSession()))
      result = await request();
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached: check your connection.');
  }
  const { data, response } = result;
  if (response.ok) return data as T;
  const code = codeOf(result);
  if (code === 'UNAUTHORIZED') onUnauthorized();
  const said = (result.error as ErrorBody | undefined)?.error?.message ?? response.statusText;
  const lead = LEADS[code];
  throw new ApiError(response.status, code, lead ? `${lead}: ${said}` : said);
}

function codeOf(result: Answer<unknown>): string {
  return (result.error as ErrorBody | undefined)?.error?.code ?? `HTTP_${result.response.status}`;
}

/** A fresh Idempotency-Key: one per intended action, so a double click or a retry applies it once. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** The message of anything thrown, for the screen. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
