import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How a fake upstream answers: normally, or one of the failures real upstreams show — a 500, no
 * answer, a truncated body (`garbage`), a proxy's 502 HTML page, an HTML page with 200, a 429.
 */
export type UpstreamMode = 'ok' | 'error500' | 'hang' | 'garbage' | 'html' | 'html200' | 'rate-limited';

/**
 * The common part of the fake upstreams: a real HTTP server on 127.0.0.1 (a free port), a request
 * counter, and responses held open ("hanging") until `close()`.
 */
export abstract class LoopbackServer {
  /** requests received */
  requestCount = 0;
  private server: http.Server | undefined;
  private readonly hanging = new Set<http.ServerResponse>();

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.requestCount += 1;
      this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Never answers `res` (an upstream that hangs); `close()` drops it. */
  protected hang(res: http.ServerResponse): void {
    this.hanging.add(res);
  }

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): void;
}
