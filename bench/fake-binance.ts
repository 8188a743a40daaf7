/**
 * A small fake of Binance's spot REST API for the market scenarios of `npm run bench`: a real HTTP
 * server on 127.0.0.1 that answers `GET /api/v3/ticker/24hr?symbol=<symbol>`,
 * `GET /api/v3/ticker/price` and `GET /api/v3/ticker/bookTicker` (one `symbol=`, an object, or
 * `symbols=["A","B"]`, an array of the same objects) in Binance's format, from the recorded
 * `ticker-24hr-BTCUSDT.json`, `ticker-price-BTCUSDT.json` and `ticker-bookTicker-BTCUSDT.json`
 * (../shared/fixtures, read at run time) with the symbol replaced, for the symbols it is given. Any
 * other symbol gets Binance's own error body (`-1121 Invalid symbol.`; a list with one is refused
 * whole), any other path a 404. It counts the requests it receives, per symbol.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/fixtures/market/binance',
);

/** The endpoints served, each with the recording its answers are made from. */
const RECORDED_FILES = {
  '/api/v3/ticker/24hr': 'ticker-24hr-BTCUSDT.json',
  '/api/v3/ticker/price': 'ticker-price-BTCUSDT.json',
  '/api/v3/ticker/bookTicker': 'ticker-bookTicker-BTCUSDT.json',
} as const;
type Route = keyof typeof RECORDED_FILES;

function isRoute(pathname: string): pathname is Route {
  return Object.hasOwn(RECORDED_FILES, pathname);
}

export class BenchFakeBinance {
  /** requests received, every path included */
  requestCount = 0;
  /** ticker requests received that name the symbol (alone or in a list), per symbol */
  readonly tickerRequests = new Map<string, number>();
  /** ms to wait before answering */
  delayMs = 0;
  private readonly templates: Record<Route, Record<string, unknown>>;
  private readonly symbols: Set<string>;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  /** @param symbols the symbols it lists, e.g. `['BTCUSDT', 'ETHUSDT']` */
  constructor(symbols: readonly string[]) {
    const read = (route: Route) =>
      JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, RECORDED_FILES[route]), 'utf8')) as Record<
        string,
        unknown
      >;
    this.templates = {
      '/api/v3/ticker/24hr': read('/api/v3/ticker/24hr'),
      '/api/v3/ticker/price': read('/api/v3/ticker/price'),
      '/api/v3/ticker/bookTicker': read('/api/v3/ticker/bookTicker'),
    };
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
    const route = url.pathname;
    const symbol = url.searchParams.get('symbol');
    const list = url.searchParams.get('symbols');
    // The 24 h ticker is served for one symbol only: the bench asks nothing else of it.
    const served = isRoute(route) && (symbol !== null || (list !== null && route !== '/api/v3/ticker/24hr'));
    if (req.method !== 'GET' || !served) {
      send(404, '{"code":-1000,"msg":"not served by the bench fake"}');
      return;
    }
    const asked = symbol !== null ? [symbol] : parseSymbols(list);
    for (const one of asked) this.tickerRequests.set(one, this.requestsFor(one) + 1);
    const answer = () => {
      if (asked.length === 0 || !asked.every((one) => this.symbols.has(one))) {
        send(400, '{"code":-1121,"msg":"Invalid symbol."}');
        return;
      }
      const objects = asked.map((one) => ({ ...this.templates[route], symbol: one }));
      send(200, JSON.stringify(symbol !== null ? objects[0] : objects));
    };
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }
}

/** The symbols of a `symbols=["A","B"]` parameter; none when it is not such a list. */
function parseSymbols(text: string | null): string[] {
  try {
    const parsed: unknown = JSON.parse(text ?? '');
    return Array.isArray(parsed) && parsed.every((s) => typeof s === 'string') ? parsed : [];
  } catch {
    return [];
  }
}
