import type { Principal } from './auth-guard.js';

/**
 * The one authorisation rule of the product (SPEC C3), used by every module: a user reads and
 * changes only their own wallets, orders, positions and bets; an admin reads everyone's but changes
 * only their own. A resource the caller may not read is answered exactly like a missing one (404),
 * so that ids leak nothing.
 */
export function mayRead(principal: Principal, ownerId: string): boolean {
  return principal.userId === ownerId || principal.role === 'admin';
}

/** See `mayRead`: only the owner changes a resource, admins included. */
export function mayChange(principal: Principal, ownerId: string): boolean {
  return principal.userId === ownerId;
}
