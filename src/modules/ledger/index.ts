export { type AccountRef, available, locked, type SystemAccountName, system } from './accounts.js';
export { BalanceLimitError, InsufficientFundsError, type JournalRefusal } from './errors.js';
export { isReconciled, type ReconcileReport, reconcile } from './invariants.js';
export { isRefusal, type JournalRequest, Ledger, type PostedJournal, type Posting } from './journal.js';
export {
  type AssetBalance,
  type HistoryEntry,
  type HistoryJournal,
  readWalletBalances,
  readWalletHistory,
} from './repository.js';
