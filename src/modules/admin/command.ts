import type { Db } from '../../platform/db/client.js';
import { NotFoundError } from '../../shared/errors.js';
import { setUserRole } from '../users/index.js';

/** How the admin command is called, printed when it is called otherwise. */
export const ADMIN_USAGE =
  'usage: paperbroker admin grant|revoke <username> (npm run admin -- grant <username>)';

/** `paperbroker admin grant|revoke <username>`: give or take the admin role. */
export interface AdminCommand {
  action: 'grant' | 'revoke';
  username: string;
}

/** An admin command that cannot be done as asked: its message is the one line to print. */
export class AdminCommandError extends Error {
  override name = 'AdminCommandError';
}

/** The admin command the arguments after `admin` name, or undefined when they name none. */
export function parseAdminCommand(args: string[]): AdminCommand | undefined {
  const [action, username, ...rest] = args;
  if ((action !== 'grant' && action !== 'revoke') || !username || rest.length > 0) return undefined;
  return { action, username };
}

/**
 * Runs an admin command on the database: `grant` makes the live user named `username` (in any case)
 * an admin, `revoke` a user again. Operators use it instead of SQL, which would need the embedded
 * server's port (a new one each start) and its password.
 * @returns the one line that says what changed, e.g. `alice is an admin (was user); …`
 * @throws {AdminCommandError} no live user has this username
 */
export async function runAdminCommand(db: Db, command: AdminCommand): Promise<string> {
  const role = command.action === 'grant' ? 'admin' : 'user';
  try {
    const { user, previousRole } = await setUserRole(db, command.username, role);
    const now = role === 'admin' ? 'an admin' : 'no longer an admin';
    const before = previousRole === role ? 'already' : `was ${previousRole}`;
    return `${user.username} is ${now} (${before}); their open sessions see it within 30 s`;
  } catch (error) {
    if (error instanceof NotFoundError) throw new AdminCommandError(error.message);
    throw error;
  }
}
