import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CommandRunner } from '../../platform/commands/runner.js';
import type { Db } from '../../platform/db/client.js';
import { withTransaction } from '../../platform/db/tx.js';
import type { AccountEventSink } from '../../platform/events/bus.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import {
  idempotencyKeyHeader,
  idempotencyScopeOf,
  sendFinalResponse,
} from '../../platform/http/idempotency.js';
import { decimalOutput, errorResponse, pageQuery, positiveAmountInput } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import type { Ledger } from '../ledger/index.js';
import type { PriceService } from '../market/index.js';
import { UnknownAssetError } from './errors.js';
import { createWallet, getWallet, listWallets, listWalletTransactions, WalletOperations } from './service.js';

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

const operationOutput = z
  .object({
    id: z.number().int().meta({ description: 'journal transaction id', example: 1 }),
    wallet_id: z.uuid(),
    operation_type: z.enum(['DEPOSIT', 'WITHDRAW']),
    asset: z.string().meta({ example: 'USDT' }),
    amount: decimalOutput('amount moved, in `asset`', '1000'),
    created_at: z.string(),
  })
  .meta({ id: 'WalletOperation' });

const operationBody = z.object({
  operation_type: z.enum(['DEPOSIT', 'WITHDRAW']).meta({ description: 'money in or out (paper funding)' }),
  amount: positiveAmountInput.meta({
    description: 'decimal string or number, > 0, at most 8 decimals',
    example: '1000',
  }),
  asset: z
    .string()
    .regex(/^[A-Za-z0-9]{2,20}$/, 'must be 2–20 letters or digits, e.g. USDT')
    .optional()
    .meta({ description: 'defaults to the quote asset', example: 'USDT' }),
});

const historyOutput = z
  .object({
    id: z.number().int().meta({ description: 'journal transaction id' }),
    kind: z.string().meta({ example: 'deposit' }),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    entries: z.array(
      z.object({
        account_id: z.string().meta({ description: 'ledger account id' }),
        wallet_id: z.uuid().nullable().meta({ description: 'null for the broker’s system accounts' }),
        account: z.string().meta({
          description:
            'what the account is: "available" or "locked" for the wallet’s own; the system account’s name otherwise ("funding", "exchange", "fees", …)',
          example: 'available',
        }),
        asset: z.string(),
        amount: decimalOutput('signed: negative leaves the account', '-100'),
        balance_after: decimalOutput(
          'the account’s balance after this entry; null for system accounts',
          '900',
        ).nullable(),
      }),
    ),
  })
  .meta({ id: 'JournalTransaction' });

const walletIdParam = z.object({ wallet_id: z.uuid().meta({ description: 'wallet id (UUID)' }) });

export interface WalletRoutesDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  quoteAsset: string;
  requireAuth: onRequestAsyncHookHandler;
  /** the per-user limit of money-moving requests */
  moneyRateLimit: preHandlerAsyncHookHandler;
  /** where every money movement runs */
  runner: CommandRunner;
  /** where each operation is announced (`wallet.operation` on its owner's account stream) */
  accountEvents?: AccountEventSink;
}

/**
 * The caller's own wallets: list, create, read, deposit/withdraw (seed 003) and history.
 * Another user's wallet is answered exactly like a missing one (404).
 */
export async function walletRoutes(app: FastifyInstance, deps: WalletRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  const operations = new WalletOperations(deps.db, deps.ledger, deps.runner, deps.accountEvents);

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

  r.post(
    '',
    {
      schema: {
        tags: ['wallets'],
        summary: 'Create a named wallet',
        security: [{ bearerAuth: [] }],
        body: z.object({ name: z.string().trim().min(1).max(64).meta({ example: 'Bot 1' }) }),
        response: { 201: walletOutput, 401: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    async (request, reply) => {
      const userId = principalOf(request).userId;
      const wallet = await withTransaction(deps.db, (tx) =>
        createWallet(tx, userId, request.body.name, deps.quoteAsset),
      );
      return reply.status(201).send(wallet);
    },
  );

  r.post(
    '/:wallet_id/operation',
    {
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['wallets'],
        summary: 'Deposit or withdraw paper money (seed 003)',
        description:
          'A DEPOSIT to a well-formed wallet id that does not exist yet creates that wallet for the caller. A withdrawal beyond the available balance answers 400 INSUFFICIENT_FUNDS and changes nothing. Honours Idempotency-Key.',
        security: [{ bearerAuth: [] }],
        params: walletIdParam,
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
        body: operationBody,
        response: {
          201: operationOutput,
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
          409: errorResponse,
          422: errorResponse,
          429: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const userId = principalOf(request).userId;
      const { operation_type: type, amount } = request.body;
      const asset = (request.body.asset ?? deps.quoteAsset).toUpperCase();
      if (!(await deps.prices.knowsAsset(asset))) throw new UnknownAssetError(asset);
      const scope = idempotencyScopeOf(request, userId, { type, asset, amount: amount.toFixed() });
      const input = { walletId: request.params.wallet_id.toLowerCase(), type, asset, amount };
      const { response } = await operations.submit(userId, input, scope, {
        render: (operation) => ({ status: 201, body: operation }),
      });
      return sendFinalResponse(reply, response);
    },
  );

  r.get(
    '/:wallet_id/transactions',
    {
      schema: {
        tags: ['wallets'],
        summary: 'The wallet’s journal transactions with their entries, newest first',
        security: [{ bearerAuth: [] }],
        params: z.object({ wallet_id: z.string().max(64).meta({ description: 'wallet id (UUID)' }) }),
        querystring: pageQuery,
        response: {
          200: z.object({ items: z.array(historyOutput), next_cursor: z.string().nullable() }),
          401: errorResponse,
          404: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (request) => {
      const walletId = request.params.wallet_id;
      if (!z.uuid().safeParse(walletId).success) throw new NotFoundError(`wallet ${walletId} not found`);
      const { limit, cursor } = request.query;
      return await listWalletTransactions(
        deps.db,
        principalOf(request),
        walletId.toLowerCase(),
        limit,
        cursor,
      );
    },
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
      return await getWallet(deps.db, principalOf(request), walletId.toLowerCase(), deps.quoteAsset);
    },
  );
}
