import { DomainError } from '../../shared/errors.js';

/** The upstream does not list this symbol (Binance `{"code":-1121,"msg":"Invalid symbol."}`): 404. */
export class UnknownSymbolError extends DomainError {
  readonly code = 'UNKNOWN_SYMBOL';
  constructor(symbol: string) {
    super(`unknown symbol ${symbol}`, { symbol });
  }
}

/** The upstream failed (network, timeout, 5xx, 429/418, malformed body); retried within a bound. */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
  constructor(
    message: string,
    /** seconds the upstream asked us to wait (429/418 `Retry-After`), if any */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/**
 * No price young enough for the purpose can be had: 503 with `Retry-After` (1 s, or what is left of
 * the upstream's own 429/418 `Retry-After`). Nothing was changed.
 */
export class PriceUnavailableError extends DomainError {
  readonly code = 'PRICE_UNAVAILABLE';
  constructor(symbol: string, reason: string, retryAfterSeconds = 1) {
    super(`no fresh price for ${symbol}: ${reason}`, {
      symbol,
      retry_after_seconds: String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}
