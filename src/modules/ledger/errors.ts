import { DomainError } from '../../shared/errors.js';

/** A wallet account would go below zero: nothing was moved (400, as seed 003 answers an overdraw). */
export class InsufficientFundsError extends DomainError {
  readonly code = 'INSUFFICIENT_FUNDS';
}

/**
 * A wallet account would exceed `BALANCE_MAX` (10^15 of its asset), or an amount could never be held
 * (an order's notional, a bet's best-case payout beyond it): nothing was moved (422, as an
 * overflowing amount is answered).
 */
export class BalanceLimitError extends DomainError {
  readonly code = 'BALANCE_LIMIT_EXCEEDED';
}

/** Why the ledger refused a journal; it wrote nothing for it. */
export type JournalRefusal = InsufficientFundsError | BalanceLimitError;
