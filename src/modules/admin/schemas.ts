import { z } from 'zod';

/** The ledger recomputed from its entries: `ok`, and each check's findings (camelCase keys). */
export const reconcileOutput = z
  .object({
    ok: z.boolean().meta({ description: 'true when every rule of the ledger holds' }),
    report: z.object({
      unbalancedJournals: z.array(z.object({ journalId: z.string(), asset: z.string(), total: z.string() })),
      balanceMismatches: z.array(
        z.object({ accountId: z.string(), code: z.string(), stored: z.string(), fromEntries: z.string() }),
      ),
      brokenChains: z.array(z.object({ accountId: z.string(), code: z.string() })),
      assetTotals: z.array(z.object({ asset: z.string(), total: z.string() })),
      purposesChecked: z.array(z.string()).meta({
        description: 'the purposes of locked accounts compared with the rows they stand for',
        example: ['legacy', 'bet_escrow', 'short_collateral', 'order_reserve'],
      }),
      purposeMismatches: z
        .array(
          z.object({
            purpose: z.string(),
            walletId: z.string(),
            asset: z.string(),
            reference: z.string().nullable(),
            balance: z.string(),
            expected: z.string(),
          }),
        )
        .meta({
          description:
            'locked accounts whose balance differs from their rows: a bet escrow from its pending stakes, a short’s collateral account from its position',
        }),
    }),
  })
  .meta({ id: 'ReconcileReport' });
