import type http from 'node:http';
import { readFixture } from './fixtures.js';
import { LoopbackServer, type UpstreamMode } from './loopback-server.js';

/** A symbol's LOT_SIZE and MIN_NOTIONAL values, as Binance writes them. */
export interface SymbolFilters {
  minQty: string;
  maxQty: string;
  stepSize: string;
  minNotional: string;
}

type BinanceFilter = { filterType: string } & Record<string, unknown>;

/**
 * How the fake answers: as every fake upstream can, or with JSON that is not the endpoint's format
 * (`wrong-shape`), or Binance's 418 IP ban (`banned`), or the network's failures: the right answer
 * only after `slowMs` (`slow`), the connection reset before any answer (`reset`), or the headers and
 * half the right body (its full Content-Length announced) and then the socket destroyed
 * (`cut-body`) or held open without another byte (`stall-body`).
 */
export type FakeMode = UpstreamMode | 'wrong-shape' | 'banned' | 'slow' | 'reset' | 'cut-body' | 'stall-body';

type BinanceObject = Record<string, unknown>;

/** One symbol's answers on the three ticker endpoints. */
interface SymbolTickers {
  /** `/api/v3/ticker/24hr` */
  ticker24hr: BinanceObject;
  /** `/api/v3/ticker/price` */
  price: BinanceObject;
  /** `/api/v3/ticker/bookTicker` */
  bookTicker: BinanceObject;
}

const TICKER_PATHS = {
  '/api/v3/ticker/24hr': 'ticker24hr',
  '/api/v3/ticker/price': 'price',
  '/api/v3/ticker/bookTicker': 'bookTicker',
} as const satisfies Record<string, keyof SymbolTickers>;

function isTickerPath(path: string): path is keyof typeof TICKER_PATHS {
  return Object.hasOwn(TICKER_PATHS, path);
}

/**
 * The request weight Binance charges for a request (its market-data endpoints' tables): ticker/24hr
 * 2 for one symbol or a list of 1–20, 40 for 21–100, 80 above or for all; ticker/price and
 * ticker/bookTicker 2 for one symbol, 4 for a list or all; klines 2; exchangeInfo 20.
 */
function weightOf(url: URL): number {
  const list = url.searchParams.get('symbols');
  const listed = list === null ? undefined : (JSON.parse(list) as unknown[]).length;
  const one = url.searchParams.has('symbol');
  if (url.pathname === '/api/v3/ticker/24hr') {
    if (one || (listed !== undefined && listed <= 20)) return 2;
    return listed !== undefined && listed <= 100 ? 40 : 80;
  }
  if (isTickerPath(url.pathname)) return one ? 2 : 4;
  if (url.pathname === '/api/v3/exchangeInfo') return 20;
  return 2;
}

/**
 * A real HTTP server on loopback that answers like Binance's spot REST API, from the recorded
 * responses in ../shared/fixtures/market/binance: `ticker/24hr`, `ticker/price` and
 * `ticker/bookTicker` for one symbol (`symbol=`, an object) or several (`symbols=["A","B"]`, an
 * array of the same objects), klines and exchangeInfo. BTCUSDT answers the recordings as they are;
 * prices of a symbol can be set. Unknown symbols get Binance's own error body (a list with one
 * refuses the whole list). Counts the requests it receives.
 */
export class FakeBinance extends LoopbackServer {
  mode: FakeMode = 'ok';
  /** `Retry-After` of the 429 and 418 answers (s) */
  retryAfterSeconds = 2;
  /** Only this path fails in the failure modes (e.g. `/api/v3/ticker/price`); undefined → every path. */
  failPath: string | undefined;
  /** requests per path, e.g. `/api/v3/ticker/24hr` */
  readonly requestsByPath = new Map<string, number>();
  /** price requests (the three ticker endpoints) naming each symbol, alone or in a `symbols` list */
  readonly priceRequestsBySymbol = new Map<string, number>();
  /**
   * batch price requests (a `symbols` list on a ticker endpoint) by the symbols they name, sorted and
   * joined with `,` (e.g. `BNBUSDT,ETHUSDT`): how a test counts one caller's batches
   */
  readonly batchRequestsBySymbols = new Map<string, number>();
  /** ms to wait before answering in mode 'ok' */
  delayMs = 0;
  /** ms to wait before answering in mode 'slow' (the right answer, long after any client gave up) */
  slowMs = 9000;
  /**
   * how far Binance's clock is off the real one (ms): `GET /api/v3/time` answers
   * `{"serverTime": now + serverTimeSkewMs}`
   */
  serverTimeSkewMs = 0;
  /**
   * Request weight received since the fake started, as Binance counts it; sent back in
   * `X-MBX-USED-WEIGHT-1M` (Binance's window is a minute, which no test lasts).
   */
  usedWeight1m = 0;
  private readonly tickers = new Map<string, SymbolTickers>();
  private readonly filters = new Map<string, SymbolFilters>();
  /** Every last price each symbol has had, and since when (ms): its 1 s klines are made from them. */
  private readonly lastPrices = new Map<string, { sinceMs: number; price: string }[]>();
  /** answers of mode 'slow' not sent yet: cleared by `close()` */
  private readonly slowTimers = new Set<NodeJS.Timeout>();

  constructor() {
    super();
    const recorded = (name: string) =>
      JSON.parse(readFixture(`binance/${name}-BTCUSDT.json`)) as BinanceObject;
    this.tickers.set('BTCUSDT', {
      ticker24hr: recorded('ticker-24hr'),
      price: recorded('ticker-price'),
      bookTicker: recorded('ticker-bookTicker'),
    });
    this.lastPrices.set('BTCUSDT', [
      { sinceMs: Date.now(), price: String(this.tickers.get('BTCUSDT')!.price.price) },
    ]);
  }

  /**
   * Sets the last price, bid and ask of a symbol (decimal strings, `"0.00000000"` for an empty book
   * side) on every ticker endpoint; adds the symbol if new. Other fields are BTCUSDT's recorded ones.
   */
  setQuote(symbol: string, quote: { last: string; bid: string; ask: string }): void {
    const base = this.tickers.get('BTCUSDT')!;
    this.tickers.set(symbol, {
      ticker24hr: {
        ...base.ticker24hr,
        symbol,
        lastPrice: quote.last,
        bidPrice: quote.bid,
        askPrice: quote.ask,
      },
      price: { ...base.price, symbol, price: quote.last },
      bookTicker: { ...base.bookTicker, symbol, bidPrice: quote.bid, askPrice: quote.ask },
    });
    this.lastPrices.set(symbol, [
      ...(this.lastPrices.get(symbol) ?? []),
      { sinceMs: Date.now(), price: quote.last },
    ]);
  }

  /**
   * `GET /api/v3/klines?interval=1s&startTime=&endTime=&limit=` as Binance answers it: one kline per
   * second from `startTime` (none before the symbol's first price, none after now), each at the last
   * price set by its end (open = high = low = close, no volume).
   */
  private secondKlines(symbol: string, query: URLSearchParams): unknown[] {
    const history = this.lastPrices.get(symbol) ?? [];
    const limit = Number(query.get('limit') ?? '500');
    const endMs = Math.min(Number(query.get('endTime') ?? Date.now()), Date.now());
    const rows: unknown[] = [];
    for (
      let openMs = Math.ceil(Number(query.get('startTime') ?? endMs) / 1000) * 1000;
      openMs <= endMs && rows.length < limit;
      openMs += 1000
    ) {
      const price = history.findLast((p) => p.sinceMs <= openMs + 999)?.price;
      if (price === undefined) continue;
      rows.push([openMs, price, price, price, price, '0', openMs + 999, '0', 0, '0', '0', '0']);
    }
    return rows;
  }

  /** Requests received on `path`, e.g. `/api/v3/ticker/price`. */
  count(path: string): number {
    return this.requestsByPath.get(path) ?? 0;
  }

  /** Overrides a symbol's LOT_SIZE and MIN_NOTIONAL filters in exchangeInfo (decimal strings). */
  setFilters(symbol: string, filters: SymbolFilters): void {
    this.filters.set(symbol, filters);
  }

  get baseUrl(): string {
    return this.origin;
  }

  override async close(): Promise<void> {
    for (const timer of this.slowTimers) clearTimeout(timer);
    this.slowTimers.clear();
    await super.close();
  }

  protected override handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.requestsByPath.set(url.pathname, (this.requestsByPath.get(url.pathname) ?? 0) + 1);
    if (isTickerPath(url.pathname)) {
      const list = url.searchParams.get('symbols');
      const named = list === null ? [url.searchParams.get('symbol') ?? ''] : (JSON.parse(list) as string[]);
      for (const symbol of named)
        this.priceRequestsBySymbol.set(symbol, (this.priceRequestsBySymbol.get(symbol) ?? 0) + 1);
      if (list !== null) {
        const batch = [...named].sort().join(',');
        this.batchRequestsBySymbols.set(batch, (this.batchRequestsBySymbols.get(batch) ?? 0) + 1);
      }
    }
    this.usedWeight1m += weightOf(url);
    const failing = this.failPath === undefined || this.failPath === url.pathname;
    const mode = failing ? this.mode : 'ok';
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-mbx-used-weight-1m': String(this.usedWeight1m),
        // Content-Length promises the whole body: in modes 'cut-body' and 'stall-body' half of it
        // goes out, then the connection is cut or stalls.
        'content-length': String(Buffer.byteLength(body)),
        ...headers,
      });
      const half = body.slice(0, Math.floor(body.length / 2));
      if (mode === 'cut-body') res.write(half, () => res.destroy());
      else if (mode === 'stall-body') {
        res.write(half);
        this.hang(res);
      } else res.end(body);
    };
    switch (mode) {
      case 'reset':
        req.socket.destroy();
        return;
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
      case 'html200':
        send(200, '<!DOCTYPE html><html><body>Maintenance</body></html>', { 'content-type': 'text/html' });
        return;
      case 'wrong-shape':
        send(200, '{"unexpected":true}');
        return;
      case 'rate-limited':
        send(429, '{"code":-1003,"msg":"Too many requests."}', {
          'retry-after': String(this.retryAfterSeconds),
        });
        return;
      case 'banned':
        send(418, '{"code":-1003,"msg":"Way too many requests; IP banned until later."}', {
          'retry-after': String(this.retryAfterSeconds),
        });
        return;
      default:
        break;
    }
    const invalidSymbol = () => send(400, '{"code":-1121,"msg":"Invalid symbol."}');
    const answer = () => {
      if (isTickerPath(url.pathname)) {
        const field = TICKER_PATHS[url.pathname];
        const batch = url.searchParams.get('symbols');
        if (batch !== null) {
          // Binance refuses the whole batch when one symbol is unknown.
          const symbols = JSON.parse(batch) as string[];
          const tickers = symbols.map((s) => this.tickers.get(s)?.[field]);
          if (tickers.some((t) => !t)) return invalidSymbol();
          return send(200, JSON.stringify(tickers));
        }
        const ticker = this.tickers.get(url.searchParams.get('symbol') ?? '')?.[field];
        if (!ticker) return invalidSymbol();
        return send(200, JSON.stringify(ticker));
      }
      if (url.pathname === '/api/v3/klines') {
        const symbol = url.searchParams.get('symbol') ?? '';
        if (!this.tickers.has(symbol)) return invalidSymbol();
        if (url.searchParams.get('interval') === '1s')
          return send(200, JSON.stringify(this.secondKlines(symbol, url.searchParams)));
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
        return send(200, JSON.stringify(info));
      }
      if (url.pathname === '/api/v3/time')
        return send(200, JSON.stringify({ serverTime: Date.now() + this.serverTimeSkewMs }));
      return send(404, '{"code":-1000,"msg":"not served by the fake"}');
    };
    if (mode === 'slow') {
      const timer = setTimeout(() => {
        this.slowTimers.delete(timer);
        if (!res.destroyed) answer();
      }, this.slowMs);
      this.slowTimers.add(timer);
    } else if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }
}
