import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * How to close `app` without keeping the process for a minute: `app.close()` stops accepting,
 * answers the requests in flight and closes the connections that are idle at that moment. A
 * connection busy then goes idle once its answer is sent, and Node keeps it open for Fastify's
 * keep-alive timeout (72 s): the shutdown would wait that long for clients that pool connections (a
 * load balancer, fetch). So each request in flight when closing begins is answered with
 * `Connection: close`, which ends its connection right after the answer, as Fastify already does for
 * a request that arrives while closing (503). Streams (SSE, WebSocket) end through the stream hub.
 * Call it before `listen`: it watches the requests from then on.
 * @returns the close to run at shutdown
 */
export function closeGracefully(app: FastifyInstance): () => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  app.server.on('request', (_request, response: ServerResponse) => {
    if (closing) return;
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });
  return async () => {
    closing = true;
    for (const response of inFlight) {
      if (!response.headersSent) response.setHeader('connection', 'close');
    }
    inFlight.clear();
    await app.close();
  };
}
