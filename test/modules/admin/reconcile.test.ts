/**
 * The ledger's reconcile, as operators reach it: `GET /api/v1/admin/reconcile` (admins only; a user
 * gets 403, no token 401) and `npm run reconcile` (`src/main.ts reconcile`), which prints the report
 * as JSON on stdout and exits 0 when every rule holds, 2 when one is broken. The broken case is made
 * by editing a stored balance behind the ledger's back, which only the database owner can do.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bearer, registerAdmin, registerUser, TEST_JWT_SECRET, useTestApp } from '../../helpers/app.js';
import { createTestDatabase } from '../../helpers/db.js';

const run = promisify(execFile);
const t = useTestApp();

describe('GET /api/v1/admin/reconcile', () => {
  it('answers the report to an admin', async () => {
    const token = await registerAdmin(t.app, t.db);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/reconcile', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ok: true,
      report: {
        unbalancedJournals: [],
        balanceMismatches: [],
        brokenChains: [],
        purposesChecked: ['legacy', 'bet_escrow', 'short_collateral', 'order_reserve'],
        purposeMismatches: [],
      },
    });
  });

  it('refuses a user (403) and an anonymous caller (401)', async () => {
    const user = await registerUser(t.app);
    const asUser = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/reconcile',
      headers: bearer(user.token),
    });
    expect(asUser.statusCode).toBe(403);
    expect(asUser.json().error.code).toBe('FORBIDDEN');
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/admin/reconcile' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('npm run reconcile', () => {
  it('exits 0 with ok: true on a sound ledger and 2 naming the account on a broken one', async () => {
    const database = await createTestDatabase();
    try {
      const env = {
        ...process.env,
        DATABASE_URL: database.url,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'silent',
        NODE_ENV: 'test',
      };
      const options = { env, cwd: process.cwd(), timeout: 60_000 };
      const sound = await run('npx', ['tsx', 'src/main.ts', 'reconcile'], options);
      expect(JSON.parse(sound.stdout)).toMatchObject({ ok: true });

      await database.db.execute(sql`
        with w as (insert into users (username, password_hash) values ('broken_ledger', 'x') returning id),
             wa as (insert into wallets (user_id, name) select id, 'Main' from w returning id)
        insert into ledger_accounts (code, wallet_id, asset, bucket, balance)
        select 'wallet:' || wa.id || ':USDT:available', wa.id, 'USDT', 'available', 5 from wa`);
      const broken = await run('npx', ['tsx', 'src/main.ts', 'reconcile'], options).then(
        (result) => ({ code: 0, stdout: result.stdout }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(broken.code).toBe(2);
      const report = JSON.parse(broken.stdout);
      expect(report.ok).toBe(false);
      expect(report.report.balanceMismatches).toEqual([
        expect.objectContaining({ stored: '5.00000000', fromEntries: '0.00000000' }),
      ]);
    } finally {
      await database.drop();
    }
  }, 90_000);
});
