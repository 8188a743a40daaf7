/**
 * The web terminal's routes (issue 19, SPEC C11): the shell at `/` and at each of its screens (a
 * deep link reloads into the app), the hashed bundle under `/assets/`, a strict Content-Security-
 * Policy with no inline script, the security headers, and the API's JSON 404 for everything else.
 * The global setup builds `dist/web` first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WEB_APP_PATHS, WEB_DIST_DIR } from '../../src/platform/http/web.js';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp();
const missing = useTestApp({ webRoot: path.join(WEB_DIST_DIR, 'no-such-build') });

describe('the web terminal', () => {
  it('answers its shell at / and at every screen, with a CSP that allows no inline script', async () => {
    for (const url of WEB_APP_PATHS) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<div id="app"></div>');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    // Every script of the shell is a file of its own: none inline.
    const shell = readFileSync(path.join(WEB_DIST_DIR, 'index.html'), 'utf8');
    for (const [tag] of shell.matchAll(/<script\b[^>]*>/g)) expect(tag).toMatch(/\bsrc="\/assets\//);
  });

  it('serves the hashed bundle for a year, and a JSON 404 for an unknown file or path', async () => {
    const shell = (await t.app.inject({ method: 'GET', url: '/' })).body;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(shell)?.[1];
    expect(script).toBeDefined();
    const js = await t.app.inject({ method: 'GET', url: script! });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/assets/no-such-file.js', '/no/such/screen']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('says how to build the terminal when it is not built, and the API still answers', async () => {
    const res = await missing.app.inject({ method: 'GET', url: '/orders' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
    expect((await missing.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  });
});
