/**
 * Resting orders in the web terminal (issue 17 point 6), in Debian's Chromium: the ticket shows
 * only the fields of the chosen type; a limit buy below the market appears in "Open orders", is
 * edited (a cancel-replace of its price) and canceled; a second one fills when the fake Binance's
 * price moves through it (the app runs its jobs, so the matcher fills it on the fetched price), and
 * the history says its type, limit price and fill price; an OCO on what it bought is canceled with
 * "Cancel all". Every step is seen on the screen through the account stream, with its toast.
 * The app is built in process (`jobs: true`) over the fake Binance, served on loopback.
 * Skipped where Chromium is not installed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, listenOnLoopback, type TestApp } from '../helpers/app.js';
import { expectAccessible, HAS_CHROMIUM, launchChromium, screenshot, watchPage } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { movePrice, type TestQuote } from '../helpers/resting.js';

const PASSWORD = 'correct horse battery staple';
/** How long a change by the stream gets (ms): the matcher passes at least every second. */
const LIVE_WAIT_MS = 15_000;
const START: TestQuote = { last: '60000', bid: '59999.99', ask: '60000' };
/** Through the second order's limit (59,500): the matcher fills it at its limit price. */
const DOWN: TestQuote = { last: '59400', bid: '59399.99', ask: '59400' };

let database: TestDatabase | undefined;
let built: TestApp | undefined;
let baseUrl = '';
let browser: Browser | undefined;

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  database = await createTestDatabase();
  // Every read fetches: each price the test sets is the next one the matcher sees.
  built = await buildTestApp(database.db, { env: { PRICE_CACHE_TTL_MS: '0' }, jobs: true });
  baseUrl = await listenOnLoopback(built.app);
  await movePrice(built.app, built.binance!, 'BTCUSDT', START);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await built?.close();
  await database?.drop();
});

const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });
const notifications = (page: Page) => page.getByRole('status', { name: 'Notifications' });

/** The labels of the ticket's fields that are on screen now. */
async function ticketFields(page: Page): Promise<string[]> {
  const labels = region(page, 'Order ticket').locator('label.field > span');
  return (await labels.allInnerTexts()).map((t) => t.trim());
}

describe.skipIf(!HAS_CHROMIUM)('resting orders in the web terminal', () => {
  it('places, edits and cancels a limit order, fills one when the price moves, cancels an OCO', {
    timeout: 120_000,
  }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Username').fill(`rest${process.pid}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    const balances = region(page, 'Balances');
    await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/USDT\s+10,000\b/);
    const ticket = region(page, 'Order ticket');
    const open = region(page, 'Open orders');
    await expect.poll(() => open.innerText()).toContain('No open orders.');

    // Each type shows the fields it takes, and only those.
    const type = ticket.getByRole('combobox', { name: 'Order type' });
    const expected: [string, string[]][] = [
      ['market', ['Symbol', 'Order type', 'Quantity']],
      ['limit', ['Symbol', 'Order type', 'Quantity', 'Limit price (USDT)', 'Time in force']],
      ['limit_maker', ['Symbol', 'Order type', 'Quantity', 'Limit price (USDT)']],
      ['stop_loss', ['Symbol', 'Order type', 'Quantity', 'Stop price (USDT)']],
      [
        'take_profit_limit',
        ['Symbol', 'Order type', 'Quantity', 'Limit price (USDT)', 'Stop price (USDT)', 'Time in force'],
      ],
    ];
    for (const [value, fields] of expected) {
      await type.selectOption(value);
      expect(await ticketFields(page), value).toEqual(fields);
    }
    expect(await ticket.getByRole('group', { name: 'Size in' }).count()).toBe(0);

    // A limit buy below the market rests: it is in the open orders, announced as placed.
    await type.selectOption('limit');
    await ticket.getByLabel('Quantity').fill('0.01');
    await ticket.getByLabel('Limit price (USDT)').fill('59000');
    await expect.poll(() => ticket.getByLabel('Estimate').innerText()).toMatch(/Notional\s+590\.00 USDT/);
    await ticket.getByRole('button', { name: 'Place order' }).click();
    await expect
      .poll(() => ticket.getByRole('status').innerText())
      .toBe('Last order: Buy 0.01 BTCUSDT limit at 59,000: open');
    await expect
      .poll(() => open.innerText(), { timeout: LIVE_WAIT_MS })
      .toMatch(/BTCUSDT\s+Buy\s+Limit\s+0\.01\s+59,000\s+—\s+GTC/);
    await expect
      .poll(() => notifications(page).innerText(), { timeout: LIVE_WAIT_MS })
      .toContain('Order placed: Buy 0.01 BTCUSDT limit at 59,000');
    await expect.poll(() => balances.innerText()).toMatch(/USDT\s+9,409\.41\s+590\.59/);
    await expectAccessible(page, 'trade with an open order');

    // Edit its price: a cancel-replace, the new price in the list, the old one gone.
    await open.getByRole('button', { name: 'Edit Buy 0.01 BTCUSDT limit at 59,000' }).click();
    const edit = open.getByRole('form', { name: 'Edit Buy 0.01 BTCUSDT limit at 59,000' });
    await edit.getByLabel('New limit price').fill('58500');
    await expectAccessible(page, 'editing an open order');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => open.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/Limit\s+0\.01\s+58,500\s/);
    expect(await open.innerText()).not.toContain('59,000');
    expect(await edit.count()).toBe(0);
    await expect
      .poll(() => notifications(page).innerText(), { timeout: LIVE_WAIT_MS })
      .toContain('Order placed: Buy 0.01 BTCUSDT limit at 58,500');

    // Cancel it: the list is empty, the reservation back.
    await open.getByRole('button', { name: 'Cancel Buy 0.01 BTCUSDT limit at 58,500' }).click();
    await expect.poll(() => open.innerText(), { timeout: LIVE_WAIT_MS }).toContain('No open orders.');
    await expect
      .poll(() => notifications(page).innerText(), { timeout: LIVE_WAIT_MS })
      .toContain('Canceled: Buy 0.01 BTCUSDT limit at 58,500');
    await expect.poll(() => balances.innerText()).toMatch(/USDT\s+10,000\s+0\b/);

    // Another at 59,500 fills when the price comes down through it, at its limit price.
    await ticket.getByLabel('Quantity').fill('0.01');
    await ticket.getByLabel('Limit price (USDT)').fill('59500');
    await ticket.getByRole('button', { name: 'Place order' }).click();
    await expect.poll(() => open.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/Limit\s+0\.01\s+59,500\s/);
    await movePrice(built!.app, built!.binance!, 'BTCUSDT', DOWN);
    await expect
      .poll(() => notifications(page).innerText(), { timeout: LIVE_WAIT_MS })
      .toContain('Filled: Buy 0.01 BTCUSDT at 59,500');
    await expect.poll(() => open.innerText(), { timeout: LIVE_WAIT_MS }).toContain('No open orders.');
    await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/BTC\s+0\.01\b/);
    const orders = region(page, 'Orders');
    await expect
      .poll(() => orders.innerText(), { timeout: LIVE_WAIT_MS })
      .toMatch(/BTCUSDT\s+Buy\s+0\.01\s+Limit\s+59,500\s+59,500\s+595\.00\s+[\d.]+\s+filled/);
    expect(await orders.innerText()).toMatch(/BTCUSDT\s+Buy\s+0\.01\s+Limit\s+58,500\s+—\s+—\s+—\s+canceled/);
    await screenshot(page, 'resting-orders-filled');

    // A sell OCO on what it bought: two legs in the list, both gone with "Cancel all".
    await ticket.getByRole('radio', { name: 'Sell', exact: true }).check();
    await ticket.getByRole('radio', { name: 'OCO (one cancels the other)' }).check();
    expect(await ticketFields(page)).toEqual([
      'Symbol',
      'Quantity',
      'Limit price (USDT)',
      'Stop price (USDT)',
      'Stop limit price (USDT, optional)',
    ]);
    await ticket.getByLabel('Quantity').fill('0.01');
    await ticket.getByLabel('Limit price (USDT)').fill('61000');
    await ticket.getByLabel('Stop price (USDT)').fill('58000');
    await ticket.getByRole('button', { name: 'Place order' }).click();
    await expect
      .poll(() => open.innerText(), { timeout: LIVE_WAIT_MS })
      .toMatch(/Sell\s+Limit maker \(OCO\)\s+0\.01\s+61,000\s/);
    expect(await open.innerText()).toMatch(/Sell\s+Stop loss \(OCO\)\s+0\.01\s+—\s+58,000\s/);
    expect(await open.getByRole('button', { name: /^Edit / }).count()).toBe(0);
    await expectAccessible(page, 'trade with an OCO');
    await screenshot(page, 'resting-orders-oco');
    await open.getByRole('button', { name: 'Cancel all on BTCUSDT' }).click();
    await expect.poll(() => open.innerText(), { timeout: LIVE_WAIT_MS }).toContain('No open orders.');
    await expect.poll(() => balances.innerText(), { timeout: LIVE_WAIT_MS }).toMatch(/BTC\s+0\.01\s+0\b/);

    // The orders screen lists the open orders too.
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await region(page, 'Open orders').waitFor();
    await expectAccessible(page, 'orders');
    expect(problems).toEqual([]);
    await context.close();
  });
});
