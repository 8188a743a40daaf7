export { userRoutes } from './routes.js';
export {
  authenticate,
  createFundedUser,
  getProfile,
  getUser,
  type RegistrationDeps,
  registerUser,
  type UserView,
} from './service.js';
