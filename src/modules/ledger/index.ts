export {
  type AccountPurpose,
  type AccountRef,
  available,
  betEscrow,
  type LockPurpose,
  orderReserve,
  type SystemAccountName,
  shortCollateral,
  system,
} from './accounts.js';
export { BalanceLimitError, InsufficientFundsError, type JournalRefusal } from './errors.js';
export {
  comparePurposeBalances,
  type EntriesReport,
  isReconciled,
  type PurposeCheck,
  type PurposeExpectation,
  type PurposeMismatch,
  type ReconcileReport,
  reconcile,
  reconcileEntries,
} from './invariants.js';
export { isRefusal, type JournalRequest, Ledger, type PostedJournal, type Posting } from './journal.js';
export {
  type AssetBalance,
  type HistoryEntry,
  type HistoryJournal,
  type PurposeBalance,
  readPurposeBalances,
  readWalletBalances,
  readWalletHistory,
} from './repository.js';
