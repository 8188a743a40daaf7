import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Apart from web.ts so that the build script can name the folder without loading Fastify's plugins.

/** Where `npm run build:web` writes the terminal (the repository's `dist/web`). */
export const WEB_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

/**
 * The terminal's own pages: each answers the app shell, so a deep link (a reload of `/orders`)
 * opens the app on that screen. Listed, not a catch-all, so an unknown path is still a JSON 404.
 */
export const WEB_APP_PATHS = [
  '/',
  '/signin',
  '/orders',
  '/positions',
  '/portfolio',
  '/transactions',
  '/bets',
  '/tracking',
  '/account',
] as const;
