import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import type { EventBus } from '../../platform/events/bus.js';
import { AUTH_COOKIE_NAME, type Principal, UnauthorizedError } from '../../platform/http/auth-guard.js';
import { errorResponse } from '../../platform/http/schemas.js';
import { ValidationError } from '../../shared/errors.js';
import type { PriceService } from '../market/index.js';
import { CHANNELS_PER_CONNECTION_MAX, isChannelError, parseChannel } from './channels.js';
import { StreamsClosingError, UpgradeRequiredError } from './errors.js';
import { StreamHub } from './hub.js';
import { refreshIntervalMs, startPriceRefresh } from './refresh.js';
import { sseQuery, streamQuery } from './schemas.js';
import type { StreamDeps } from './session.js';
import { serveSse } from './sse.js';
import { serveWebSocket } from './ws.js';

/** What the stream routes are built from. */
export interface StreamRoutesDeps {
  events: EventBus;
  cache: KeyValueCache;
  prices: PriceService;
  logger: Logger;
  /** verifies an access token (signature, expiry, session not revoked) */
  verify: (token: string) => Promise<Principal>;
  priceCacheTtlMs: number;
  pingIntervalMs: number;
  sseHeartbeatMs: number;
  connectionsPerUserMax: number;
}

/** Largest client message (bytes): a subscribe of 100 channels fits many times over. */
const CLIENT_MESSAGE_BYTES_MAX = 64 * 1024;

const CHANNELS_DOC =
  'Channels: "prices:<SYMBOL>" (BTCUSDT or BTC, answered as prices:BTCUSDT; its current price is sent at once, then each change: {channel, symbol, price, bid, ask, as_of}) and "account" (the caller’s own events: {channel: "account", event: "order.accepted" | "order.triggered" | "order.filled" | "order.canceled" | "order.expired" | "order.rejected" | "position.liquidated" | "bet.settled" | "wallet.operation", data: the resource as its REST route answers it}). At most 100 channels per connection and 10 streams per user and instance (the oldest is then closed, 1008).';

const STREAM_DOC = `WebSocket (GET with Upgrade: websocket; answers 101). Authenticate with Authorization: Bearer, the auth cookie, or ?token=<access_token> (browsers cannot set headers on a WebSocket); no or bad token → 401 and no socket. Send {"op":"subscribe","channels":[…]} → {"op":"subscribed","channels":[…]} (an {"op":"error","channel","error"} per channel refused), {"op":"unsubscribe","channels":[…]} → {"op":"unsubscribed",…}, {"op":"ping"} → {"op":"pong"}; a malformed message → {"op":"error"} (10 in a row close the socket, 1008). ${CHANNELS_DOC} The server pings every 30 s and checks the token again: an expired or revoked token closes the socket (1008); a client more than 1 MiB behind is closed (1013); on shutdown, 1001. A plain GET → 426.`;

/** The caller's access token: `Authorization: Bearer`, the auth cookie, or `?token=`. */
function streamToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  const query = (request.query as { token?: unknown } | undefined)?.token;
  return bearer ?? request.cookies?.[AUTH_COOKIE_NAME] ?? (typeof query === 'string' ? query : undefined);
}

/**
 * The streams (SPEC §3 "Streams", C10): WebSocket `GET /api/v1/stream` and SSE
 * `GET /api/v1/stream/sse?channels=…`, fanned out by this instance's hub from the event bus (Redis
 * pub/sub when set, so an event of any instance reaches every instance's clients), with the watched
 * prices refreshed every max(`PRICE_CACHE_TTL_MS`, 1 s). On close, every stream ends with 1001.
 */
export async function streamRoutes(app: FastifyInstance, deps: StreamRoutesDeps): Promise<void> {
  const hub = new StreamHub(deps.events, deps.logger, deps.connectionsPerUserMax);
  await app.register(websocket, {
    options: { maxPayload: CLIENT_MESSAGE_BYTES_MAX },
    // Every stream ends with 1001 once its queued messages are sent; the upgrade listener stays, so a
    // late upgrade on a kept-alive connection is answered 503 rather than dropped.
    preClose(done) {
      hub.close();
      this.websocketServer.close();
      done();
    },
  });
  const stopRefresh = startPriceRefresh(
    hub,
    deps.prices,
    deps.cache,
    refreshIntervalMs(deps.priceCacheTtlMs),
    deps.logger,
  );
  app.addHook('onClose', async () => stopRefresh());
  const session: StreamDeps = { hub, prices: deps.prices, verify: deps.verify };
  const callerOf = authenticateStreams(app, hub, deps);
  registerWebSocketRoute(app, deps, session, callerOf);
  registerSseRoute(app, deps, session, callerOf);
}

/** The verified caller of a stream request, and the token it came with. */
type CallerOf = (request: FastifyRequest) => { principal: Principal; token: string };

/**
 * Verifies every stream request's token before its route runs (no or bad token → 401; 503 while
 * the streams close).
 *
 * @returns the caller of a request that passed
 */
function authenticateStreams(app: FastifyInstance, hub: StreamHub, deps: StreamRoutesDeps): CallerOf {
  const principals = new WeakMap<FastifyRequest, { principal: Principal; token: string }>();
  app.addHook('onRequest', async (request) => {
    if (hub.isClosing) throw new StreamsClosingError();
    const token = streamToken(request);
    if (!token)
      throw new UnauthorizedError('missing access token: send Authorization: Bearer, the cookie, or ?token=');
    principals.set(request, { principal: await deps.verify(token), token });
  });
  return (request) => {
    const caller = principals.get(request);
    if (!caller) throw new UnauthorizedError('authentication required');
    return caller;
  };
}

/** `GET ''` with Upgrade: websocket (a plain GET → 426). */
function registerWebSocketRoute(
  app: FastifyInstance,
  deps: StreamRoutesDeps,
  session: StreamDeps,
  callerOf: CallerOf,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.route({
    method: 'GET',
    url: '',
    schema: {
      tags: ['streams'],
      summary: 'Real-time prices and account events (WebSocket)',
      security: [{ bearerAuth: [] }],
      description: STREAM_DOC,
      querystring: streamQuery,
      response: { 401: errorResponse, 426: errorResponse, 503: errorResponse },
    },
    handler: async () => {
      throw new UpgradeRequiredError();
    },
    wsHandler: (socket, request) => {
      const { principal, token } = callerOf(request);
      serveWebSocket(socket, request, principal, token, { ...session, pingIntervalMs: deps.pingIntervalMs });
    },
  });
}

/** `GET /sse?channels=…`: the same streams as Server-Sent Events. */
function registerSseRoute(
  app: FastifyInstance,
  deps: StreamRoutesDeps,
  session: StreamDeps,
  callerOf: CallerOf,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/sse',
    {
      schema: {
        tags: ['streams'],
        summary: 'Real-time prices and account events (Server-Sent Events)',
        security: [{ bearerAuth: [] }],
        description: `text/event-stream: one "event: subscribed" naming the channels, then "event: <channel>" + "data: <JSON>" per message (the JSON the WebSocket sends), "event: error" per channel refused, a ": heartbeat" comment every 15 s, and "event: close" ({code, reason}) when the server ends the stream. Same auth as the WebSocket (the cookie needs no ?token=). Last-Event-ID is not supported: events are not kept, a reconnecting client gets what happens from then on. ${CHANNELS_DOC}`,
        querystring: sseQuery,
        response: {
          200: {
            description: 'the stream: stays open until the client or the server ends it',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          401: errorResponse,
          422: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { principal, token } = callerOf(request);
      const channels = request.query.channels
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      const valid = channels.filter(
        (name) => !isChannelError(parseChannel(name, '', (s) => deps.prices.normalizeSymbol(s))),
      );
      if (valid.length === 0 || channels.length > CHANNELS_PER_CONNECTION_MAX) {
        throw new ValidationError(
          `channels must name 1 to ${CHANNELS_PER_CONNECTION_MAX} channels: "account" or "prices:<SYMBOL>"`,
        );
      }
      await serveSse(reply, principal, token, channels, {
        ...session,
        heartbeatMs: deps.sseHeartbeatMs,
        tokenCheckMs: deps.pingIntervalMs,
      });
    },
  );
}
