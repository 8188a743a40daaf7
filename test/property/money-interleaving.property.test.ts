/**
 * Serializability of the command runner: any interleaving of money commands (deposits, withdrawals,
 * the four order sides, bets) over a few wallets gives what running them one by one gives. Per run:
 * fresh users (each starts with the registration grant), ETHUSDT at a fixed quote, up to 30 random
 * commands fired concurrently in 1–3 waves (each wave all at once). Then:
 * 1. no answer is a 5xx; every refusal is the one its command may get (INSUFFICIENT_FUNDS, …);
 * 2. no balance (available or locked) is negative and the ledger reconciles;
 * 3. the accepted commands, replayed one at a time in the order of their journal ids (an operation's
 *    `id`, `orders.journal_id`, `bets.place_journal_id`) on fresh users, are all accepted again and
 *    leave the same balances per asset (available and locked) and the same open shorts;
 * 4. every refusal names a state the wallet had in that serial order: the `available` an
 *    INSUFFICIENT_FUNDS / INSUFFICIENT_MARGIN reports (and a NO_OPEN_SHORT's `open_quantity`) is a
 *    balance (an open quantity) the replay's wallet held before or after one of its steps, and the
 *    amount required exceeds it.
 */
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { isReconciled, reconcile } from '../../src/modules/ledger/index.js';
import { Decimal } from '../../src/shared/decimal.js';
import { bearer, getWallet, postOrder, registerUser, useTestApp } from '../helpers/app.js';
import { postOperation } from '../helpers/wallets.js';

const t = useTestApp();
const SYMBOL = 'ETHUSDT';
const QUOTE = { last: '2000', bid: '1999.5', ask: '2000.5' };

type Cmd =
  | { kind: 'op'; w: number; type: 'DEPOSIT' | 'WITHDRAW'; asset: 'USDT' | 'ETH'; amount: string }
  | { kind: 'order'; w: number; side: 'buy' | 'sell' | 'short' | 'close_short'; quantity: string }
  | { kind: 'bet'; w: number; direction: 'up' | 'down'; stake: string; leverage: number };

/** n / 10^scale as a decimal string */
const scaled = (min: number, max: number, scale: number) =>
  fc.integer({ min, max }).map((n) => new Decimal(n).div(10 ** scale).toFixed());
const wallet = fc.integer({ min: 0, max: 2 });

const command: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    kind: fc.constant('op' as const),
    w: wallet,
    type: fc.constantFrom('DEPOSIT' as const, 'WITHDRAW' as const),
    asset: fc.constant('USDT' as const),
    amount: scaled(1, 1_200_000, 2), // 0.01 … 12000: some withdrawals exceed the balance
  }),
  fc.record({
    kind: fc.constant('op' as const),
    w: wallet,
    type: fc.constantFrom('DEPOSIT' as const, 'WITHDRAW' as const),
    asset: fc.constant('ETH' as const),
    amount: scaled(1, 4000, 3), // 0.001 … 4 ETH
  }),
  fc.record({
    kind: fc.constant('order' as const),
    w: wallet,
    side: fc.constantFrom('buy' as const, 'sell' as const, 'short' as const, 'close_short' as const),
    quantity: scaled(1, 4000, 3), // notional up to ~8000 USDT
  }),
  fc.record({
    kind: fc.constant('bet' as const),
    w: wallet,
    direction: fc.constantFrom('up' as const, 'down' as const),
    stake: scaled(100, 800_000, 2), // 1 … 8000
    leverage: fc.integer({ min: 1, max: 10 }),
  }),
);

/** The refusals each kind of command may get (status and code). */
const REFUSALS: Record<string, string[]> = {
  op: ['400 INSUFFICIENT_FUNDS'],
  buy: ['400 INSUFFICIENT_FUNDS'],
  sell: ['400 INSUFFICIENT_FUNDS'],
  short: ['400 INSUFFICIENT_MARGIN'],
  close_short: ['409 NO_OPEN_SHORT', '400 INSUFFICIENT_FUNDS'],
  bet: ['400 INSUFFICIENT_FUNDS'],
};

type User = Awaited<ReturnType<typeof registerUser>>;

function send(user: User, cmd: Cmd): Promise<LightMyRequestResponse> {
  if (cmd.kind === 'op')
    return postOperation(t.app, user.token, user.walletId, {
      operation_type: cmd.type,
      amount: cmd.amount,
      asset: cmd.asset,
    });
  if (cmd.kind === 'order')
    return postOrder(t.app, user.token, {
      symbol: SYMBOL,
      side: cmd.side,
      quantity: cmd.quantity,
      wallet_id: user.walletId,
    });
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/bets',
    headers: bearer(user.token),
    payload: {
      wallet_id: user.walletId,
      symbol: SYMBOL,
      direction: cmd.direction,
      stake: cmd.stake,
      leverage: cmd.leverage,
      duration_seconds: 3600, // never due during the test: no settlement moves money
    },
  });
}

/** The journal a 201 answer's movement wrote. */
async function journalOf(cmd: Cmd, res: LightMyRequestResponse): Promise<number> {
  const body = res.json<{ id: string | number }>();
  if (cmd.kind === 'op') return Number(body.id);
  const rows =
    cmd.kind === 'order'
      ? await t.db.execute<{ j: string }>(sql`select journal_id::text as j from orders where id = ${body.id}`)
      : await t.db.execute<{ j: string }>(
          sql`select place_journal_id::text as j from bets where id = ${body.id}`,
        );
  expect(rows.rows, `journal of ${JSON.stringify(cmd)}`).toHaveLength(1);
  return Number(rows.rows[0]!.j);
}

/** A wallet's balances ("0" for an asset it never held) and its open ETHUSDT short, as plain strings. */
async function stateOf(user: User) {
  const wallet = await getWallet(t.app, user.token, user.walletId);
  const res = await t.app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer(user.token) });
  expect(res.statusCode, res.body).toBe(200);
  const positions = res
    .json<{
      items: {
        wallet_id: string;
        symbol: string;
        quantity: string;
        entry_price: string;
        margin: string;
        collateral: string;
      }[];
    }>()
    .items.filter((p) => p.wallet_id === user.walletId && p.symbol === SYMBOL)
    .map(({ quantity, entry_price, margin, collateral }) => ({ quantity, entry_price, margin, collateral }));
  const balances: Record<string, { available: string; locked: string }> = {};
  for (const asset of ['USDT', 'ETH']) balances[asset] = { available: '0', locked: '0' };
  for (const b of wallet.balances) balances[b.asset] = { available: b.available, locked: b.locked };
  return { balances, positions };
}

const norm = (value: unknown) => new Decimal(String(value ?? '0')).toFixed();

describe('money commands: any interleaving equals a serial order', () => {
  it('concurrent answers and balances are those of the accepted commands run one by one in journal order', async () => {
    t.binance!.setFilters(SYMBOL, { minQty: '0.001', maxQty: '9000', stepSize: '0.001', minNotional: '1' });
    t.binance!.setQuote(SYMBOL, QUOTE);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 3 }),
        fc.array(command, { minLength: 1, maxLength: 30, size: 'max' }),
        fc.integer({ min: 1, max: 3 }),
        async (userCount, raw, waveCount) => {
          const cmds = raw.map((c) => ({ ...c, w: c.w % userCount }));
          const users = await Promise.all(Array.from({ length: userCount }, () => registerUser(t.app)));
          const answers: LightMyRequestResponse[] = [];
          const size = Math.ceil(cmds.length / waveCount);
          for (let start = 0; start < cmds.length; start += size)
            answers.push(
              ...(await Promise.all(cmds.slice(start, start + size).map((c) => send(users[c.w]!, c)))),
            );

          // 1. no 5xx, and only the refusals each command may get
          const accepted: { cmd: Cmd; journal: number }[] = [];
          const refused: { cmd: Cmd; code: string; details: Record<string, unknown> }[] = [];
          for (const [i, res] of answers.entries()) {
            const cmd = cmds[i]!;
            expect(res.statusCode, `${JSON.stringify(cmd)} → ${res.body}`).toBeLessThan(500);
            if (res.statusCode === 201) {
              accepted.push({ cmd, journal: await journalOf(cmd, res) });
              continue;
            }
            const { code, details } = res.json<{
              error: { code: string; details: Record<string, unknown> };
            }>().error;
            const kind = cmd.kind === 'order' ? cmd.side : cmd.kind;
            expect(REFUSALS[kind], `${JSON.stringify(cmd)} → ${res.statusCode} ${res.body}`).toContain(
              `${res.statusCode} ${code}`,
            );
            if (cmd.kind === 'op') expect(cmd.type).toBe('WITHDRAW');
            refused.push({ cmd, code, details });
          }
          expect(new Set(accepted.map((a) => a.journal)).size).toBe(accepted.length);

          // 2. nothing negative, ledger sound
          const finals = await Promise.all(users.map(stateOf));
          for (const state of finals)
            for (const b of Object.values(state.balances)) {
              expect(new Decimal(b.available).isNegative()).toBe(false);
              expect(new Decimal(b.locked).isNegative()).toBe(false);
            }
          const report = await reconcile(t.db);
          expect(isReconciled(report), JSON.stringify(report)).toBe(true);

          // 3. the serial replay, in journal order, on fresh users
          accepted.sort((a, b) => a.journal - b.journal);
          const twins = await Promise.all(users.map(() => registerUser(t.app)));
          /** per wallet, every state of the serial order: available per asset, open quantity */
          const seen = await Promise.all(
            twins.map(async (twin) => {
              const s = await stateOf(twin);
              return {
                available: {
                  USDT: new Set([norm(s.balances.USDT!.available)]),
                  ETH: new Set([norm(s.balances.ETH!.available)]),
                } as Record<string, Set<string>>,
                open: new Set([norm(s.positions[0]?.quantity)]),
              };
            }),
          );
          for (const [n, { cmd }] of accepted.entries()) {
            const res = await send(twins[cmd.w]!, cmd);
            expect(res.statusCode, `replay step ${n} ${JSON.stringify(cmd)} → ${res.body}`).toBe(201);
            const s = await stateOf(twins[cmd.w]!);
            for (const asset of ['USDT', 'ETH'])
              seen[cmd.w]!.available[asset]!.add(norm(s.balances[asset]!.available));
            seen[cmd.w]!.open.add(norm(s.positions[0]?.quantity));
          }
          const replayed = await Promise.all(twins.map(stateOf));
          expect(replayed).toEqual(finals);

          // 4. each refusal was decided on a state of that serial order, and rightly
          for (const { cmd, code, details } of refused) {
            const why = `${JSON.stringify(cmd)} → ${code} ${JSON.stringify(details)}`;
            if (code === 'NO_OPEN_SHORT') {
              const open = norm(details.open_quantity);
              expect([...seen[cmd.w]!.open], why).toContain(open);
              expect(new Decimal((cmd as { quantity: string }).quantity).gt(open), why).toBe(true);
              continue;
            }
            const asset = String(details.asset ?? 'USDT');
            const available = norm(details.available);
            expect([...seen[cmd.w]!.available[asset]!], why).toContain(available);
            expect(new Decimal(String(details.required)).gt(available), why).toBe(true);
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);
});
