export { startLiquidationJob } from './liquidation.js';
export { OrderCommand } from './order-command.js';
export { reconcileShortCollateral, shortCollateralCheck } from './reconcile.js';
export { orderRoutes, portfolioRoutes, positionRoutes } from './routes.js';
export { placeOrder, type TradingDeps, tradableSymbol } from './service.js';
