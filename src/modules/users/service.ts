import type { Db } from '../../platform/db/client.js';
import { violatedConstraint, withTransaction } from '../../platform/db/tx.js';
import { Decimal } from '../../shared/decimal.js';
import { NotFoundError } from '../../shared/errors.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { available, type Ledger, system } from '../ledger/index.js';
import { insertWallet } from '../wallets/index.js';
import { InvalidCredentialsError, UsernameTakenError } from './errors.js';
import { findUserById, findUserByUsername, insertUser, type UserRow } from './repository.js';

/** A user as the owner (or an admin) sees it; never the password hash. */
export interface UserView {
  id: string;
  username: string;
  email: string | null;
  role: 'user' | 'admin';
  created_at: string;
}

export function toUserView(user: UserRow): UserView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    created_at: user.createdAt.toISOString(),
  };
}

/** What registration needs besides the database. */
export interface RegistrationDeps {
  db: Db;
  ledger: Ledger;
  /** paper cash granted to the default wallet, in `quoteAsset` (decimal string) */
  initialBalance: string;
  quoteAsset: string;
}

/**
 * Registers a user: the user row, the default wallet and its funding grant of `initialBalance`
 * (a `registration_grant` journal from the paper-funding account), in one database transaction.
 * @throws {UsernameTakenError} (409) when the username is taken, compared case-insensitively
 */
export async function registerUser(
  deps: RegistrationDeps,
  input: { username: string; password: string; email: string | null },
): Promise<UserView> {
  const passwordHash = await hashPassword(input.password);
  return await createFundedUser(deps, { username: input.username, email: input.email, passwordHash });
}

/**
 * `registerUser` for a password already hashed (bcrypt): benchmarks and fixtures create many users
 * without paying the hash cost each time.
 * @throws {UsernameTakenError} (409) when the username is taken
 */
export async function createFundedUser(
  deps: RegistrationDeps,
  input: { username: string; email: string | null; passwordHash: string },
): Promise<UserView> {
  try {
    const user = await withTransaction(deps.db, async (tx) => {
      const created = await insertUser(tx, input);
      const wallet = await insertWallet(tx, { userId: created.id, name: 'Main', isDefault: true });
      const grant = new Decimal(deps.initialBalance);
      if (grant.gt(0)) {
        await deps.ledger.post(tx, {
          kind: 'registration_grant',
          postings: [
            {
              source: system('funding'),
              destination: available(wallet.id),
              asset: deps.quoteAsset,
              amount: grant,
            },
          ],
          metadata: { user_id: created.id },
        });
      }
      return created;
    });
    return toUserView(user);
  } catch (error) {
    if (violatedConstraint(error) === 'users_username_lower_key')
      throw new UsernameTakenError(input.username);
    throw error;
  }
}

/**
 * Checks a username and password.
 * @throws {InvalidCredentialsError} (401) for an unknown user or a wrong password, answered alike
 */
export async function authenticate(db: Db, username: string, password: string): Promise<UserRow> {
  const user = await findUserByUsername(db, username);
  const ok = await verifyPassword(password, user?.passwordHash);
  if (!user || !ok) throw new InvalidCredentialsError();
  return user;
}

/**
 * The user with this id.
 * @throws {NotFoundError} when there is none
 */
export async function getUser(db: Db, userId: string): Promise<UserView> {
  const user = await findUserById(db, userId);
  if (!user) throw new NotFoundError(`user ${userId} not found`);
  return toUserView(user);
}
