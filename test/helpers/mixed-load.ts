/**
 * The mixed load sent to the real program run as a child process (helpers/server-process.ts): a few
 * registered users send deposits, withdrawals, market orders on all four sides (buy, sell, short,
 * close_short), limit buys (most rest, reserving their cost; those above the ask fill at once) and
 * bets of 1–3 s, each request with its own Idempotency-Key. The crash test
 * (test/crash/mixed.crash.test.ts) sends bursts of it before each kill; the soak (bench/soak.ts)
 * sends bursts of it for minutes. No vitest here: the soak runs outside the test runner.
 */
import { Decimal } from '../../src/shared/decimal.js';
import { call } from './http.js';

/** What a mixed request does: a wallet operation, a market order's side, a limit buy, or a bet. */
export type MixedKind = 'DEPOSIT' | 'WITHDRAW' | 'buy' | 'sell' | 'short' | 'close_short' | 'limit' | 'bet';

/** One request of a burst, with the key it is sent with and the user (an index) it is sent as. */
export interface MixedRequest {
  key: string;
  kind: MixedKind;
  user: number;
  method: 'POST';
  url: string;
  body: Record<string, unknown>;
}

/** A registered user of the load: its bearer token, its default wallet and its id. */
export interface MixedUser {
  token: string;
  walletId: string;
  userId: string;
}

/** The share of each kind in a burst (they sum to 1). */
const KIND_SHARES: readonly (readonly [MixedKind, number])[] = [
  ['DEPOSIT', 0.16],
  ['WITHDRAW', 0.14],
  ['buy', 0.16],
  ['sell', 0.1],
  ['short', 0.12],
  ['close_short', 0.1],
  ['limit', 0.08],
  ['bet', 0.14],
];

/** The password of every load user (registration's rules accept it). */
const PASSWORD = 'correct horse battery';

/**
 * Registers `count` users `<prefix>_<i>` through the API and reads their default wallet and id.
 * @throws {Error} when a registration or a read does not answer 2xx
 */
export async function registerMixedUsers(
  target: string | { baseUrl: string },
  prefix: string,
  count: number,
): Promise<MixedUser[]> {
  const users: MixedUser[] = [];
  for (let u = 0; u < count; u++) {
    const registered = await call(target, 'POST', '/api/v1/auth/register', {
      body: { username: `${prefix}_${u}`, password: PASSWORD },
    });
    if (registered.status !== 201)
      throw new Error(`register ${prefix}_${u}: ${registered.status} ${registered.body}`);
    const token = registered.json.access_token as string;
    const wallets = await call(target, 'GET', '/api/v1/wallets', { token });
    const me = await call(target, 'GET', '/api/v1/users/me', { token });
    if (wallets.status !== 200 || me.status !== 200)
      throw new Error(`wallets ${wallets.status} ${wallets.body}; users/me ${me.status} ${me.body}`);
    const wallet = (wallets.json.items as { id: string }[])[0]!;
    users.push({ token, walletId: wallet.id, userId: me.json.id as string });
  }
  return users;
}

function pickKind(pick: number): MixedKind {
  let cumulative = 0;
  for (const [kind, share] of KIND_SHARES) {
    cumulative += share;
    if (pick < cumulative) return kind;
  }
  return 'bet';
}

/**
 * One burst of the mixed load, `size` requests drawn from `random`. Amounts and stakes carry the
 * request's global number (`round × size + i + 1`) in their last decimals, so a journal or bet
 * found in the database names its request; orders name theirs by client_order_id (the key,
 * `mixed-<round>-<i>`).
 */
export function mixedBurst(
  round: number,
  size: number,
  random: () => number,
  users: MixedUser[],
): MixedRequest[] {
  return Array.from({ length: size }, (_, i): MixedRequest => {
    const n = round * size + i + 1;
    const key = `mixed-${round}-${i}`;
    const user = Math.floor(random() * users.length);
    const kind = pickKind(random());
    const unique = (whole: number) => new Decimal(whole).plus(new Decimal(n).div(100_000_000)).toFixed();
    const walletId = users[user]!.walletId;
    const request = { key, kind, user, method: 'POST' } as const;
    if (kind === 'DEPOSIT' || kind === 'WITHDRAW')
      return {
        ...request,
        url: `/api/v1/wallets/${walletId}/operation`,
        body: { operation_type: kind, amount: unique(Math.floor(random() * 800) + 1) },
      };
    if (kind === 'bet')
      return {
        ...request,
        url: '/api/v1/bets',
        body: {
          wallet_id: walletId,
          symbol: 'BTCUSDT',
          direction: random() < 0.5 ? 'up' : 'down',
          stake: unique(Math.floor(random() * 50) + 5),
          leverage: Math.floor(random() * 10) + 1,
          duration_seconds: Math.round((1 + random() * 2) * 1000) / 1000,
        },
      };
    if (kind === 'limit')
      return {
        ...request,
        url: '/api/v1/orders',
        body: {
          wallet_id: walletId,
          symbol: 'BTCUSDT',
          side: 'buy',
          type: 'limit',
          price: String(55_000 + Math.floor(random() * 7_000)),
          quantity: '0.001',
          client_order_id: key,
        },
      };
    const amount =
      kind === 'buy' || kind === 'short'
        ? { quote_amount: String(Math.floor(random() * 200) + 50) }
        : { quantity: (Math.floor(random() * 3) + 1) / 1000 };
    return {
      ...request,
      url: '/api/v1/orders',
      body: { wallet_id: walletId, symbol: 'BTCUSDT', side: kind, client_order_id: key, ...amount },
    };
  });
}

/**
 * Sends `request` as its user with its Idempotency-Key.
 * @throws {Error} when the connection fails or no answer comes within `timeoutMs`
 */
export async function sendMixed(
  target: string | { baseUrl: string },
  users: MixedUser[],
  request: MixedRequest,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const answer = await call(target, request.method, request.url, {
    token: users[request.user]!.token,
    body: request.body,
    headers: { 'idempotency-key': request.key },
    timeoutMs,
  });
  return { status: answer.status, body: answer.body };
}
