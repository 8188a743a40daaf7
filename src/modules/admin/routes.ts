import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { ForbiddenError } from '../../shared/errors.js';
import { isReconciled, reconcile } from '../ledger/index.js';

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
          'Checks that every journal sums to zero per asset, every stored balance equals the sum of its entries, every account’s entry chain is intact and every asset sums to zero across the ledger. Reads the whole ledger: meant for operators, not for polling.',
        security: [{ bearerAuth: [] }],
        response: { 200: reconcileOutput, 401: errorResponse, 403: errorResponse },
      },
    },
    async () => {
      const report = await reconcile(deps.db);
      return { ok: isReconciled(report), report };
    },
  );
}
