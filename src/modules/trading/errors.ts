import { DomainError } from '../../shared/errors.js';

/** Only pairs quoted in the cash asset are tradable (the wallet's cash is that asset): 422. */
export class UntradableSymbolError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}

/** The fill would be worth nothing at 8 decimals: 422. */
export class OrderTooSmallError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}
