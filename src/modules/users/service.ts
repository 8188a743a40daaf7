import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../../platform/db/client.js';
import { violatedConstraint, withTransaction } from '../../platform/db/tx.js';
import { Decimal } from '../../shared/decimal.js';
import { NotFoundError } from '../../shared/errors.js';
import { available, type Ledger, system } from '../ledger/index.js';
import { insertWallet } from '../wallets/index.js';
import {
  EmailTakenError,
  InvalidCredentialsError,
  InvalidCurrentPasswordError,
  UsernameTakenError,
} from './errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { findUserById, findUserByUsername, insertUser, type UserRow, updateUser } from './repository.js';

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
    throw translateUniqueViolation(error, input.username);
  }
}

/** A taken username or email as its domain error; any other error as it is. */
function translateUniqueViolation(error: unknown, username: string | undefined): unknown {
  const constraint = violatedConstraint(error);
  if (constraint === 'users_username_lower_key') return new UsernameTakenError(username ?? '');
  if (constraint === 'users_email_lower_key') return new EmailTakenError();
  return error;
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
 * The live user with this id.
 * @throws {NotFoundError} when there is none (or it was deleted)
 */
export async function getUser(db: Db, userId: string): Promise<UserView> {
  const user = await findUserById(db, userId);
  if (!user) throw new NotFoundError(`user ${userId} not found`);
  return toUserView(user);
}

/** Another user's profile as anyone may see it: never the email or the role. */
export interface PublicUserView {
  id: string;
  username: string;
  created_at: string;
}

/**
 * A user's profile as `viewer` may see it: the full profile for themself and for admins, the
 * public one (`{id, username, created_at}`) for anyone else.
 * @throws {NotFoundError} (404) no live user has this id
 */
export async function getProfile(
  db: Db,
  viewer: { userId: string; role: 'user' | 'admin' },
  userId: string,
): Promise<UserView | PublicUserView> {
  const user = await getUser(db, userId);
  if (viewer.userId === userId || viewer.role === 'admin') return user;
  return { id: user.id, username: user.username, created_at: user.created_at };
}

/**
 * Changes the caller's username and/or email (`null` removes the email).
 * @throws {UsernameTakenError}, {EmailTakenError} (409); {NotFoundError} (404) a deleted account
 */
export async function updateProfile(
  db: Db,
  userId: string,
  changes: { username?: string; email?: string | null },
): Promise<UserView> {
  try {
    const user = await updateUser(db, userId, changes);
    if (!user) throw new NotFoundError(`user ${userId} not found`);
    return toUserView(user);
  } catch (error) {
    throw translateUniqueViolation(error, changes.username);
  }
}

/**
 * Gives the live user named `username` (compared case-insensitively) the role `role`: what an
 * operator runs as `npm run admin -- grant|revoke <username>`. Their open sessions see the new role
 * on their next request once the cached session state expires (30 s at most): no new login needed.
 * @returns the user as it is now, and the role it had before
 * @throws {NotFoundError} no live user has this username
 */
export async function setUserRole(
  db: Db,
  username: string,
  role: 'user' | 'admin',
): Promise<{ user: UserView; previousRole: 'user' | 'admin' }> {
  const found = await findUserByUsername(db, username);
  const updated = found && (await updateUser(db, found.id, { role }));
  if (!found || !updated) throw new NotFoundError(`no user named "${username}"`);
  return { user: toUserView(updated), previousRole: found.role };
}

/** What ends a user's other sessions: the auth module's session service. */
export interface SessionRevoker {
  revokeUserSessions(
    tx: Tx,
    userId: string,
    reason: 'password_changed' | 'account_deleted',
    exceptSessionId?: string,
  ): Promise<string[]>;
  forget(sessionIds: string[]): Promise<void>;
}

/**
 * The live user `userId`, once `password` is checked to be theirs (what the routes that change or
 * end an account ask for besides the token).
 * @throws {NotFoundError} (404) no live user has this id; {InvalidCurrentPasswordError} (403) a wrong password
 */
async function liveUserWithPassword(db: Db, userId: string, password: string): Promise<UserRow> {
  const user = await findUserById(db, userId);
  if (!user) throw new NotFoundError(`user ${userId} not found`);
  if (!(await verifyPassword(password, user.passwordHash))) throw new InvalidCurrentPasswordError();
  return user;
}

/**
 * Changes the caller's password and ends every other session of theirs (the current one stays).
 * @throws {InvalidCurrentPasswordError} (403) the current password is wrong; nothing changes
 */
export async function changePassword(
  db: Db,
  sessions: SessionRevoker,
  principal: { userId: string; sessionId: string },
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  const user = await liveUserWithPassword(db, principal.userId, currentPassword);
  const passwordHash = await hashPassword(newPassword);
  const revoked = await withTransaction(db, async (tx) => {
    await updateUser(tx, user.id, { passwordHash });
    return await sessions.revokeUserSessions(tx, user.id, 'password_changed', principal.sessionId);
  });
  await sessions.forget(revoked);
}

/**
 * Deletes the caller's account once `currentPassword` proves it is the owner, not merely someone
 * holding their access token: a soft delete that keeps the row, the wallets and the ledger history
 * (the ledger must still balance), ends every session, and keeps the username taken so nobody can
 * pose as the former owner.
 * @throws {InvalidCurrentPasswordError} (403) the current password is wrong; nothing changes
 * @throws {NotFoundError} (404) the account is already gone
 */
export async function deleteAccount(
  db: Db,
  sessions: SessionRevoker,
  userId: string,
  currentPassword: string,
): Promise<void> {
  await liveUserWithPassword(db, userId, currentPassword);
  const revoked = await withTransaction(db, async (tx) => {
    const deleted = await updateUser(tx, userId, { deletedAt: sql`now()` });
    if (!deleted) throw new NotFoundError(`user ${userId} not found`);
    return await sessions.revokeUserSessions(tx, userId, 'account_deleted');
  });
  await sessions.forget(revoked);
}
