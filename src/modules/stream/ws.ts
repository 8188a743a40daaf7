import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Principal } from '../../platform/http/auth-guard.js';
import { CHANNELS_PER_CONNECTION_MAX } from './channels.js';
import { type StreamDeps, StreamSession } from './session.js';

/** Malformed messages in a row after which a socket is closed (1008). */
const MALFORMED_IN_A_ROW_MAX = 10;
/** Client messages waiting to be handled at most: a client flooding faster is closed (1008). */
const PENDING_MESSAGES_MAX = 100;
/** How long a closed socket may take to finish its closing handshake before it is cut (ms). */
const CLOSE_GRACE_MS = 2_000;
/**
 * The same for a client closed for being too slow (1013): its close frame waits behind up to 1 MiB it
 * has not read yet, and nothing more is queued for it, so it gets longer to read them (ms).
 */
const SLOW_CLOSE_GRACE_MS = 10_000;

/** What the WebSocket stream needs besides the session's dependencies. */
export interface WebSocketStreamOptions extends StreamDeps {
  /** how often each socket is pinged and its token checked again (ms) */
  pingIntervalMs: number;
}

/** A client operation, once understood. */
type ClientOp =
  | { op: 'subscribe' | 'unsubscribe'; channels: unknown[] }
  | { op: 'ping' }
  | { op: 'malformed'; message: string };

/** Reads a client message: `{"op":"subscribe"|"unsubscribe","channels":[…]}` or `{"op":"ping"}`. */
function parseOp(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ClientOp {
  if (isBinary) return { op: 'malformed', message: 'messages are JSON text, not binary' };
  let message: unknown;
  try {
    message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
  } catch {
    return { op: 'malformed', message: 'a message must be JSON, e.g. {"op":"ping"}' };
  }
  const op = (message as { op?: unknown } | null)?.op;
  if (op === 'ping') return { op };
  if (op === 'subscribe' || op === 'unsubscribe') {
    const channels = (message as { channels?: unknown }).channels;
    if (Array.isArray(channels) && channels.length > 0 && channels.length <= CHANNELS_PER_CONNECTION_MAX)
      return { op, channels };
    return {
      op: 'malformed',
      message: `"${op}" needs "channels": a list of 1 to ${CHANNELS_PER_CONNECTION_MAX} channel names`,
    };
  }
  return { op: 'malformed', message: 'op must be "subscribe", "unsubscribe" or "ping"' };
}

/**
 * Serves one upgraded connection of `GET /api/v1/stream` for an authenticated caller: the client's
 * operations (answered in order), the messages of its channels, a ping every `pingIntervalMs` (a peer
 * that did not answer the last one is cut) with the token checked again at each.
 */
export function serveWebSocket(
  socket: WebSocket,
  request: FastifyRequest,
  principal: Principal,
  token: string,
  options: WebSocketStreamOptions,
): void {
  const session = new StreamSession(options, principal, token, {
    send: (_channel, message) => socket.send(message.bytes, { binary: false }),
    bufferedBytes: () => socket.bufferedAmount,
    close: (code, reason) => {
      socket.close(code, reason);
      setTimeout(() => socket.terminate(), code === 1013 ? SLOW_CLOSE_GRACE_MS : CLOSE_GRACE_MS).unref();
    },
  });
  const reply = (message: object) => socket.send(JSON.stringify(message));
  let malformedInARow = 0;
  let pending = 0;
  let queue = Promise.resolve();
  socket.on('message', (data, isBinary) => {
    if (++pending > PENDING_MESSAGES_MAX) {
      session.end(1008, 'too many messages waiting: slow down');
      return;
    }
    // One at a time, so answers come in the order of the requests.
    queue = queue.then(async () => {
      const op = parseOp(data, isBinary);
      if (op.op === 'malformed') {
        reply({ op: 'error', error: { code: 'BAD_MESSAGE', message: op.message } });
        if (++malformedInARow >= MALFORMED_IN_A_ROW_MAX)
          session.end(1008, `${MALFORMED_IN_A_ROW_MAX} malformed messages in a row`);
        return;
      }
      malformedInARow = 0;
      if (op.op === 'ping') return reply({ op: 'pong' });
      if (op.op === 'unsubscribe')
        return reply({ op: 'unsubscribed', channels: await session.unsubscribe(op.channels) });
      const result = await session.subscribe(op.channels);
      for (const { channel, error } of result.refused) reply({ op: 'error', channel, error });
      if (result.subscribed.length > 0) reply({ op: 'subscribed', channels: result.subscribed });
      session.confirm(result);
    });
    queue = queue
      .catch((err: unknown) => request.log.warn({ err }, 'stream message failed'))
      .finally(() => {
        pending -= 1;
      });
  });
  let answeredPing = true;
  socket.on('pong', () => {
    answeredPing = true;
  });
  const pinger = setInterval(() => {
    if (!answeredPing) {
      socket.terminate();
      return;
    }
    answeredPing = false;
    socket.ping();
    void session.checkToken();
  }, options.pingIntervalMs);
  pinger.unref();
  socket.on('close', () => {
    clearInterval(pinger);
    session.closed();
  });
  options.hub.open(session);
}
