import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { ForbiddenError } from '../../shared/errors.js';
import { isReconciled } from '../ledger/index.js';
import { reconcileAll } from './reconcile.js';

const reconcileOutput = z
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
        example: ['order_reserve', 'legacy', 'bet_escrow', 'short_collateral'],
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

/** `GET /api/v1/admin/reconcile`: the ledger recomputed from its entries (admins only). */
export async function adminRoutes(
  app: FastifyInstance,
  deps: { db: Db; requireAuth: onRequestAsyncHookHandler },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  r.addHook('onRequest', async (request) => {
    if (principalOf(request).role !== 'admin') throw new ForbiddenError('this route needs the admin role');
  });

  r.get(
    '/reconcile',
    {
      schema: {
        tags: ['admin'],
        summary: 'Recompute every balance from the ledger entries and report any difference',
        description:
          'Checks that every journal sums to zero per asset, every stored balance equals the sum of its entries, every account’s entry chain is intact, every asset sums to zero across the ledger, and every locked account holds what its rows say (the pending bets’ stakes, each open short’s collateral; 0 for order reserves). Reads the whole ledger: meant for operators, not for polling.',
        security: [{ bearerAuth: [] }],
        response: { 200: reconcileOutput, 401: errorResponse, 403: errorResponse },
      },
    },
    async () => {
      const report = await reconcileAll(deps.db);
      return { ok: isReconciled(report), report };
    },
  );
}
