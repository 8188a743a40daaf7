/**
 * Wallet ids are UUIDs, whatever their spelling: an upper-case id in the path names the same wallet
 * and the same ledger accounts as its lower-case form (account codes contain the id as text).
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { bearer, getWallet, registerUser, useTestApp } from '../../helpers/app.js';

const t = useTestApp();

it('treats an upper-case wallet id as the same wallet and the same accounts', async () => {
  const user = await registerUser(t.app);
  for (const walletId of [user.walletId.toUpperCase(), user.walletId]) {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/wallets/${walletId}/operation`,
      headers: bearer(user.token),
      payload: { operation_type: 'WITHDRAW', amount: '1' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().wallet_id).toBe(user.walletId);
  }
  expect((await getWallet(t.app, user.token, user.walletId)).balance).toBe('9998');
  const accounts = await t.db.execute<{ n: string }>(
    sql`select count(*)::text as n from ledger_accounts where wallet_id = ${user.walletId}`,
  );
  expect(accounts.rows[0]?.n).toBe('1');
});
