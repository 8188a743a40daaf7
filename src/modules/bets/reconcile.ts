import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client.js';
import {
  comparePurposeBalances,
  type PurposeCheck,
  type PurposeMismatch,
  readPurposeBalances,
} from '../ledger/index.js';
import { bets } from './tables.js';

/**
 * Each wallet's bet escrow of an asset against its bets: it holds the stakes of the wallet's
 * pending bets in that asset, and nothing once none is pending (a placement moves the stake in, a
 * settlement moves all of it out). Reads every pending bet: for reconcile, not for requests.
 */
export async function reconcileBetEscrow(db: Queryable): Promise<PurposeMismatch[]> {
  const pending = await db
    .select({
      walletId: bets.walletId,
      asset: bets.quoteAsset,
      amount: sql<string>`sum(${bets.stake})::text`,
    })
    .from(bets)
    .where(eq(bets.status, 'pending'))
    .groupBy(bets.walletId, bets.quoteAsset);
  return comparePurposeBalances(
    'bet_escrow',
    pending.map((p) => ({ ...p, reference: null })),
    await readPurposeBalances(db, 'bet_escrow'),
  );
}

/** The bet escrow's check, for `reconcile`. */
export const betEscrowCheck: PurposeCheck = { purpose: 'bet_escrow', run: reconcileBetEscrow };
