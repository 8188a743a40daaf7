import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../platform/db/client.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { decimalOutput, errorResponse } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import { getWallet, listWallets } from './service.js';

export const walletOutput = z
  .object({
    id: z.uuid(),
    name: z.string().meta({ example: 'Main' }),
    is_default: z.boolean(),
    balance: decimalOutput('available balance of the quote asset', '10000'),
    balances: z.array(
      z.object({
        asset: z.string().meta({ example: 'BTC' }),
        available: decimalOutput('spendable amount', '0.5'),
        locked: decimalOutput('amount held as margin or escrow', '0'),
      }),
    ),
    created_at: z.string(),
  })
  .meta({ id: 'Wallet' });

export interface WalletRoutesDeps {
  db: Db;
  quoteAsset: string;
  requireAuth: preHandlerAsyncHookHandler;
}

/** `GET /api/v1/wallets` and `GET /api/v1/wallets/{wallet_id}`: the caller's own wallets only. */
export async function walletRoutes(app: FastifyInstance, deps: WalletRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('preHandler', deps.requireAuth);

  r.get(
    '',
    {
      schema: {
        tags: ['wallets'],
        summary: 'The caller’s wallets, the default one first',
        security: [{ bearerAuth: [] }],
        response: {
          200: z.object({ items: z.array(walletOutput), next_cursor: z.string().nullable() }),
          401: errorResponse,
        },
      },
    },
    async (request) => ({
      items: await listWallets(deps.db, principalOf(request).userId, deps.quoteAsset),
      next_cursor: null,
    }),
  );

  r.get(
    '/:wallet_id',
    {
      schema: {
        tags: ['wallets'],
        summary: 'One of the caller’s wallets with its balances per asset',
        security: [{ bearerAuth: [] }],
        params: z.object({ wallet_id: z.string().max(64).meta({ description: 'wallet id (UUID)' }) }),
        response: { 200: walletOutput, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const walletId = request.params.wallet_id;
      // A GET with a malformed id answers 404 like any id that is not the caller's (SPEC §3 "Ids").
      if (!z.uuid().safeParse(walletId).success) throw new NotFoundError(`wallet ${walletId} not found`);
      return await getWallet(deps.db, principalOf(request).userId, walletId, deps.quoteAsset);
    },
  );
}
