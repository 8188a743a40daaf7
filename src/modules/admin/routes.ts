import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { ForbiddenError } from '../../shared/errors.js';
import { isReconciled } from '../ledger/index.js';
import { reconcileAll } from './reconcile.js';
import { reconcileOutput } from './schemas.js';

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
