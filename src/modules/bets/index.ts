export { startBetJobs } from './jobs.js';
export { type BetDirection, type BetOutcome, type BetResult, betOutcome } from './payout.js';
export { betEscrowCheck, reconcileBetEscrow } from './reconcile.js';
export type { BetRow } from './repository.js';
export { answerPlaceBet, betRoutes } from './routes.js';
export {
  BullMqSettlementScheduler,
  createSettlementScheduler,
  InProcessSettlementScheduler,
  type SettlementScheduler,
} from './scheduler.js';
export { placeBetErrorResponses } from './schemas.js';
export {
  betLimitsOf,
  getBet,
  type PlaceBetDeps,
  type PlaceBetInput,
  type PreparedBet,
  placeBet,
  placeBetCommand,
} from './service.js';
export {
  LATE_GRACE_MS,
  type SettleDeps,
  type SettleOutcome,
  type SweepResult,
  settleBet,
  settleBets,
  settlementPostings,
  sweepDueBets,
} from './settlement.js';
export { type BetView, toBetView } from './views.js';
