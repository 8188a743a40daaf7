export { orderRoutes } from './routes.js';
export { type OrderView, placeOrder } from './service.js';
