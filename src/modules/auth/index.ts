export { clearAuthCookie, setAuthCookie } from './cookie.js';
export { type AuthRoutesDeps, authRoutes } from './routes.js';
export { resolveJwtSecret } from './secret.js';
export { type IssuedTokens, type RevokeReason, SessionService } from './sessions.js';
export { type LoginLimits, LoginThrottle } from './throttle.js';
export { TokenService } from './tokens.js';
