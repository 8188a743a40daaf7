export {
  AlreadyTrackedError,
  CoinNamesUnavailableError,
  NotTrackedError,
  TrackedLimitReachedError,
} from './errors.js';
export { escapeHtml, priceChart, sendPageError, trackingPages } from './pages.js';
export {
  createTrackingService,
  startTrackingJobs,
  type TrackingProcessDeps,
  trackingPolls,
} from './poll.job.js';
export { bearerSecurity, type TrackingRoutesDeps, trackingRoutes } from './routes.js';
export { symbolInput } from './schemas.js';
export {
  type CoinDirectory,
  type HistoryPoint,
  type PollOutcome,
  TRACKED_COUNT_MAX,
  type TrackedCrypto,
  TrackingService,
} from './service.js';
export { computeStats, type PriceStats } from './stats.js';
export { historyView, statsView, trackedView } from './views.js';
