import { DomainError } from '../../shared/errors.js';

/** Only pairs quoted in the cash asset are tradable (the wallet's cash is that asset): 422. */
export class UntradableSymbolError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}

/** The fill would be worth nothing at 8 decimals: 422. */
export class OrderTooSmallError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}

/** One of Binance's symbol filters (PRICE_FILTER, LOT_SIZE, NOTIONAL) refuses the order: 422 naming the filter. */
export class FilterFailureError extends DomainError {
  readonly code = 'FILTER_FAILURE';
  constructor(
    readonly filter: 'LOT_SIZE' | 'NOTIONAL' | 'PRICE_FILTER',
    reason: string,
    details: Record<string, unknown> = {},
  ) {
    super(`Filter failure: ${filter}: ${reason}`, { filter, ...details });
  }
}

/** Not enough free quote for a short's initial margin and fee: 400. */
export class InsufficientMarginError extends DomainError {
  readonly code = 'INSUFFICIENT_MARGIN';
}

/** close_short on a wallet and symbol with no open short, or for more than is open: 409. */
export class NoOpenShortError extends DomainError {
  readonly code = 'NO_OPEN_SHORT';
}

/** A limit_maker that would fill at once (Binance: "Order would immediately match and take"): 422. */
export class WouldMatchImmediatelyError extends DomainError {
  readonly code = 'WOULD_MATCH_IMMEDIATELY';
}

/** A stop or take-profit whose trigger the last price has already reached (Binance: "Stop price would trigger immediately"): 422. */
export class WouldTriggerImmediatelyError extends DomainError {
  readonly code = 'WOULD_TRIGGER_IMMEDIATELY';
}

/** The wallet already has the most open orders allowed (Binance's MAX_NUM_ORDERS, 200): 409. */
export class TooManyOpenOrdersError extends DomainError {
  readonly code = 'TOO_MANY_OPEN_ORDERS';
}

/** Cancel or replace of an order that no longer rests (filled, canceled, expired): 409. */
export class OrderNotOpenError extends DomainError {
  readonly code = 'ORDER_NOT_OPEN';
}
