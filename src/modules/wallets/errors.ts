import { DomainError } from '../../shared/errors.js';

/** The user already holds the most wallets allowed (409). */
export class WalletLimitError extends DomainError {
  readonly code = 'WALLET_LIMIT_REACHED';
  constructor(limit: number) {
    super(`a user may hold at most ${limit} wallets`, { limit });
  }
}

/** The asset is neither the quote asset nor the base asset of a listed market (422). */
export class UnknownAssetError extends DomainError {
  readonly code = 'UNKNOWN_ASSET';
  constructor(asset: string) {
    super(`unknown asset ${asset}: use the quote asset or the base asset of a listed market`, { asset });
  }
}
