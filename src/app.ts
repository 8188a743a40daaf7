import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { seed000Routes } from './compat/seed000-broker/routes.js';
import { seed002Routes } from './compat/seed002-bets/routes.js';
import { renderSeed004Error, seed004Status } from './compat/seed004-prices/mappers.js';
import { seed004AuthRoutes, seed004CryptoRoutes } from './compat/seed004-prices/routes.js';
import { adminRoutes } from './modules/admin/routes.js';
import {
  authRoutes,
  clearAuthCookie,
  LoginThrottle,
  SessionService,
  TokenService,
} from './modules/auth/index.js';
import { betLimitsOf, betRoutes, createSettlementScheduler, placeBetCommand } from './modules/bets/index.js';
import { Ledger } from './modules/ledger/index.js';
import { createPriceService, marketRoutes } from './modules/market/index.js';
import { streamRoutes } from './modules/stream/index.js';
import {
  createTrackingService,
  sendPageError,
  trackingPages,
  trackingRoutes,
} from './modules/tracking/index.js';
import {
  OrderCommand,
  orderRoutes,
  portfolioRoutes,
  positionRoutes,
  RestingOrderCommand,
} from './modules/trading/index.js';
import { userRoutes } from './modules/users/index.js';
import { walletRoutes } from './modules/wallets/routes.js';
import { CommandRunner } from './platform/commands/runner.js';
import { accountEventSink } from './platform/events/bus.js';
import { createAuthGuard } from './platform/http/auth-guard.js';
import {
  answerClientError,
  installErrorHandlers,
  REQUEST_ID_HEADER,
  renderV1Error,
  sendError,
  sendV1Error,
} from './platform/http/error-handler.js';
import { installJsonParser, installNulGuard } from './platform/http/json.js';
import { openApiTransforms } from './platform/http/openapi.js';
import { perAddressRateLimit, symbolBudget } from './platform/http/public-limits.js';
import { installRateLimits, perUserRateLimit } from './platform/http/rate-limit.js';
import { webRoutes } from './platform/http/web.js';
import { healthRoutes, type ReadinessCheck } from './platform/observability/health.js';
import { requestLoggerFactory } from './platform/observability/logger.js';
import { installHttpMetrics, metricsRoutes, observeUnmatched } from './platform/observability/metrics.js';
import type { ProcessDeps } from './process-deps.js';

/** Everything the HTTP app is built from: the process's shared services, plus the signing secret. */
export interface AppDeps extends ProcessDeps {
  /** HS256 signing secret, resolved by the caller (env or generated) */
  jwtSecret: string;
  /** extra readiness checks besides the database (e.g. Redis) */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** the built web terminal's folder (default `dist/web`; tests point it elsewhere) */
  webRoot?: string;
}

/**
 * The route families whose errors are not in the v1 shape, by the start of their paths: the router's
 * own errors there (a broken percent-encoding, a path parameter over 256 characters) are answered
 * as the family answers its other errors — seed 004's `{"error": "text"}` (its clients read no
 * other), the tracking pages' error page. Everything else answers in the v1 shape.
 */
const ROUTER_ERROR_FAMILIES: [string, (reply: FastifyReply, error: unknown) => void][] = [
  ['/crypto/', (reply, error) => sendError(reply, error, renderSeed004Error, seed004Status)],
  ['/tracked/', sendPageError],
];

/** Largest request body accepted (bytes); more → 413. */
const BODY_BYTES_MAX = 64 * 1024;

/**
 * Builds the HTTP application: platform plugins first (docs, body parsers, errors, health), then
 * the feature modules under `/api/v1`, then the seed contracts. Nothing listens until the caller
 * calls `listen` (tests use `inject` or listen on loopback).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db, clock } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    childLoggerFactory: requestLoggerFactory,
    requestIdHeader: false,
    bodyLimit: BODY_BYTES_MAX,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    // Which proxies' X-Forwarded-For names the client address the limits count by (TRUST_PROXY).
    trustProxy: typeof config.trustProxy === 'number' ? hopsTrusted(config.trustProxy) : config.trustProxy,
    // Errors of the router itself (a malformed URL, an over-long path parameter) in the shape of
    // the family whose path it is; no hook runs for them, so they are counted here.
    frameworkErrors: (error, request, reply) => {
      const family = ROUTER_ERROR_FAMILIES.find(([prefix]) => request.url.startsWith(prefix));
      (family?.[1] ?? sendV1Error)(reply as FastifyReply, error);
      observeUnmatched(request, reply as FastifyReply);
    },
    // What Node's HTTP parser refuses (headers over its limit, bytes that are not HTTP) in that shape too.
    clientErrorHandler: answerClientError,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // First, so that every route registered below (health probes included) and the 404s are timed.
  installHttpMetrics(app);

  // Platform plugins: everything a module may rely on is registered first.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'paperbroker',
        description:
          'Paper-trading brokerage and crypto exchange: a double-entry ledger trading at live Binance prices.',
        version: '1.0.0',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    ...openApiTransforms(),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(formbody, { bodyLimit: BODY_BYTES_MAX });
  await installRateLimits(app, deps.cache);
  // CORS is closed unless origins are configured: a browser on another origin gets no
  // Access-Control-Allow-Origin and cannot read an answer (the server's own terminal needs none).
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key'],
      exposedHeaders: ['retry-after', 'x-request-id', 'idempotent-replayed'],
      maxAge: 600,
    });
  }
  installJsonParser(app);
  installErrorHandlers(app, renderV1Error);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes, {
    database: async () => {
      await db.$client.query('select 1');
    },
    ...deps.readinessChecks,
  });
  await app.register(metricsRoutes);

  // Services shared by the modules.
  const ledger = new Ledger();
  // Every money movement of this app's requests runs here; what is queued is written before close.
  const runner = new CommandRunner(db, {
    failpoint: config.failpoint,
    onFailpoint: (at, batchSize) =>
      deps.logger.warn({ failpoint: at, batchSize }, 'failpoint reached: hanging until killed'),
  });
  app.addHook('onClose', () => runner.close());
  const tokens = new TokenService(deps.jwtSecret, config.jwtAccessTtlSeconds, clock);
  const sessions = new SessionService(db, tokens, deps.cache, {
    accessTtlSeconds: config.jwtAccessTtlSeconds,
    refreshTtlSeconds: config.jwtRefreshTtlSeconds,
  });
  const prices = createPriceService(
    config,
    deps.cache,
    clock,
    deps.priceSource,
    deps.fallbackPriceSource,
    deps.events,
  );
  // Public market data stays outside the scope below: it reads no cookie and checks every input
  // strictly (a NUL fails its symbol and interval checks), and its successful answers carry no
  // request id, so the hottest read runs none of that scope's hooks.
  const fees = {
    quoteAsset: config.quoteAsset,
    takerFeeRate: config.takerFeeRate,
    shortInitialMarginRate: config.shortInitialMarginRate,
    shortMaintenanceMarginRate: config.shortMaintenanceMarginRate,
  };
  await app.register(marketRoutes, {
    prefix: '/api/v1/market',
    prices,
    fees,
    publicLimit: perAddressRateLimit(app, config.publicRateLimitPerAddressPerMin),
    symbolBudget: symbolBudget(app, deps.cache, clock, config.publicSymbolsPerAddressPerMin),
  });
  // The web terminal: static files and its shell, with its own security headers (no cookie read).
  await app.register(webRoutes, { root: deps.webRoot });

  // Everything else: accounts, money and the seed contracts, with the auth cookie parsed and NUL
  // characters refused in bodies and queries.
  await app.register(async (api) => {
    // Every answer of these routes names its request (errors anywhere do too: the error handlers).
    // Hooks on every request are callback-style: an async hook costs a promise per request.
    api.addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
    await api.register(cookie);
    installNulGuard(api);

    const requireAuth = createAuthGuard((token) => sessions.verify(token));
    const throttle = new LoginThrottle(app, {
      failuresPerAccountMax: config.loginFailuresPerAccountMax,
      failuresPerAddressMax: config.loginFailuresPerAddressMax,
      failuresPerAccountTotalMax: config.loginFailuresPerAccountTotalMax,
      windowMs: config.loginFailureWindowMs,
    });
    const moneyRateLimit = perUserRateLimit(app, config.rateLimitPerUserPerMin);
    const money = { initialBalance: config.initialBalance, quoteAsset: config.quoteAsset };
    const accountEvents = accountEventSink(deps.events, deps.logger);

    // Feature modules, each an encapsulated plugin under its prefix.
    const auth = { db, ledger, sessions, throttle, requireAuth, ...money };
    await api.register(authRoutes, { prefix: '/api/v1/auth', ...auth });
    await api.register(userRoutes, {
      prefix: '/api/v1/users',
      db,
      sessions,
      requireAuth,
      clearSessionCookies: clearAuthCookie,
    });
    await api.register(walletRoutes, {
      prefix: '/api/v1/wallets',
      db,
      ledger,
      prices,
      moneyRateLimit,
      runner,
      quoteAsset: config.quoteAsset,
      requireAuth,
      accountEvents,
    });
    const margin = { initial: config.shortInitialMarginRate, maintenance: config.shortMaintenanceMarginRate };
    const trading = {
      runner,
      orders: new OrderCommand({ ledger, quoteAsset: config.quoteAsset, margin }),
      resting: new RestingOrderCommand(ledger),
      moneyRateLimit,
      db,
      ledger,
      prices,
      quoteAsset: config.quoteAsset,
      takerFeeRate: config.takerFeeRate,
      makerFeeRate: config.makerFeeRate,
      margin,
      requireAuth,
      accountEvents,
    };
    await api.register(orderRoutes, { prefix: '/api/v1/orders', ...trading });
    await api.register(positionRoutes, { prefix: '/api/v1/positions', ...trading });
    await api.register(portfolioRoutes, { prefix: '/api/v1/wallets', ...trading });

    const tracking = createTrackingService(deps, prices);
    await api.register(trackingRoutes, { prefix: '/api/v1/tracked', tracking, requireAuth });
    await api.register(trackingPages, { prefix: '/tracked', tracking, requireAuth });

    // Bets are settled where the jobs run; a process given no scheduler makes its own (and closes it).
    const betScheduler =
      deps.betScheduler ?? createSettlementScheduler(config.redisUrl, deps.cache, deps.logger);
    if (!deps.betScheduler) api.addHook('onClose', () => betScheduler.close());
    const bets = {
      db,
      ledger,
      prices,
      clock,
      logger: deps.logger,
      quoteAsset: config.quoteAsset,
      limits: betLimitsOf(config),
      scheduler: betScheduler,
      runner,
      placeBets: placeBetCommand(ledger, config.quoteAsset, clock),
      moneyRateLimit,
      requireAuth,
    };
    await api.register(betRoutes, { prefix: '/api/v1/bets', ...bets });

    await api.register(adminRoutes, { prefix: '/api/v1/admin', db, requireAuth });
    await api.register(streamRoutes, {
      prefix: '/api/v1/stream',
      events: deps.events,
      cache: deps.cache,
      prices,
      logger: deps.logger,
      verify: (token) => sessions.verify(token),
      priceCacheTtlMs: config.priceCacheTtlMs,
      pingIntervalMs: config.streamPingIntervalMs,
      sseHeartbeatMs: config.streamSseHeartbeatMs,
      connectionsPerUserMax: config.streamConnectionsPerUserMax,
    });

    // Seed contracts: thin adapters over the same services, each with its own error shape.
    await api.register(seed000Routes, { ...auth, trading, moneyRateLimit });
    await api.register(seed004AuthRoutes, { prefix: '/auth', ...auth });
    await api.register(seed004CryptoRoutes, { prefix: '/crypto', tracking, requireAuth });
    await api.register(seed002Routes, bets);
  });

  return app;
}

/** Fastify's `trustProxy` for a number of proxy hops: the `hops` nearest addresses are proxies. */
function hopsTrusted(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}
