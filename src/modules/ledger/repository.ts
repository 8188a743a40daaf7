import { sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';

/** One asset's balances in a wallet, as decimal strings from NUMERIC(38,8). */
export interface AssetBalance {
  asset: string;
  available: string;
  locked: string;
}

/**
 * Balances per asset of each wallet, read from the wallet accounts' stored balances.
 * @returns a map from wallet id to its balances, sorted by asset; wallets with no account map to []
 */
export async function readWalletBalances(
  db: Queryable,
  walletIds: string[],
): Promise<Map<string, AssetBalance[]>> {
  const result = new Map<string, AssetBalance[]>(walletIds.map((id) => [id, []]));
  if (walletIds.length === 0) return result;
  const rows = await db.execute<{ wallet_id: string; asset: string; available: string; locked: string }>(sql`
    select wallet_id, asset,
           coalesce(sum(balance) filter (where bucket = 'available'), 0)::numeric(38, 8)::text as available,
           coalesce(sum(balance) filter (where bucket = 'locked'), 0)::numeric(38, 8)::text as locked
      from ledger_accounts
     where wallet_id = any(${sql.param(walletIds)}::uuid[])
     group by wallet_id, asset
     order by wallet_id, asset`);
  for (const row of rows.rows) {
    result.get(row.wallet_id)?.push({ asset: row.asset, available: row.available, locked: row.locked });
  }
  return result;
}
