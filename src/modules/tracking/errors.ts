import { DomainError } from '../../shared/errors.js';

/** The symbol is not on the tracked list (404). */
export class NotTrackedError extends DomainError {
  readonly code = 'NOT_TRACKED';
  constructor(symbol: string) {
    super(`${symbol} is not tracked`, { symbol });
  }
}

/** The symbol is already on the tracked list (409). */
export class AlreadyTrackedError extends DomainError {
  readonly code = 'ALREADY_TRACKED';
  constructor(symbol: string) {
    super(`${symbol} is already tracked`, { symbol });
  }
}

/** The tracked list is full (409): every poll must stay one upstream call. */
export class TrackedLimitReachedError extends DomainError {
  readonly code = 'TRACKED_LIMIT_REACHED';
  constructor(countMax: number) {
    super(`at most ${countMax} cryptos can be tracked; remove one first`, { count_max: countMax });
  }
}

/** CoinGecko cannot name the coin now (its list or market caps cannot be had): 503, nothing stored. */
export class CoinNamesUnavailableError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(symbol: string) {
    super(`the coin list (CoinGecko) cannot be reached to name ${symbol}; try again`, {
      symbol,
      retry_after_seconds: '1',
    });
  }
}
