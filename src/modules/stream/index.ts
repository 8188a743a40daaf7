export { type StreamClient, StreamHub } from './hub.js';
export { refreshIntervalMs, startPriceRefresh } from './refresh.js';
export { type StreamRoutesDeps, streamRoutes } from './routes.js';
