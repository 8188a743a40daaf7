/**
 * Wallets and seed 003's operations when the request is right: named wallets that start empty,
 * deposits and withdrawals in the quote asset and in BTC (the fake Binance quotes BTCUSDT, so BTC is
 * a known asset), a DEPOSIT to a wallet id nobody holds creating that wallet, and the history —
 * its shape, every operation in it exactly once with the balance_after the running total gives,
 * and pages walked with the cursor without a gap or a duplicate. Amounts are compared as exact
 * decimal strings; the ledger is reconciled after every test (useTestApp).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/shared/decimal.js';
import { bearer, getWallet, registerUser, useTestApp } from '../../helpers/app.js';
import {
  createWallet,
  getHistoryPage,
  type HistoryItem,
  type OperationBody,
  postOperation,
  readHistory,
  walletEntry,
} from '../../helpers/wallets.js';

const t = useTestApp();
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function deposit(token: string, walletId: string, amount: unknown, asset?: string) {
  const res = await postOperation(t.app, token, walletId, { operation_type: 'DEPOSIT', amount, asset });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<OperationBody>();
}

async function withdraw(token: string, walletId: string, amount: unknown, asset?: string) {
  const res = await postOperation(t.app, token, walletId, { operation_type: 'WITHDRAW', amount, asset });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<OperationBody>();
}

function balancesOf(wallet: { balances: { asset: string; available: string }[] }): Record<string, string> {
  return Object.fromEntries(wallet.balances.map((b) => [b.asset, b.available]));
}

describe('wallets', () => {
  it('creates named wallets that start empty and lists them after the default one', async () => {
    const user = await registerUser(t.app);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallets',
      headers: bearer(user.token),
      payload: { name: '  Bot 1  ' },
    });
    expect(created.statusCode).toBe(201);
    const bot = created.json();
    expect(bot).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Bot 1',
      is_default: false,
      balance: '0',
      balances: [{ asset: 'USDT', available: '0', locked: '0' }],
      created_at: expect.stringMatching(ISO_INSTANT),
    });
    const unicode = await createWallet(t.app, user.token, 'Ünïcødé 🚀 кошелёк');
    expect(unicode.name).toBe('Ünïcødé 🚀 кошелёк');
    const longest = await createWallet(t.app, user.token, 'w'.repeat(64));
    expect(longest.name).toBe('w'.repeat(64));

    const one = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${bot.id}`,
      headers: bearer(user.token),
    });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(bot);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(user.token) });
    expect(list.statusCode).toBe(200);
    const { items, next_cursor } = list.json();
    expect(next_cursor).toBeNull();
    expect(items.map((w: { id: string }) => w.id)).toEqual([user.walletId, bot.id, unicode.id, longest.id]);
    expect(items[0]).toMatchObject({ name: 'Main', is_default: true, balance: '10000' });
  });
});

describe('deposit and withdraw', () => {
  it('moves the quote asset to the last decimal and answers the seed 003 body', async () => {
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);

    const res = await postOperation(t.app, user.token, wallet.id, {
      operation_type: 'DEPOSIT',
      amount: '100.12345678',
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.json()).toEqual({
      id: expect.any(Number),
      wallet_id: wallet.id,
      operation_type: 'DEPOSIT',
      asset: 'USDT',
      amount: '100.12345678',
      created_at: expect.stringMatching(ISO_INSTANT),
    });
    expect(Number.isSafeInteger(res.json().id)).toBe(true);
    expect((await getWallet(t.app, user.token, wallet.id)).balance).toBe('100.12345678');

    const out = await withdraw(user.token, wallet.id, '0.00000001');
    expect(out).toMatchObject({ operation_type: 'WITHDRAW', asset: 'USDT', amount: '0.00000001' });
    expect(out.id).toBeGreaterThan(res.json().id);
    expect((await getWallet(t.app, user.token, wallet.id)).balance).toBe('100.12345677');

    // The whole balance can be withdrawn: the wallet ends at exactly zero, not below.
    await withdraw(user.token, wallet.id, '100.12345677');
    const emptied = await getWallet(t.app, user.token, wallet.id);
    expect(emptied.balance).toBe('0');
    expect(emptied.balances).toEqual([{ asset: 'USDT', available: '0', locked: '0' }]);
  });

  // Each form a client may send, and the decimal string the API answers for it.
  const amountForms: [string, unknown, string][] = [
    ['a decimal string', '250.5', '250.5'],
    ['a decimal string with trailing zeros', '100.50000000', '100.5'],
    ['an integer string', '7', '7'],
    ['a JSON number', 12.25, '12.25'],
    ['a JSON integer', 3, '3'],
    ['a JSON number in exponent form', 1e5, '100000'],
    ['a JSON number with 15 significant digits', 1234567.12345678, '1234567.12345678'],
    ['the smallest amount', '0.00000001', '0.00000001'],
    ['a string with spaces around it', ' 42 ', '42'],
    ['a large amount (15 digits)', `9${'0'.repeat(14)}`, `9${'0'.repeat(14)}`],
    ['the largest balance an account holds (10^15)', '1000000000000000.00000000', '1000000000000000'],
    ['just below it, to the last decimal', `${'9'.repeat(15)}.99999999`, `${'9'.repeat(15)}.99999999`],
  ];
  it.each(amountForms)(
    'accepts %s and answers it as a canonical decimal string',
    async (_name, amount, text) => {
      const user = await registerUser(t.app);
      const wallet = await createWallet(t.app, user.token);
      const op = await deposit(user.token, wallet.id, amount);
      expect(op.amount).toBe(text);
      expect((await getWallet(t.app, user.token, wallet.id)).balance).toBe(text);
      await withdraw(user.token, wallet.id, text);
      expect((await getWallet(t.app, user.token, wallet.id)).balance).toBe('0');
    },
  );

  it('accepts a JSON number with few significant digits but many zeros, like its string form', async () => {
    // SPEC §3: a JSON number is refused only when it has more than 15 significant digits. 1e15 has one
    // (and is exactly a double); as the string "1000000000000000" it is accepted.
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);
    const res = await postOperation(
      t.app,
      user.token,
      wallet.id,
      '{"operation_type":"DEPOSIT","amount":1e15}',
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().amount).toBe(`1${'0'.repeat(15)}`);
  });

  it('holds several assets: BTC moves without touching the USDT balance', async () => {
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);
    await deposit(user.token, wallet.id, '1000');
    const btc = await deposit(user.token, wallet.id, '0.5', 'BTC');
    expect(btc).toMatchObject({ asset: 'BTC', amount: '0.5', wallet_id: wallet.id });
    // The asset is case-insensitive on input and always answered upper-case.
    expect(await deposit(user.token, wallet.id, 0.25, 'btc')).toMatchObject({ asset: 'BTC', amount: '0.25' });
    expect(await deposit(user.token, wallet.id, '1', 'usdt')).toMatchObject({ asset: 'USDT', amount: '1' });

    let after = await getWallet(t.app, user.token, wallet.id);
    expect(after.balance).toBe('1001');
    expect(after.balances).toEqual([
      { asset: 'BTC', available: '0.75', locked: '0' },
      { asset: 'USDT', available: '1001', locked: '0' },
    ]);

    await withdraw(user.token, wallet.id, '0.7', 'BTC');
    const refused = await postOperation(t.app, user.token, wallet.id, {
      operation_type: 'WITHDRAW',
      amount: '0.05000001',
      asset: 'BTC',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      error: {
        code: 'INSUFFICIENT_FUNDS',
        message: expect.any(String),
        details: { asset: 'BTC', available: '0.05', required: '0.05000001' },
      },
    });
    await withdraw(user.token, wallet.id, '0.05', 'BTC');
    after = await getWallet(t.app, user.token, wallet.id);
    // An asset at zero is no longer listed; the quote asset always is.
    expect(after.balances).toEqual([{ asset: 'USDT', available: '1001', locked: '0' }]);

    // Each asset's entries chain on their own account.
    const history = await readHistory(t.app, user.token, wallet.id);
    const btcAfter = history
      .filter((j) => walletEntry(j, wallet.id).asset === 'BTC')
      .map((j) => walletEntry(j, wallet.id).balance_after)
      .reverse();
    expect(btcAfter).toEqual(['0.5', '0.75', '0.05', '0']);
    const usdtAfter = history
      .filter((j) => walletEntry(j, wallet.id).asset === 'USDT')
      .map((j) => walletEntry(j, wallet.id).balance_after)
      .reverse();
    expect(usdtAfter).toEqual(['1000', '1001']);
  });

  it('a DEPOSIT to a wallet id nobody holds creates that wallet for the caller', async () => {
    const user = await registerUser(t.app);
    const id = randomUUID();
    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${id}`,
      headers: bearer(user.token),
    });
    expect(missing.statusCode).toBe(404);

    const op = await deposit(user.token, id, '42');
    expect(op).toMatchObject({ wallet_id: id, operation_type: 'DEPOSIT', amount: '42' });
    const wallet = await getWallet(t.app, user.token, id);
    expect(wallet).toEqual({
      id,
      name: 'Wallet',
      is_default: false,
      balance: '42',
      balances: [{ asset: 'USDT', available: '42', locked: '0' }],
      created_at: expect.stringMatching(ISO_INSTANT),
    });
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(user.token) });
    expect(list.json().items.map((w: { id: string }) => w.id)).toEqual([user.walletId, id]);

    // The same id written in upper case is the same wallet (UUIDs are case-insensitive).
    const again = await deposit(user.token, id.toUpperCase(), '8');
    expect(again.wallet_id).toBe(id);
    expect((await getWallet(t.app, user.token, id)).balance).toBe('50');

    // A first operation in another asset creates the wallet too.
    const btcId = randomUUID();
    expect(await deposit(user.token, btcId, '0.1', 'BTC')).toMatchObject({ wallet_id: btcId, asset: 'BTC' });
    expect(balancesOf(await getWallet(t.app, user.token, btcId))).toEqual({ BTC: '0.1', USDT: '0' });
  });

  it('a WITHDRAW from a wallet id nobody holds answers 404 and creates nothing', async () => {
    const user = await registerUser(t.app);
    const id = randomUUID();
    const res = await postOperation(t.app, user.token, id, { operation_type: 'WITHDRAW', amount: '1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
    const after = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallets/${id}`,
      headers: bearer(user.token),
    });
    expect(after.statusCode).toBe(404);
  });
});

describe('history', () => {
  it('shows each operation as a journal of two entries, newest first', async () => {
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);
    const empty = await getHistoryPage(t.app, user.token, wallet.id);
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ items: [], next_cursor: null });

    const d = await deposit(user.token, wallet.id, '10');
    const w = await withdraw(user.token, wallet.id, '3.5');
    const res = await getHistoryPage(t.app, user.token, wallet.id);
    expect(res.statusCode).toBe(200);
    const { items, next_cursor } = res.json<{ items: HistoryItem[]; next_cursor: string | null }>();
    expect(next_cursor).toBeNull();
    expect(items.map((i) => i.id)).toEqual([w.id, d.id]);
    const accountOf = (entries: HistoryItem['entries'], walletId: string | null) =>
      entries.find((e) => e.wallet_id === walletId)!.account_id;
    const walletAccount = accountOf(items[0]!.entries, wallet.id);
    const fundingAccount = accountOf(items[0]!.entries, null);
    expect(items[0]).toEqual({
      id: w.id,
      kind: 'withdrawal',
      metadata: { operation_type: 'WITHDRAW', wallet_id: wallet.id },
      created_at: w.created_at,
      entries: expect.arrayContaining([
        {
          account_id: walletAccount,
          wallet_id: wallet.id,
          account: 'available',
          asset: 'USDT',
          amount: '-3.5',
          balance_after: '6.5',
        },
        {
          account_id: fundingAccount,
          wallet_id: null,
          account: 'funding',
          asset: 'USDT',
          amount: '3.5',
          balance_after: null,
        },
      ]),
    });
    expect(items[1]).toEqual({
      id: d.id,
      kind: 'deposit',
      metadata: { operation_type: 'DEPOSIT', wallet_id: wallet.id },
      created_at: d.created_at,
      entries: expect.arrayContaining([
        {
          account_id: walletAccount,
          wallet_id: wallet.id,
          account: 'available',
          asset: 'USDT',
          amount: '10',
          balance_after: '10',
        },
        {
          account_id: fundingAccount,
          wallet_id: null,
          account: 'funding',
          asset: 'USDT',
          amount: '-10',
          balance_after: null,
        },
      ]),
    });
    for (const item of items) expect(item.entries).toHaveLength(2);
  });

  it('starts a new user’s default wallet with the registration grant', async () => {
    const user = await registerUser(t.app);
    const history = await readHistory(t.app, user.token, user.walletId);
    expect(history).toHaveLength(1);
    expect(history[0]!.kind).toBe('registration_grant');
    expect(walletEntry(history[0]!, user.walletId)).toMatchObject({
      asset: 'USDT',
      amount: '10000',
      balance_after: '10000',
    });
  });

  it('walks every page with the cursor: each operation once, newest first, balance_after exact', async () => {
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);
    // 37 operations with a running total that stays ≥ 0: deposits of i.01, a withdrawal every third.
    const ops: { id: number; balanceAfter: string }[] = [];
    let balance = new Decimal(0);
    for (let i = 1; i <= 37; i++) {
      const amount = i % 3 === 0 ? balance.div(2).toDecimalPlaces(8) : new Decimal(i).plus('0.01');
      const op =
        i % 3 === 0
          ? await withdraw(user.token, wallet.id, amount.toFixed())
          : await deposit(user.token, wallet.id, amount.toFixed());
      balance = i % 3 === 0 ? balance.minus(amount) : balance.plus(amount);
      ops.push({ id: op.id, balanceAfter: balance.toFixed() });
    }
    const newestFirst = [...ops].reverse();

    for (const limit of [1, 5, 36, 37, 100]) {
      const seen: number[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await getHistoryPage(
          t.app,
          user.token,
          wallet.id,
          `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.statusCode).toBe(200);
        const page = res.json<{ items: HistoryItem[]; next_cursor: string | null }>();
        pageSizes.push(page.items.length);
        for (const item of page.items) {
          seen.push(item.id);
          const expected = ops.find((o) => o.id === item.id);
          expect(walletEntry(item, wallet.id).balance_after).toBe(expected?.balanceAfter);
        }
        cursor = page.next_cursor;
        expect(pageSizes.length).toBeLessThanOrEqual(37);
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual(newestFirst.map((o) => o.id));
      expect(new Set(seen).size).toBe(37);
      // Full pages, then the rest; no empty page at the end.
      const full = Math.floor(37 / limit);
      const rest = 37 % limit;
      expect(pageSizes).toEqual([...Array(full).fill(limit), ...(rest ? [rest] : [])]);
    }

    // Without a limit a page holds 50.
    const defaultPage = (await getHistoryPage(t.app, user.token, wallet.id)).json();
    expect(defaultPage.items).toHaveLength(37);
    expect(defaultPage.next_cursor).toBeNull();
    expect((await getWallet(t.app, user.token, wallet.id)).balance).toBe(balance.toFixed());
  });

  it('the default page holds 50 journals and the cursor leads to the rest', async () => {
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);
    const ids: number[] = [];
    for (let i = 0; i < 55; i++) ids.push((await deposit(user.token, wallet.id, '1')).id);
    const first = (await getHistoryPage(t.app, user.token, wallet.id)).json();
    expect(first.items).toHaveLength(50);
    expect(typeof first.next_cursor).toBe('string');
    const second = (await getHistoryPage(t.app, user.token, wallet.id, `cursor=${first.next_cursor}`)).json();
    expect(second.items).toHaveLength(5);
    expect(second.next_cursor).toBeNull();
    expect([...first.items, ...second.items].map((i: HistoryItem) => i.id)).toEqual(ids.reverse());
    expect(second.items.map((i: HistoryItem) => walletEntry(i, wallet.id).balance_after)).toEqual([
      '5',
      '4',
      '3',
      '2',
      '1',
    ]);
  });

  it('a new operation after a page was read does not shift the pages that follow', async () => {
    const user = await registerUser(t.app);
    const wallet = await createWallet(t.app, user.token);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push((await deposit(user.token, wallet.id, '1')).id);
    const first = (await getHistoryPage(t.app, user.token, wallet.id, 'limit=3')).json();
    await deposit(user.token, wallet.id, '1');
    const second = (
      await getHistoryPage(t.app, user.token, wallet.id, `limit=3&cursor=${first.next_cursor}`)
    ).json();
    expect([...first.items, ...second.items].map((i: HistoryItem) => i.id)).toEqual([...ids].reverse());
  });
});
