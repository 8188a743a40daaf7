export { InvalidCredentialsError } from './errors.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { userRoutes } from './routes.js';
export { emailInput, passwordInput, usernameInput, userOutput } from './schemas.js';
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
