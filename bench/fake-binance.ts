/**
 * A small fake of Binance's spot REST API for the market scenarios of `npm run bench`: a real HTTP
 * server on 127.0.0.1 that answers `GET /api/v3/ticker/24hr?symbol=<symbol>` in Binance's format,
 * from the recorded `ticker-24hr-BTCUSDT.json` (../shared/fixtures, read at run time) with the
 * symbol replaced, for the symbols it is given; any other symbol gets Binance's own error body
 * (`-1121 Invalid symbol.`), any other path a 404. It counts the requests it receives, per symbol.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TICKER_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/fixtures/market/binance/ticker-24hr-BTCUSDT.json',
);

export class BenchFakeBinance {
  /** requests received, every path included */
  requestCount = 0;
  /** `GET /api/v3/ticker/24hr?symbol=` requests received, per symbol asked */
  readonly tickerRequests = new Map<string, number>();
  /** ms to wait before answering */
  delayMs = 0;
  private readonly template: Record<string, unknown>;
  private readonly symbols: Set<string>;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  /** @param symbols the symbols it lists, e.g. `['BTCUSDT', 'ETHUSDT']` */
  constructor(symbols: readonly string[]) {
    this.template = JSON.parse(fs.readFileSync(TICKER_FILE, 'utf8')) as Record<string, unknown>;
    this.symbols = new Set(symbols);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Upstream requests received for `symbol`. */
  requestsFor(symbol: string): number {
    return this.tickerRequests.get(symbol) ?? 0;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requestCount += 1;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '2' });
      res.end(body);
    };
    const symbol = url.searchParams.get('symbol');
    if (req.method !== 'GET' || url.pathname !== '/api/v3/ticker/24hr' || symbol === null) {
      send(404, '{"code":-1000,"msg":"not served by the bench fake"}');
      return;
    }
    this.tickerRequests.set(symbol, this.requestsFor(symbol) + 1);
    const answer = () => {
      if (!this.symbols.has(symbol)) send(400, '{"code":-1121,"msg":"Invalid symbol."}');
      else send(200, JSON.stringify({ ...this.template, symbol }));
    };
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }
}
