/**
 * The bench's users: made directly through `createFundedUser`, not through the register route, all
 * with one bcrypt hash (one hash per user would cost a bcrypt round each); each gets a session of
 * its own, because access tokens are checked against their session.
 */
import { randomBytes } from 'node:crypto';
import { SessionService } from '../../src/modules/auth/sessions.js';
import { TokenService } from '../../src/modules/auth/tokens.js';
import { Ledger } from '../../src/modules/ledger/journal.js';
import { hashPassword } from '../../src/modules/users/index.js';
import { createFundedUser } from '../../src/modules/users/service.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import type { Db } from '../../src/platform/db/client.js';
import { systemClock } from '../../src/shared/clock.js';
import { mapConcurrently } from './concurrency.js';

/** The users made once before the first scenario, for the scenarios that ask for them (`orders`, `spread`). */
export const USER_COUNT = 1_000;
/** What each of those users' default wallet (and most other bench users') is funded with, in {@link QUOTE_ASSET}. */
export const INITIAL_BALANCE = '10000';
export const QUOTE_ASSET = 'USDT';
/** Users created at once. */
const FIXTURE_CONCURRENCY = 16;

/** A user made for the bench: its access token and its default wallet. */
export interface BenchUser {
  userId: string;
  token: string;
  walletId: string;
}

/** How the bench signs its users in: the app's JWT secret, their sessions, their one password hash. */
export interface BenchAuth {
  jwtSecret: string;
  /** starts a session per bench user: access tokens are checked against their session */
  sessions: SessionService;
  passwordHash: string;
}

/** A fresh JWT secret (random per run), a session service on `db` and one password hash for every user. */
export async function createBenchAuth(db: Db): Promise<BenchAuth> {
  const jwtSecret = randomBytes(24).toString('hex');
  return {
    jwtSecret,
    sessions: new SessionService(db, new TokenService(jwtSecret, 3600, systemClock), new MemoryCache(), {
      accessTtlSeconds: 3600,
      refreshTtlSeconds: 3600,
    }),
    passwordHash: await hashPassword(randomBytes(12).toString('hex')),
  };
}

/**
 * Creates `count` users named `<prefix>_0000`… with default wallets funded with `initialBalance`
 * (in {@link QUOTE_ASSET}), one access token each.
 * @throws {Error} when a user ends up without a default wallet
 */
export async function createUsers(
  env: { db: Db; sessions: SessionService; passwordHash: string; signal: AbortSignal },
  prefix: string,
  count: number,
  initialBalance: string,
): Promise<BenchUser[]> {
  const deps = { db: env.db, ledger: new Ledger(), initialBalance, quoteAsset: QUOTE_ASSET };
  const indexes = Array.from({ length: count }, (_, i) => i);
  const users = await mapConcurrently(
    indexes,
    FIXTURE_CONCURRENCY,
    async (i) => {
      const username = `${prefix}_${String(i).padStart(4, '0')}`;
      const user = await createFundedUser(deps, { username, email: null, passwordHash: env.passwordHash });
      return {
        userId: user.id,
        token: (await env.sessions.start({ id: user.id, role: 'user' })).accessToken,
      };
    },
    env.signal,
  );
  const wallets = await env.db.$client.query<{ id: string; user_id: string }>(
    'SELECT id, user_id FROM wallets WHERE is_default AND user_id = ANY($1::uuid[])',
    [users.map((u) => u.userId)],
  );
  const walletOf = new Map(wallets.rows.map((w) => [w.user_id, w.id]));
  return users.map((u) => {
    const walletId = walletOf.get(u.userId);
    if (!walletId) throw new Error(`user ${u.userId} has no default wallet`);
    return { ...u, walletId };
  });
}
