export { startBetJobs } from './jobs.js';
export { type BetDirection, type BetOutcome, type BetResult, betOutcome } from './payout.js';
export type { BetRow } from './repository.js';
export { answerPlaceBet, betRoutes, placeBetErrorResponses } from './routes.js';
export {
  BullMqSettlementScheduler,
  createSettlementScheduler,
  InProcessSettlementScheduler,
  type SettlementScheduler,
} from './scheduler.js';
export {
  type BetView,
  betLimitsOf,
  getBet,
  type PlaceBetDeps,
  type PlaceBetInput,
  placeBet,
  type SettleDeps,
  SettlementBatcher,
  settleBet,
  settleBets,
  sweepDueBets,
  toBetView,
} from './service.js';
