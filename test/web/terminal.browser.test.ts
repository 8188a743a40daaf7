/**
 * The web terminal in a real browser (issue 19 point 6): Debian's Chromium driven by playwright-core
 * against the real program (`all` role) on the replay price source, so nothing leaves the machine.
 * On the desktop (1440×900) and the phone (390×844) viewports: create an account → 10,000 USDT →
 * buy 0.001 BTC → the balances and the orders change with no reload → the chart's last candle
 * moves → short and close it → a 5 s bet settles by stream → track a crypto → sign out. axe-core
 * on every screen; no script error, CSP violation or 5xx; no token in the DOM, storage or console.
 * Skipped where Chromium is not installed (`.ci/run` installs it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectAccessible,
  HAS_CHROMIUM,
  launchChromium,
  screenshot,
  shippedJsGzipBytes,
  watchPage,
} from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { childEnv, ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'correct horse battery staple';
/** How long the stream-driven changes get (ms): ticks every 2 s, bets settle at their due time. */
const LIVE_WAIT_MS = 20_000;

let database: TestDatabase | undefined;
let server: ServerProcess | undefined;
let browser: Browser | undefined;
let dataDir: string | undefined;
let users = 0;

/** The program's environment: the replay source (no network), this file's database and data folder. */
function serverEnv(): Record<string, string> {
  return childEnv({
    DATABASE_URL: database!.url,
    PRICE_SOURCE: 'replay',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir!,
  });
}

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'pb-web-'));
  server = await ServerProcess.start(serverEnv(), 'all');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

/** Signs up with the keyboard only: Tab to each field, type, Tab to "Create account", Enter. */
async function createAccountByKeyboard(page: Page, username: string): Promise<void> {
  for (
    let i = 0;
    i < 10 && (await page.evaluate("document.activeElement?.getAttribute('autocomplete')")) !== 'username';
    i++
  )
    await page.keyboard.press('Tab');
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Tab'); // Sign in
  await page.keyboard.press('Tab'); // Create account
  await expect.poll(() => page.evaluate('document.activeElement?.textContent')).toBe('Create account');
  await page.keyboard.press('Enter');
}

/**
 * The one journey of the issue, on one viewport: `shots` prefixes the screenshots' names, `track` is
 * the crypto to track (the tracked list is one for everyone, as in seed 004: each journey its own).
 */
async function journey(
  page: Page,
  shots: string,
  track: { symbol: string; base: string; name: string },
): Promise<void> {
  const problems = watchPage(page);
  const consoleText: string[] = [];
  page.on('console', (m) => consoleText.push(m.text()));
  const base = server!.baseUrl;
  const username = `web${process.pid}x${++users}`;

  await page.goto(`${base}/`);
  await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
  await expectAccessible(page, 'sign in');
  await screenshot(page, `${shots}-signin`);
  await createAccountByKeyboard(page, username);

  const balances = region(page, 'Balances');
  await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/USDT\s+10,000\b/);
  // A marker on the window: it is gone if anything below reloads the page.
  await page.evaluate('window.noReload = true');

  // The chart has candles, and its last one moves with the stream.
  const market = region(page, 'Market');
  const lastCandle = market.getByTestId('last-candle');
  await expect.poll(() => lastCandle.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/^Last candle/);
  expect(await market.locator('canvas').count()).toBeGreaterThan(0);
  const firstCandle = await lastCandle.innerText();
  await expect.poll(() => lastCandle.innerText(), { timeout: LIVE_WAIT_MS }).not.toBe(firstCandle);

  // Buy 0.001 BTC: the estimate shows first, then the balances and the orders change.
  const ticket = region(page, 'Order ticket');
  await ticket.getByRole('radio', { name: 'Buy', exact: true }).check();
  await ticket.getByLabel('Quantity').fill('0.001');
  await expect.poll(() => ticket.getByLabel('Estimate').innerText()).toMatch(/Notional\s+[\d,]+\.\d\d USDT/);
  await expectAccessible(page, 'trade');
  await ticket.getByRole('button', { name: 'Place order' }).dblclick();
  await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/BTC\s+0\.001\b/);
  const orders = region(page, 'Orders');
  await expect.poll(() => orders.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/BTCUSDT\s+Buy\s+0\.001/);
  // The double click placed one order (one Idempotency-Key per intended order).
  expect((await orders.innerText()).match(/BTCUSDT\s+Buy/g)).toHaveLength(1);
  await screenshot(page, `${shots}-trade`);

  // Short 0.001 BTC, then close it from the positions.
  await ticket.getByRole('radio', { name: 'Short', exact: true }).check();
  await ticket.getByLabel('Quantity').fill('0.001');
  await ticket.getByRole('button', { name: 'Place order' }).click();
  const positions = region(page, 'Positions');
  await expect.poll(() => positions.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/BTCUSDT\s+0\.001/);
  await expectAccessible(page, 'trade with a short');
  await positions.getByRole('button', { name: 'Close short BTCUSDT' }).click();
  await expect
    .poll(() => positions.innerText(), { timeout: LIVE_WAIT_MS })
    .toContain('No open short positions');
  await expect.poll(() => orders.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/Close short\s+0\.001/);

  // A 5 s bet, settled by the worker and announced by the stream.
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('link', { name: 'Bets', exact: true })
    .click();
  const bets = region(page, 'Bets');
  await bets.getByLabel('Duration (seconds)').fill('5');
  await bets.getByRole('button', { name: 'Place bet' }).click();
  await expect.poll(() => bets.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/\d+ s left|settling/);
  await expectAccessible(page, 'bets');
  await expect
    .poll(() => page.getByRole('status', { name: 'Notifications' }).innerText(), { timeout: LIVE_WAIT_MS })
    .toMatch(/Bet settled: (won|lost|draw) \((W|L|D)\)/);
  await expect.poll(() => bets.innerText()).toMatch(/(Won \(W\)|Lost \(L\)|Draw \(D\))/);
  await screenshot(page, `${shots}-bets`);

  // Track a crypto, and see its history and statistics.
  await page.getByRole('link', { name: 'Tracked' }).click();
  const tracking = region(page, 'Tracked cryptos');
  await tracking.getByLabel('Symbol to track').fill(track.symbol);
  await tracking.getByRole('button', { name: 'Track' }).click();
  await expect
    .poll(() => tracking.innerText(), { timeout: LIVE_WAIT_MS })
    .toContain(`${track.base}\t${track.name}`);
  await tracking.getByRole('button', { name: `Show ${track.base}` }).click();
  await expect.poll(() => tracking.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/Records\s+\d+/);
  await expectAccessible(page, 'tracked');
  await screenshot(page, `${shots}-tracked`);

  // The other screens: each reachable, each accessible; a deep link reloads into the app.
  for (const [link, name] of [
    ['Portfolio', 'Portfolio'],
    ['Transactions', 'Transactions'],
    ['Orders', 'Orders'],
    ['Account', 'Account'],
  ] as const) {
    await page
      .getByRole('navigation', { name: 'Screens' })
      .getByRole('link', { name: link, exact: true })
      .click();
    await region(page, name).waitFor();
    await expectAccessible(page, name);
    await screenshot(page, `${shots}-${name.toLowerCase()}`);
  }
  await expect.poll(() => region(page, 'Account').innerText()).toContain(username);
  expect(await page.evaluate('window.noReload')).toBe(true);
  await page.reload();
  await expect.poll(() => region(page, 'Account').isVisible(), { timeout: LIVE_WAIT_MS }).toBe(true);

  // No token anywhere a script or a person could read it.
  // Run in the page (the tests' own TypeScript has no DOM types): its text, storage and cookies.
  const exposed = await page.evaluate<Record<string, string>>(`({
    dom: document.documentElement.outerHTML,
    local: JSON.stringify(window.localStorage),
    session: JSON.stringify(window.sessionStorage),
    cookie: document.cookie,
  })`);
  for (const [where, text] of Object.entries(exposed)) expect(text, where).not.toMatch(/eyJ[\w-]{10,}\./);
  expect(consoleText.join('\n')).not.toMatch(/eyJ[\w-]{10,}\./);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
  expect(problems).toEqual([]);
}

describe.skipIf(!HAS_CHROMIUM)('the web terminal in Chromium', () => {
  it('runs the whole journey on the desktop', { timeout: 180_000 }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    await journey(await context.newPage(), 'desktop', { symbol: 'ETHUSDT', base: 'ETH', name: 'Ethereum' });
    await context.close();
  });

  it('runs the whole journey on a phone', { timeout: 180_000 }, async () => {
    const context = await browser!.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      // The dark theme, as a phone set to it shows it: axe checks its contrast too.
      colorScheme: 'dark',
    });
    await journey(await context.newPage(), 'phone', { symbol: 'BTCUSDT', base: 'BTC', name: 'Bitcoin' });
    await context.close();
  });

  it('moves money, says a refused order in words, changes the password and deletes the account', {
    timeout: 120_000,
  }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    const username = `acct${process.pid}`;
    await page.goto(`${server!.baseUrl}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    const balances = region(page, 'Balances');
    await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/USDT\s+10,000\b/);

    // Deposit and withdraw; a second wallet; the picker switches to it.
    await balances.getByLabel('Amount (USDT)').fill('250.5');
    await balances.getByRole('button', { name: 'Deposit' }).click();
    await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/USDT\s+10,250\.5\b/);
    await balances.getByLabel('Amount (USDT)').fill('50.5');
    await balances.getByRole('button', { name: 'Withdraw' }).click();
    await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/USDT\s+10,200\b/);
    await balances.getByLabel('Amount (USDT)').fill('1000000');
    await balances.getByRole('button', { name: 'Withdraw' }).click();
    await expect.poll(() => balances.getByRole('alert').innerText()).toMatch(/^Insufficient funds: /);
    await balances.getByLabel('Wallet name').fill('Contest');
    await balances.getByRole('button', { name: 'Create wallet' }).click();
    await expect
      .poll(() => balances.getByRole('combobox', { name: 'Wallet', exact: true }).innerText())
      .toContain('Contest');

    // An order the filters refuse, then one the wallet cannot pay: each said in words, nothing placed.
    const ticket = region(page, 'Order ticket');
    await ticket.getByLabel('Quantity').fill('0.0000001');
    await ticket.getByRole('button', { name: 'Place order' }).click();
    await expect
      .poll(() => ticket.getByRole('alert').innerText())
      .toMatch(/^The exchange’s filters refuse this order: .*LOT_SIZE/);
    await ticket.getByLabel('Quantity').fill('1000');
    await ticket.getByRole('button', { name: 'Place order' }).click();
    await expect.poll(() => ticket.getByRole('alert').innerText()).toMatch(/^Insufficient funds: /);
    expect(await region(page, 'Orders').innerText()).toContain('No orders yet');

    // Change the password, sign out, sign in with the new one, delete the account.
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    const account = region(page, 'Account');
    await account.getByLabel('Current password').fill(PASSWORD);
    await account.getByLabel('New password').fill(`${PASSWORD} 2`);
    await account.getByRole('button', { name: 'Change password' }).click();
    await expect
      .poll(() => page.getByRole('status', { name: 'Notifications' }).innerText())
      .toContain('Password changed');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/^Wrong username or password/);
    await page.getByLabel('Password').fill(`${PASSWORD} 2`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signed in again where the session ended: the account screen.
    await account.waitFor();
    await page.reload();
    await account.getByLabel('Password to confirm').fill(`${PASSWORD} 2`);
    await account.getByRole('checkbox', { name: 'I understand this cannot be undone' }).check();
    await account.getByRole('button', { name: 'Delete account' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(`${PASSWORD} 2`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/^Wrong username or password/);
    // The refused requests above are 4xx by design; none was a 5xx or a script error.
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
    await context.close();
  });

  it('ships ≤ 200 KB of gzipped JavaScript and opens a usable order ticket (reported)', {
    timeout: 400_000,
  }, async () => {
    const jsGzipBytes = shippedJsGzipBytes();
    expect(jsGzipBytes).toBeLessThanOrEqual(200 * 1024);
    // A signed-in user opening the terminal: navigation start to an enabled "Place order".
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server!.baseUrl}/`);
    await page.getByLabel('Username').fill(`load${process.pid}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await region(page, 'Balances').waitFor();
    const samples: number[] = [];
    const answers: string[] = [];
    page.on('response', (r) =>
      answers.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`),
    );
    // A response event comes with the headers: whether its body then arrived tells a hung read apart.
    page.on('requestfinished', (r) => answers.push(`body ${r.method()} ${new URL(r.url()).pathname}`));
    page.on('requestfailed', (r) =>
      answers.push(`failed ${r.method()} ${new URL(r.url()).pathname} (${r.failure()?.errorText})`),
    );
    // One load that never gets a usable ticket is tried once more (said on the console with what
    // the page showed): seen about once in ten full runs under full parallel load, never alone.
    let retriesLeft = 1;
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      answers.length = 0;
      await page.goto(`${server!.baseUrl}/`);
      const ticket = region(page, 'Order ticket');
      const placeOrder = ticket.getByRole('button', { name: 'Place order' });
      try {
        // Generous: under a loaded CI machine a load can take seconds; the figure is reported, not asserted.
        await placeOrder.and(page.locator(':enabled')).waitFor({ timeout: 60_000 });
      } catch (error) {
        // What the page showed and what the server answered, to tell why the ticket stayed disabled.
        const shown = (await page.locator('body').innerText()).slice(0, 1500);
        const ticketShown = await ticket.innerText().catch(() => '(no ticket)');
        const balancesShown = await region(page, 'Balances')
          .innerText()
          .catch(() => '(no balances)');
        const said = `load ${i}: no usable ticket. Answers: ${answers.join(', ')}. Ticket: ${ticketShown}. Balances: ${balancesShown}. Page: ${shown}`;
        if (retriesLeft-- > 0) {
          console.warn(`${said} — loading it again`);
          i -= 1;
          continue;
        }
        throw new Error(said, { cause: error });
      }
      samples.push(Date.now() - started);
    }
    samples.sort((a, b) => a - b);
    console.log(
      `web terminal: ${(jsGzipBytes / 1024).toFixed(1)} KiB of gzipped JavaScript; navigation to a usable order ticket: median ${samples[2]} ms (min ${samples[0]}, max ${samples[4]}) over 5 loads`,
    );
    await context.close();
  });

  it('renews an expired session with the refresh cookie, unseen by the user', {
    timeout: 60_000,
  }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server!.baseUrl}/`);
    await page.getByLabel('Username').fill(`renew${process.pid}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await region(page, 'Balances').waitFor();
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'pb_refresh_token')).toMatchObject({
      httpOnly: true,
      path: '/api/v1/auth',
    });
    // The access token's cookie is gone, as it is when it expires (15 min by default).
    await context.clearCookies({ name: 'pb_access_token' });
    await page.getByRole('link', { name: 'Portfolio', exact: true }).click();
    await expect
      .poll(() => region(page, 'Portfolio').innerText(), { timeout: LIVE_WAIT_MS })
      .toMatch(/Equity\s+10,000\.00 USDT/);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    expect((await context.cookies()).some((c) => c.name === 'pb_access_token')).toBe(true);
    // A reload with no access cookie at all stays signed in too.
    await context.clearCookies({ name: 'pb_access_token' });
    await page.reload();
    await expect.poll(() => region(page, 'Portfolio').isVisible(), { timeout: LIVE_WAIT_MS }).toBe(true);
    await context.close();
  });

  // Last: it restarts the server.
  it('says when the stream is lost and comes back live by itself', { timeout: 120_000 }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server!.baseUrl}/`);
    await page.getByLabel('Username').fill(`net${process.pid}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    const stream = page.getByRole('status', { name: 'Stream' });
    await expect.poll(() => stream.innerText(), { timeout: LIVE_WAIT_MS }).toBe('Live');
    const port = server!.port;
    await server!.stop();
    await expect
      .poll(() => stream.innerText(), { timeout: LIVE_WAIT_MS })
      .toMatch(/^Connection lost: reconnecting in \d+ s$/);
    server = await ServerProcess.start(serverEnv(), 'all', port);
    await expect.poll(() => stream.innerText(), { timeout: 45_000 }).toBe('Live');
    // The session cookie still holds: the balances read again once the stream is back.
    await expect
      .poll(() => region(page, 'Balances').innerText(), { timeout: LIVE_WAIT_MS })
      .toMatch(/USDT\s+10,000\b/);
    await context.close();
  });
});
