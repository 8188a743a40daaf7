import type http from 'node:http';
import { readFixture } from './fixtures.js';
import { LoopbackServer } from './loopback-server.js';

/** A symbol's LOT_SIZE and MIN_NOTIONAL values, as Binance writes them. */
export interface SymbolFilters {
  minQty: string;
  maxQty: string;
  stepSize: string;
  minNotional: string;
}

type BinanceFilter = { filterType: string } & Record<string, unknown>;

/** How the fake answers: normally, or one of the failures a real upstream shows. */
export type FakeMode = 'ok' | 'error500' | 'hang' | 'garbage' | 'html' | 'rate-limited' | 'banned';

/**
 * A real HTTP server on loopback that answers like Binance's spot REST API, from the recorded
 * responses in ../shared/fixtures/market/binance. Prices of a symbol can be overridden; unknown
 * symbols get Binance's own error body. Counts the requests it receives.
 */
export class FakeBinance extends LoopbackServer {
  mode: FakeMode = 'ok';
  /** requests per path, e.g. `/api/v3/ticker/24hr` */
  readonly requestsByPath = new Map<string, number>();
  /** ms to wait before answering in mode 'ok' */
  delayMs = 0;
  private readonly tickers = new Map<string, Record<string, unknown>>();
  private readonly filters = new Map<string, SymbolFilters>();

  constructor() {
    super();
    this.tickers.set(
      'BTCUSDT',
      JSON.parse(readFixture('binance/ticker-24hr-BTCUSDT.json')) as Record<string, unknown>,
    );
  }

  /** Sets the last price, bid and ask of a symbol (decimal strings); adds the symbol if new. */
  setQuote(symbol: string, quote: { last: string; bid: string; ask: string }): void {
    const base = this.tickers.get('BTCUSDT')!;
    this.tickers.set(symbol, {
      ...base,
      symbol,
      lastPrice: quote.last,
      bidPrice: quote.bid,
      askPrice: quote.ask,
    });
  }

  /** Overrides a symbol's LOT_SIZE and MIN_NOTIONAL filters in exchangeInfo (decimal strings). */
  setFilters(symbol: string, filters: SymbolFilters): void {
    this.filters.set(symbol, filters);
  }

  get baseUrl(): string {
    return this.origin;
  }

  protected override handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.requestsByPath.set(url.pathname, (this.requestsByPath.get(url.pathname) ?? 0) + 1);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '2', ...headers });
      res.end(body);
    };
    switch (this.mode) {
      case 'hang':
        this.hang(res);
        return;
      case 'error500':
        send(500, '{"code":-1000,"msg":"An unknown error occured while processing the request."}');
        return;
      case 'garbage':
        send(200, '{"symbol":"BTCUSDT","lastPr');
        return;
      case 'html':
        send(502, '<html><body>Bad gateway</body></html>', { 'content-type': 'text/html' });
        return;
      case 'rate-limited':
        send(429, '{"code":-1003,"msg":"Too many requests."}', { 'retry-after': '2' });
        return;
      case 'banned':
        send(418, '{"code":-1003,"msg":"Way too many requests; IP banned until later."}', {
          'retry-after': '2',
        });
        return;
      default:
        break;
    }
    const invalidSymbol = () => send(400, '{"code":-1121,"msg":"Invalid symbol."}');
    const answer = () => {
      if (url.pathname === '/api/v3/ticker/24hr') {
        const batch = url.searchParams.get('symbols');
        if (batch !== null) {
          // Binance refuses the whole batch when one symbol is unknown.
          const symbols = JSON.parse(batch) as string[];
          const tickers = symbols.map((s) => this.tickers.get(s));
          if (tickers.some((t) => !t)) return invalidSymbol();
          return send(200, JSON.stringify(tickers), { 'x-mbx-used-weight-1m': '40' });
        }
        const ticker = this.tickers.get(url.searchParams.get('symbol') ?? '');
        if (!ticker) return invalidSymbol();
        return send(200, JSON.stringify(ticker));
      }
      if (url.pathname === '/api/v3/klines') {
        const symbol = url.searchParams.get('symbol') ?? '';
        if (!this.tickers.has(symbol)) return invalidSymbol();
        const rows = JSON.parse(readFixture('binance/klines-BTCUSDT-1m-response.json')) as unknown[];
        const limit = Number(url.searchParams.get('limit') ?? '500');
        return send(200, JSON.stringify(rows.slice(-limit)));
      }
      if (url.pathname === '/api/v3/exchangeInfo') {
        const info = JSON.parse(readFixture('binance/exchangeInfo-BTCUSDT.json')) as {
          symbols: { symbol: string; baseAsset: string }[];
        };
        const template = info.symbols[0]! as { symbol: string; baseAsset: string; filters?: BinanceFilter[] };
        info.symbols = [...this.tickers.keys()].map((symbol) => {
          const own = this.filters.get(symbol);
          const filters = (template.filters ?? []).map((f) => {
            if (!own) return f;
            if (f.filterType === 'LOT_SIZE')
              return { ...f, minQty: own.minQty, maxQty: own.maxQty, stepSize: own.stepSize };
            if (f.filterType === 'MIN_NOTIONAL') return { ...f, minNotional: own.minNotional };
            return f;
          });
          return { ...template, symbol, baseAsset: symbol.replace(/USDT$/, ''), filters };
        });
        return send(200, JSON.stringify(info), { 'x-mbx-used-weight-1m': '20' });
      }
      return send(404, '{"code":-1000,"msg":"not served by the fake"}');
    };
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }
}
