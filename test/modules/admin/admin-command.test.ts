/**
 * `npm run admin -- grant|revoke <username>` (issue 22 point 4): the real program, run as a process
 * against this file's database (`DATABASE_URL`, as an operator's server would have it), gives and
 * takes the admin role of a user named in any case, prints one line and exits 0; the user's next
 * session has the role (the admin route answers), and after `revoke` no longer has it. An unknown
 * user, or a call without a username, exits 1 with one clear line and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, registerUser, type TestApp } from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { runProgram } from '../../helpers/server-process.js';

let database: TestDatabase;
let built: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  built = await buildTestApp(database.db);
});
afterAll(async () => {
  await built?.close();
  await database?.drop();
});

/** `paperbroker admin <args…>` against this file's database; only PATH of this process's environment. */
const admin = (...args: string[]) =>
  runProgram(['admin', ...args], { PATH: process.env.PATH ?? '', DATABASE_URL: database.url });

/** A new session of `user` asks for the admin route: 200 for an admin, 403 for a user. */
async function adminRouteStatus(user: { username: string; password: string }): Promise<number> {
  const login = await built.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: user.username, password: user.password },
  });
  expect(login.statusCode).toBe(200);
  const token = login.json<{ access_token: string }>().access_token;
  const res = await built.app.inject({
    method: 'GET',
    url: '/api/v1/admin/reconcile',
    headers: bearer(token),
  });
  return res.statusCode;
}

describe('npm run admin', () => {
  it('grants and revokes the admin role, printing one line each time', async () => {
    const user = await registerUser(built.app);
    expect(await adminRouteStatus(user)).toBe(403);

    const granted = await admin('grant', user.username.toUpperCase());
    expect(granted, granted.stderr).toMatchObject({ exit: 'exit 0', stderr: '' });
    expect(granted.stdout).toBe(
      `${user.username} is an admin (was user); their open sessions see it within 30 s\n`,
    );
    expect(await adminRouteStatus(user)).toBe(200);

    const again = await admin('grant', user.username);
    expect(again.stdout).toBe(
      `${user.username} is an admin (already); their open sessions see it within 30 s\n`,
    );

    const revoked = await admin('revoke', user.username);
    expect(revoked, revoked.stderr).toMatchObject({ exit: 'exit 0', stderr: '' });
    expect(revoked.stdout).toBe(
      `${user.username} is no longer an admin (was admin); their open sessions see it within 30 s\n`,
    );
    expect(await adminRouteStatus(user)).toBe(403);
  });

  it('exits 1 with one line for an unknown user or a call it does not know, changing nothing', async () => {
    const before = await database.db.$client.query(
      "select count(*)::int as n from users where role = 'admin'",
    );
    const unknown = await admin('grant', 'nobody_at_all');
    expect(unknown).toEqual({
      exit: 'exit 1',
      stdout: '',
      stderr: 'paperbroker: no user named "nobody_at_all"\n',
    });
    for (const args of [[], ['grant'], ['promote', 'alice'], ['grant', 'alice', 'bob']]) {
      const usage = await admin(...args);
      expect(usage, args.join(' ')).toEqual({
        exit: 'exit 1',
        stdout: '',
        stderr: 'usage: paperbroker admin grant|revoke <username> (npm run admin -- grant <username>)\n',
      });
    }
    const after = await database.db.$client.query(
      "select count(*)::int as n from users where role = 'admin'",
    );
    expect(after.rows).toEqual(before.rows);
  });
});
