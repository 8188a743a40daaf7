export { userRoutes } from './routes.js';
export { authenticate, getUser, registerUser, type UserView } from './service.js';
