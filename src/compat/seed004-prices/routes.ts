import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AuthRoutesDeps, setAuthCookie } from '../../modules/auth/index.js';
import { UnknownSymbolError } from '../../modules/market/index.js';
import {
  bearerSecurity,
  historyView,
  statsView,
  symbolInput,
  type TrackingRoutesDeps,
  trackedView,
} from '../../modules/tracking/index.js';
import { authenticate, passwordInput, registerUser, usernameInput } from '../../modules/users/index.js';
import { installErrorHandlers } from '../../platform/http/error-handler.js';
import { ValidationError } from '../../shared/errors.js';
import { renderSeed004Error, seed004Crypto, seed004History, seed004Stats, seed004Status } from './mappers.js';

const seedError = z.object({ error: z.string() }).meta({ description: 'seed 004’s error shape' });
const tokenAnswer = z.object({ token: z.string().meta({ description: 'JWT for Authorization: Bearer' }) });

/**
 * Seed 004's auth contract, as that seed documents it: `POST /auth/register` → 201 `{token}` (400 for
 * a missing or invalid field, 409 for a taken username) and `POST /auth/login` → 200 `{token}` (400,
 * 401), errors `{"error": "text"}`. Thin adapters over the v1 services: the same users, funded
 * wallets, sessions, auth cookie and failed-login limits.
 */
export async function seed004AuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  installErrorHandlers(app, renderSeed004Error, { notFound: false, statusOf: seed004Status });
  const r = app.withTypeProvider<ZodTypeProvider>();
  const credentials = z.object({
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
  });

  r.post(
    '/register',
    {
      schema: {
        tags: ['seed 004: price server'],
        summary: 'Register (seed 004); the user also gets a funded default wallet',
        body: z.object({ username: usernameInput, password: passwordInput }),
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

const seedCrypto = z
  .object({
    symbol: z.string().meta({ example: 'BTC' }),
    name: z.string().meta({ example: 'Bitcoin' }),
    current_price: z.number().meta({ example: 45000.5 }),
    last_updated: z.string().meta({ example: '2024-01-01T12:00:00.000Z' }),
  })
  .meta({ description: 'seed 004’s crypto object' });
const seedErrors = { 400: seedError, 401: seedError, 404: seedError, 503: seedError };
const symbolParam = z.object({ symbol: symbolInput });
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
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  const { tracking } = deps;

  r.get(
    '',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Every tracked crypto (seed 004)',
        security: bearerSecurity,
        response: { 200: z.object({ cryptos: z.array(seedCrypto) }), 401: seedError },
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
        body: z.object({ symbol: symbolInput }),
        response: { 201: z.object({ crypto: seedCrypto }), 409: seedError, ...seedErrors },
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
        response: { 200: z.object({ crypto: seedCrypto }), ...seedErrors },
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
        response: {
          200: z.object({
            symbol: z.string(),
            history: z.array(z.object({ price: z.number(), timestamp: z.string() })),
          }),
          ...seedErrors,
        },
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
        response: {
          200: z.object({
            symbol: z.string(),
            current_price: z.number(),
            stats: z.object({
              min_price: z.number(),
              max_price: z.number(),
              avg_price: z.number(),
              price_change: z.number(),
              price_change_percent: z.number(),
              records_count: z.number().int(),
            }),
          }),
          ...seedErrors,
        },
      },
    },
    async (request) => seed004Stats(statsView(await tracking.stats(request.params.symbol))),
  );

  r.delete(
    '/:symbol',
    {
      schema: {
        tags: cryptoTags,
        summary: 'Stop tracking a crypto and drop its history (seed 004)',
        security: bearerSecurity,
        params: symbolParam,
        response: { 200: z.object({}), ...seedErrors },
      },
    },
    async (request) => {
      await tracking.remove(request.params.symbol);
      return {};
    },
  );
}
