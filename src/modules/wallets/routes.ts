import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CommandRunner } from '../../platform/commands/runner.js';
import type { Db } from '../../platform/db/client.js';
import { withTransaction } from '../../platform/db/tx.js';
import type { AccountEventSink } from '../../platform/events/bus.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { idempotencyScopeOf, sendFinalResponse } from '../../platform/http/idempotency.js';
import { errorResponse, moneyRouteErrors, pageQuery } from '../../platform/http/schemas.js';
import { NotFoundError } from '../../shared/errors.js';
import type { Ledger } from '../ledger/index.js';
import type { PriceService } from '../market/index.js';
import { UnknownAssetError } from './errors.js';
import {
  createWalletBody,
  historyPageOutput,
  operationBody,
  operationHeaders,
  operationOutput,
  walletIdParam,
  walletListOutput,
  walletLookupParam,
  walletOutput,
} from './schemas.js';
import { createWallet, getWallet, listWallets, listWalletTransactions, WalletOperations } from './service.js';

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
  app.addHook('onRequest', deps.requireAuth);
  registerWalletCollection(app, deps);
  registerWalletOperation(app, deps);
  registerWalletReads(app, deps);
}

/** `GET ''` (the caller's wallets) and `POST ''` (a new named wallet). */
function registerWalletCollection(app: FastifyInstance, deps: WalletRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '',
    {
      schema: {
        tags: ['wallets'],
        summary: 'The caller’s wallets, the default one first',
        security: [{ bearerAuth: [] }],
        response: { 200: walletListOutput, 401: errorResponse },
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
        body: createWalletBody,
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
}

/** `POST /{wallet_id}/operation`: a deposit or a withdrawal, run as a money command. */
function registerWalletOperation(app: FastifyInstance, deps: WalletRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const operations = new WalletOperations(deps.db, deps.ledger, deps.runner, deps.accountEvents);

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
        headers: operationHeaders,
        body: operationBody,
        response: {
          201: operationOutput,
          ...moneyRouteErrors,
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
}

/** `GET /{wallet_id}/transactions` (the journal) and `GET /{wallet_id}` (one wallet). */
function registerWalletReads(app: FastifyInstance, deps: WalletRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/:wallet_id/transactions',
    {
      schema: {
        tags: ['wallets'],
        summary: 'The wallet’s journal transactions with their entries, newest first',
        security: [{ bearerAuth: [] }],
        params: walletLookupParam,
        querystring: pageQuery,
        response: { 200: historyPageOutput, 401: errorResponse, 404: errorResponse, 422: errorResponse },
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
        params: walletLookupParam,
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
