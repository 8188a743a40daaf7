import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { WEB_DIST_DIR } from '../../src/platform/http/web.js';
import { REPO_ROOT } from './server-process.js';

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it), or `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

/**
 * Headless Chromium as root with no sandbox, and nothing of its own on the network: this machine's
 * network is closed, and background fetches (updates, sync, safe browsing) would only fail.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where the screenshots go: `docs/screenshots` with UPDATE_SCREENSHOTS=1 (committed), else test output. */
export const SCREENSHOT_DIR = path.join(
  REPO_ROOT,
  process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots',
);

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** axe-core on the page as it is: no serious or critical violation (their ids and nodes in the message). */
export async function expectAccessible(page: Page, screen: string): Promise<number> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(said, `axe on ${screen}`).toEqual([]);
  return result.violations.length;
}

/** The JavaScript the terminal ships, gzipped (bytes): every .js file of the build. */
export function shippedJsGzipBytes(): number {
  const assets = path.join(WEB_DIST_DIR, 'assets');
  return readdirSync(assets)
    .filter((f) => f.endsWith('.js'))
    .reduce((sum, f) => sum + gzipSync(readFileSync(path.join(assets, f)), { level: 9 }).length, 0);
}

/**
 * Watches a page for what must never happen: a script error, a CSP violation, a 5xx answer, a
 * console error other than the 401 of the first `/users/me` (how the app learns nobody is signed in).
 */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (/status of 401/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}
