import type { FastifyReply } from 'fastify';
import type { Principal } from '../../platform/http/auth-guard.js';
import { REQUEST_ID_HEADER } from '../../platform/http/error-handler.js';
import { type StreamDeps, StreamSession } from './session.js';

/** What the SSE stream needs besides the session's dependencies. */
export interface SseStreamOptions extends StreamDeps {
  /** how often a comment line is sent, so that proxies keep the response open (ms) */
  heartbeatMs: number;
  /** how often the token is checked again (ms): the WebSocket ping interval */
  tokenCheckMs: number;
}

/** One Server-Sent Event: `event: <name>` and one `data:` line of JSON (JSON has no raw newline). */
function sseEvent(name: string, text: string): string {
  return `event: ${name}\ndata: ${text}\n\n`;
}

/**
 * Serves `GET /api/v1/stream/sse` for an authenticated caller: the response stays open and carries
 * `event: <channel>` + `data: <JSON>` per message (the same JSON as the WebSocket's), after one
 * `event: subscribed` naming the channels and an `event: error` per channel refused; a comment line
 * every `heartbeatMs`; the token checked again every `tokenCheckMs`. A stream that ends is told why
 * (`event: close`, `{code, reason}` with the WebSocket's close codes). No `Last-Event-ID` replay:
 * events are not kept, a client that reconnects gets what happens from then on.
 */
export async function serveSse(
  reply: FastifyReply,
  principal: Principal,
  token: string,
  channels: string[],
  options: SseStreamOptions,
): Promise<void> {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to.
    'x-accel-buffering': 'no',
    [REQUEST_ID_HEADER]: reply.request.id,
  });
  const session = new StreamSession(options, principal, token, {
    send: (channel, message) => raw.write(sseEvent(channel, message.text)),
    bufferedBytes: () => raw.writableLength,
    close: (code, reason) => {
      raw.end(sseEvent('close', JSON.stringify({ code, reason })));
    },
  });
  const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), options.heartbeatMs);
  const tokenCheck = setInterval(() => void session.checkToken(), options.tokenCheckMs);
  heartbeat.unref();
  tokenCheck.unref();
  raw.on('close', () => {
    clearInterval(heartbeat);
    clearInterval(tokenCheck);
    session.closed();
  });
  options.hub.open(session);
  const result = await session.subscribe(channels);
  for (const { channel, error } of result.refused)
    raw.write(sseEvent('error', JSON.stringify({ channel, error })));
  raw.write(sseEvent('subscribed', JSON.stringify({ channels: result.subscribed })));
  session.confirm(result);
}
