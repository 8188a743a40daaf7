import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { WEB_APP_PATHS, WEB_DIST_DIR } from './web-paths.js';

export { WEB_APP_PATHS, WEB_DIST_DIR };

/**
 * The Content-Security-Policy of the terminal: its own scripts, styles and connections only (the
 * stream is a same-origin WebSocket), no inline script or style element, no framing.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // helmet's default upgrade-insecure-requests would send a plain-HTTP deployment (and loopback) to https.
  upgradeInsecureRequests: null,
};

/** Hashed bundle files never change under their name: cached for a year. */
const ASSET_CACHE = 'public, max-age=31536000, immutable';

/**
 * The web terminal (SPEC C11): the built single-page app from `root` at `/` (its shell at each of
 * `WEB_APP_PATHS`, its hashed files under `/assets/`), with security headers (@fastify/helmet) and a
 * strict CSP on these routes. When the terminal is not built, its pages answer 503 saying how to
 * build it; the API is unaffected.
 *
 * @param options `root`: the built terminal's folder (default `dist/web`)
 */
export async function webRoutes(app: FastifyInstance, options: { root?: string }): Promise<void> {
  const root = options.root ?? WEB_DIST_DIR;
  const shellFile = path.join(root, 'index.html');
  await app.register(helmet, {
    contentSecurityPolicy: { directives: CSP_DIRECTIVES },
    // The API's own answers are read by the same origin only; cross-origin isolation is not needed.
    crossOriginEmbedderPolicy: false,
  });
  if (!existsSync(shellFile)) {
    for (const url of WEB_APP_PATHS) {
      app.get(url, { schema: { hide: true } }, (_request, reply) =>
        reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send('The web terminal is not built: run `npm run build:web` (npm start does it).\n'),
      );
    }
    return;
  }
  // Read once: the shell is small and the same for every page.
  const shell = readFileSync(shellFile);
  const sendShell = (reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(shell);
  for (const url of WEB_APP_PATHS)
    app.get(url, { schema: { hide: true } }, (_request, reply) => sendShell(reply));
  await app.register(fastifyStatic, {
    root: path.join(root, 'assets'),
    prefix: '/assets/',
    // One route per built file (found at start), no catch-all: an unknown asset is the JSON 404.
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders: (res) => res.header('cache-control', ASSET_CACHE),
    schemaHide: true,
  });
}
