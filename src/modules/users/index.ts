export { userRoutes } from './routes.js';
export {
  authenticate,
  createFundedUser,
  getProfile,
  getUser,
  type RegistrationDeps,
  registerUser,
  setUserRole,
  type UserView,
} from './service.js';
