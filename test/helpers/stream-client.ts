import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';

/** A message a stream sent: parsed JSON. */
export type StreamMessage = Record<string, unknown>;

/** Listens on an ephemeral loopback port (once per app) and returns its `http://` origin. */
export async function originOf(app: FastifyInstance): Promise<string> {
  const address = app.server.address();
  if (address && typeof address === 'object') return `http://127.0.0.1:${address.port}`;
  return await app.listen({ port: 0, host: '127.0.0.1' });
}

/**
 * A WebSocket client (the `ws` package, as a Node bot would use) that keeps every message it gets,
 * so a test can wait for the one it expects.
 */
export class TestSocket {
  readonly messages: StreamMessage[] = [];
  /** the close code and reason, once closed */
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as StreamMessage);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  /**
   * Connects to `GET /api/v1/stream` of `origin`.
   * @param auth a bearer token header, a cookie, or `?token=` in the URL
   * @returns the open socket, or the HTTP status the upgrade was refused with
   */
  static async connect(
    origin: string,
    auth: { bearer?: string; cookie?: string; query?: string } = {},
  ): Promise<TestSocket | { refusedStatus: number; body: string }> {
    const url = `${origin.replace(/^http/, 'ws')}/api/v1/stream${auth.query === undefined ? '' : `?token=${encodeURIComponent(auth.query)}`}`;
    const headers: Record<string, string> = {};
    if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
    if (auth.cookie) headers.cookie = auth.cookie;
    const socket = new WebSocket(url, { headers });
    return await new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new TestSocket(socket)));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => resolve({ refusedStatus: response.statusCode ?? 0, body }));
      });
      socket.once('error', reject);
    });
  }

  /** Connects and expects the socket to open. */
  static async open(
    origin: string,
    auth: { bearer?: string; cookie?: string; query?: string },
  ): Promise<TestSocket> {
    const socket = await TestSocket.connect(origin, auth);
    if (!(socket instanceof TestSocket))
      throw new Error(`upgrade refused: ${socket.refusedStatus} ${socket.body}`);
    return socket;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits for the first message (from `from` on) that `match` accepts. */
  async next(match: (m: StreamMessage) => boolean, timeoutMs = 5_000, from = 0): Promise<StreamMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      if (this.closed)
        throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before the message came`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no such message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `{"op":"subscribe","channels":…}` and waits for the answer naming them. */
  async subscribe(channels: string[]): Promise<StreamMessage> {
    const from = this.messages.length;
    this.send({ op: 'subscribe', channels });
    return await this.next((m) => m.op === 'subscribed' || m.op === 'error', 5_000, from);
  }

  /** Waits until the server closes the socket; returns the close code and reason. */
  async whenClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`still open after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
