import { DomainError } from '../../shared/errors.js';

/** A wallet account would go below zero: nothing was moved (400, as seed 003 answers an overdraw). */
export class InsufficientFundsError extends DomainError {
  readonly code = 'INSUFFICIENT_FUNDS';
}
