import { DomainError } from '../../shared/errors.js';

/** A bet outside the configured limits (leverage, stake, duration) or on an untradable symbol: 422. */
export class BetLimitError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}
