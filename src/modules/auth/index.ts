export { hashPassword, verifyPassword } from './passwords.js';
export { type AuthRoutesDeps, authRoutes } from './routes.js';
export { emailInput, passwordInput, usernameInput } from './schemas.js';
export { resolveJwtSecret } from './secret.js';
export { TokenService } from './tokens.js';
