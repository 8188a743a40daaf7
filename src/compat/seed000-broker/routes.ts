import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type AuthRoutesDeps, setAuthCookie } from '../../modules/auth/index.js';
import { placeOrder, type TradingDeps, tradableSymbol } from '../../modules/trading/index.js';
import { authenticate, getProfile, registerUser } from '../../modules/users/index.js';
import { listWallets } from '../../modules/wallets/index.js';
import { principalOf } from '../../platform/http/auth-guard.js';
import { installErrorHandlers } from '../../platform/http/error-handler.js';
import { ForbiddenError, NotFoundError } from '../../shared/errors.js';
import { decimalToJsonNumber } from '../../shared/json.js';
import { renderSeed000Error } from './mappers.js';
import {
  assetOutput,
  assetQuery,
  loginBody,
  loginOutput,
  newUserBody,
  newUserOutput,
  seedError,
  seedUserOutput,
  seedWalletOutput,
  transactionBody,
  transactionOutput,
  userIdQuery,
} from './schemas.js';

/** What seed 000's routes are built from: the auth routes' services and the trading ones. */
export interface Seed000Deps extends AuthRoutesDeps {
  trading: TradingDeps;
  /** the per-user limit of money-moving requests */
  moneyRateLimit: preHandlerAsyncHookHandler;
}

/**
 * Seed 000's broker API, as that seed documents it: `POST /login` → `{access_token, token_type}`,
 * `POST /new_user` → the created user, and with the JWT `GET /get_user_by_id`,
 * `GET /get_user_wallet_by_user_id`, `GET /asset_data`, `POST /transaction`. Thin adapters over the
 * v1 services; amounts and prices are JSON numbers, as the seed shows.
 */
export async function seed000Routes(app: FastifyInstance, deps: Seed000Deps): Promise<void> {
  installErrorHandlers(app, renderSeed000Error, { notFound: false });
  registerSeed000Accounts(app, deps);
  registerSeed000Users(app, deps);
  registerSeed000AssetData(app, deps);
  registerSeed000Transaction(app, deps);
}

/** `POST /login` and `POST /new_user` (public). */
function registerSeed000Accounts(app: FastifyInstance, deps: Seed000Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/login',
    {
      schema: {
        tags: ['seed 000: broker'],
        summary: 'Log in (seed 000)',
        body: loginBody,
        response: { 200: loginOutput, 401: seedError, 422: seedError, 429: seedError },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await deps.throttle.guard(request, () => authenticate(deps.db, username, password));
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
      return { access_token: issued.accessToken, token_type: 'bearer' as const };
    },
  );

  r.post(
    '/new_user',
    {
      schema: {
        tags: ['seed 000: broker'],
        summary: 'Create a user (seed 000); the user gets a funded default wallet',
        body: newUserBody,
        response: { 200: newUserOutput, 409: seedError, 422: seedError },
      },
    },
    async (request) => {
      const user = await registerUser(deps, request.body);
      return { id: user.id, username: user.username, email: user.email, created_at: user.created_at };
    },
  );
}

/** `GET /get_user_by_id` and `GET /get_user_wallet_by_user_id` (with the JWT). */
function registerSeed000Users(app: FastifyInstance, deps: Seed000Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/get_user_by_id',
    {
      onRequest: deps.requireAuth,
      schema: {
        tags: ['seed 000: broker'],
        summary: 'A user (seed 000): the full profile for oneself, the public one for others',
        security: [{ bearerAuth: [] }],
        querystring: userIdQuery,
        response: { 200: seedUserOutput, 401: seedError, 404: seedError, 422: seedError },
      },
    },
    async (request) => await getProfile(deps.db, principalOf(request), request.query.user_id.toLowerCase()),
  );

  r.get(
    '/get_user_wallet_by_user_id',
    {
      onRequest: deps.requireAuth,
      schema: {
        tags: ['seed 000: broker'],
        summary: 'The caller’s default wallet (seed 000); another user’s → 403',
        security: [{ bearerAuth: [] }],
        querystring: userIdQuery,
        response: { 200: seedWalletOutput, 401: seedError, 403: seedError, 404: seedError, 422: seedError },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const userId = request.query.user_id.toLowerCase();
      if (userId !== principal.userId && principal.role !== 'admin') {
        throw new ForbiddenError('you may only read your own wallet');
      }
      const wallet = (await listWallets(deps.db, userId, deps.quoteAsset)).find((w) => w.is_default);
      if (!wallet) throw new NotFoundError(`user ${userId} has no wallet`);
      return {
        id: wallet.id,
        user_id: userId,
        name: wallet.name,
        balance: decimalToJsonNumber(wallet.balance),
        balances: wallet.balances.map((b) => ({
          asset: b.asset,
          available: decimalToJsonNumber(b.available),
          locked: decimalToJsonNumber(b.locked),
        })),
        created_at: wallet.created_at,
      };
    },
  );
}

/** `GET /asset_data`: an asset's price (with the JWT). */
function registerSeed000AssetData(app: FastifyInstance, deps: Seed000Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/asset_data',
    {
      onRequest: deps.requireAuth,
      schema: {
        tags: ['seed 000: broker'],
        summary: `The current price of an asset against the quote asset (seed 000)`,
        security: [{ bearerAuth: [] }],
        querystring: assetQuery,
        response: {
          200: assetOutput,
          401: seedError,
          404: seedError,
          422: seedError,
          503: seedError,
        },
      },
    },
    async (request) => {
      const { symbol, baseAsset } = tradableSymbol(
        deps.trading.prices,
        deps.quoteAsset,
        request.query.asset_name,
      );
      const quote = await deps.trading.prices.getQuote(symbol, 'read');
      return {
        asset_name: baseAsset,
        symbol,
        price: decimalToJsonNumber(quote.last),
        bid: decimalToJsonNumber(quote.bid),
        ask: decimalToJsonNumber(quote.ask),
        source: quote.source,
        as_of: new Date(quote.asOfMs).toISOString(),
        stale: quote.stale,
      };
    },
  );
}

/** `POST /transaction`: a market order on the caller's default wallet (with the JWT). */
function registerSeed000Transaction(app: FastifyInstance, deps: Seed000Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/transaction',
    {
      onRequest: deps.requireAuth,
      preHandler: deps.moneyRateLimit,
      schema: {
        tags: ['seed 000: broker'],
        summary: 'Buy, sell, short or close a short at the market on the caller’s default wallet (seed 000)',
        description:
          '`amount` is in units of the asset (fractions allowed). Fills as POST /api/v1/orders does: buy and close_short at the ask, sell and short at the bid, with the taker fee and Binance’s filters.',
        security: [{ bearerAuth: [] }],
        body: transactionBody,
        response: {
          200: transactionOutput,
          400: seedError,
          401: seedError,
          404: seedError,
          409: seedError,
          422: seedError,
          429: seedError,
          503: seedError,
        },
      },
    },
    async (request) => {
      const { asset_name, amount, transaction_type } = request.body;
      await placeOrder(
        deps.trading,
        principalOf(request).userId,
        {
          walletId: undefined,
          symbol: asset_name,
          side: transaction_type,
          quantity: amount,
          clientOrderId: undefined,
        },
        undefined,
        { render: () => ({ status: 200, body: { status: 'success' } }) },
      );
      return { status: 'success' as const };
    },
  );
}
