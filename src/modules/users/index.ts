export { userRoutes } from './routes.js';
export {
  authenticate,
  createFundedUser,
  getUser,
  type RegistrationDeps,
  registerUser,
  type UserView,
} from './service.js';
