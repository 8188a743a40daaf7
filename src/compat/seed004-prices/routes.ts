import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type AuthRoutesDeps, setAuthCookie } from '../../modules/auth/index.js';
import { UnknownSymbolError } from '../../modules/market/index.js';
import {
  bearerSecurity,
  historyView,
  statsView,
  type TrackingRoutesDeps,
  trackedView,
} from '../../modules/tracking/index.js';
import { authenticate, registerUser } from '../../modules/users/index.js';
import { installErrorHandlers } from '../../platform/http/error-handler.js';
import { ValidationError } from '../../shared/errors.js';
import { renderSeed004Error, seed004Crypto, seed004History, seed004Stats, seed004Status } from './mappers.js';
import {
  credentials,
  cryptoAnswer,
  cryptoHistoryOutput,
  cryptoListOutput,
  cryptoStatsOutput,
  emptyOutput,
  registerBody,
  seedCrypto,
  seedError,
  seedErrors,
  symbolParam,
  tokenAnswer,
  trackBody,
} from './schemas.js';

/**
 * Seed 004's auth contract, as that seed documents it: `POST /auth/register` → 201 `{token}` (400 for
 * a missing or invalid field, 409 for a taken username) and `POST /auth/login` → 200 `{token}` (400,
 * 401), errors `{"error": "text"}`. Thin adapters over the v1 services: the same users, funded
 * wallets, sessions, auth cookie and failed-login limits.
 */
export async function seed004AuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  installErrorHandlers(app, renderSeed004Error, { notFound: false, statusOf: seed004Status });
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/register',
    {
      schema: {
        tags: ['seed 004: price server'],
        summary: 'Register (seed 004); the user also gets a funded default wallet',
        body: registerBody,
        response: { 201: tokenAnswer, 400: seedError, 409: seedError },
      },
    },
    async (request, reply) => {
      const user = await registerUser(deps, { ...request.body, email: null });
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
      return reply.status(201).send({ token: issued.accessToken });
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['seed 004: price server'],
        summary: 'Log in (seed 004)',
        body: credentials,
        response: { 200: tokenAnswer, 400: seedError, 401: seedError, 429: seedError },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await deps.throttle.guard(request, () => authenticate(deps.db, username, password));
      const issued = await deps.sessions.start({ id: user.id, role: user.role });
      setAuthCookie(reply, issued.accessToken, issued.expiresInSeconds);
      return { token: issued.accessToken };
    },
  );
}

const cryptoTags = ['seed 004: price server'];

/**
 * Seed 004's crypto routes, as that seed documents them, over the tracking service: `GET /crypto`
 * `{cryptos}`, `POST /crypto {symbol}` → 201 `{crypto}` (400 for a bad or unknown ticker, 409 when
 * tracked), `GET /crypto/{symbol}` (the crypto itself), `PUT /crypto/{symbol}/refresh` → `{crypto}`,
 * `GET …/history`, `GET …/stats`, `DELETE /crypto/{symbol}` → `{}`; 404 for an untracked symbol.
 * Prices are JSON numbers, errors `{"error": "text"}`; every route needs a token.
 */
export async function seed004CryptoRoutes(app: FastifyInstance, deps: TrackingRoutesDeps): Promise<void> {
  installErrorHandlers(app, renderSeed004Error, { notFound: true, statusOf: seed004Status });
  app.addHook('onRequest', deps.requireAuth);
  registerCryptoCollection(app, deps);
  registerCryptoPrices(app, deps);
  registerCryptoRemoval(app, deps);
}

/** `GET ''` (every tracked crypto) and `POST ''` (track one more). */
function registerCryptoCollection(app: FastifyInstance, deps: TrackingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tracking } = deps;

  r.get(
    '',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Every tracked crypto (seed 004)',
        security: bearerSecurity,
        response: { 200: cryptoListOutput, 401: seedError },
      },
    },
    async () => ({ cryptos: (await tracking.list()).map((c) => seed004Crypto(trackedView(c))) }),
  );

  r.post(
    '',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Start tracking a ticker (seed 004)',
        security: bearerSecurity,
        body: trackBody,
        response: { 201: cryptoAnswer, 409: seedError, ...seedErrors },
      },
    },
    async (request, reply) => {
      try {
        const crypto = await tracking.add(request.body.symbol);
        return reply.status(201).send({ crypto: seed004Crypto(trackedView(crypto)) });
      } catch (error) {
        // The seed lists 400 for a ticker it cannot add (its body is the bad input).
        if (error instanceof UnknownSymbolError) throw new ValidationError(error.message);
        throw error;
      }
    },
  );
}

/** `GET /{symbol}`, `PUT /{symbol}/refresh`, `GET /{symbol}/history` and `GET /{symbol}/stats`. */
function registerCryptoPrices(app: FastifyInstance, deps: TrackingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tracking } = deps;

  r.get(
    '/:symbol',
    {
      schema: {
        tags: cryptoTags,
        summary: 'One tracked crypto (seed 004)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: seedCrypto, ...seedErrors },
      },
    },
    async (request) => seed004Crypto(trackedView(await tracking.get(request.params.symbol))),
  );

  r.put(
    '/:symbol/refresh',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Take its price now (seed 004)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: cryptoAnswer, ...seedErrors },
      },
    },
    async (request) => ({
      crypto: seed004Crypto(trackedView(await tracking.refresh(request.params.symbol))),
    }),
  );

  r.get(
    '/:symbol/history',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Kept prices, newest first (seed 004)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: cryptoHistoryOutput, ...seedErrors },
      },
    },
    async (request) => {
      const { symbol, history } = await tracking.history(request.params.symbol);
      return seed004History(historyView(symbol, history));
    },
  );

  r.get(
    '/:symbol/stats',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Statistics of the kept prices (seed 004)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: cryptoStatsOutput, ...seedErrors },
      },
    },
    async (request) => seed004Stats(statsView(await tracking.stats(request.params.symbol))),
  );
}

/** `DELETE /{symbol}`: stop tracking, `{}`. */
function registerCryptoRemoval(app: FastifyInstance, deps: TrackingRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tracking } = deps;

  r.delete(
    '/:symbol',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Stop tracking a crypto and drop its history (seed 004)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: emptyOutput, ...seedErrors },
      },
    },
    async (request) => {
      await tracking.remove(request.params.symbol);
      return {};
    },
  );
}
