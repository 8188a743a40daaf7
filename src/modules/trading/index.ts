export { startLiquidationJob } from './liquidation.js';
export { matchAll, startOrderMatcher } from './matcher.js';
export { OrderCommand } from './order-command.js';
export { orderReserveCheck, reconcileShortCollateral, shortCollateralCheck } from './reconcile.js';
export { RestingOrderCommand } from './resting-command.js';
export { orderRoutes, portfolioRoutes, positionRoutes } from './routes.js';
export { placeOrder, type TradingDeps } from './service.js';
export { tradableSymbol } from './symbols.js';
