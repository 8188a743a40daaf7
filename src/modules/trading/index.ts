export { startLiquidationJob } from './liquidation.js';
export { OrderCommand } from './order-command.js';
export { orderRoutes, portfolioRoutes, positionRoutes } from './routes.js';
export { placeOrder, type TradingDeps, tradableSymbol } from './service.js';
