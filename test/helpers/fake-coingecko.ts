import type http from 'node:http';
import { readFixture } from './fixtures.js';
import { LoopbackServer, type UpstreamMode } from './loopback-server.js';

/** How the fake answers: as every fake upstream can, or with an empty `/coins/list`. */
export type FakeCoinGeckoMode = UpstreamMode | 'empty-list';

export interface CoinEntry {
  id: string;
  symbol: string;
  name: string;
}
type MarketRecord = Record<string, unknown> & {
  id: string;
  market_cap: number | null;
  market_cap_rank: number | null;
};

/** CoinGecko's own 429 body (public API). */
const RATE_LIMIT_BODY = JSON.stringify({
  status: {
    error_code: 429,
    error_message:
      "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
  },
});

/**
 * A real HTTP server on loopback that answers like CoinGecko's public API v3 — `/coins/list`,
 * `/coins/markets`, `/simple/price` — from the recorded responses in
 * ../shared/fixtures/market/coingecko (25 coins with real symbol collisions; market data of
 * bitcoin, ethereum, tether, usd-coin and binancecoin on 2023-01-02). Market data and prices of
 * other coins can be set by the test. Counts requests, per path too, and keeps their URLs.
 */
/** Marks a string the fake sends as a bare JSON number literal. */
const RAW_NUMBER = '__raw_number__';

export class FakeCoinGecko extends LoopbackServer {
  mode: FakeCoinGeckoMode = 'ok';
  /** Only this path fails in the failure modes (e.g. `/simple/price`); undefined → every path. */
  failPath: string | undefined;
  /** `Retry-After` sent with a 429; null → no header. */
  retryAfter: string | null = '2';
  /** `/coins/markets` in CoinGecko's default order (market cap, largest first) or reversed. */
  marketsOrder: 'market_cap_desc' | 'reversed' = 'market_cap_desc';
  /** ms to wait before answering normally */
  delayMs = 0;
  readonly requestsByPath = new Map<string, number>();
  /** every request's URL, in arrival order */
  readonly requests: URL[] = [];
  private coinsListText: string;
  private readonly coins: CoinEntry[];
  private readonly markets = new Map<string, MarketRecord>();
  private readonly pricesUsd = new Map<string, number | string | null>();

  constructor() {
    super();
    this.coinsListText = readFixture('coingecko/coins-list-subset.json');
    this.coins = JSON.parse(this.coinsListText) as CoinEntry[];
    for (const record of JSON.parse(readFixture('coingecko/coins-markets-usd.json')) as MarketRecord[]) {
      this.markets.set(record.id, record);
    }
  }

  /** Requests received on `path` (`/coins/list`, `/coins/markets`, `/simple/price`). */
  count(path: string): number {
    return this.requestsByPath.get(path) ?? 0;
  }

  /** The `ids` of every request on `path`, each as a list. */
  idsRequested(path: string): string[][] {
    return this.requests
      .filter((url) => url.pathname.replace(/^\/api\/v3/, '') === path)
      .map((url) => (url.searchParams.get('ids') ?? '').split(',').filter(Boolean));
  }

  /**
   * Gives a listed coin market data (USD market cap and rank, null for none), shaped like the
   * recorded bitcoin record; its price becomes `priceUsd` when given.
   */
  setMarket(id: string, market: { marketCap: number | null; rank: number | null; priceUsd?: number }): void {
    const coin = this.coins.find((c) => c.id === id);
    if (!coin) throw new Error(`fake-coingecko: ${id} is not in the coins list`);
    const template = this.markets.get('bitcoin')!;
    this.markets.set(id, {
      ...template,
      id,
      symbol: coin.symbol,
      name: coin.name,
      current_price: market.priceUsd ?? null,
      market_cap: market.marketCap,
      market_cap_rank: market.rank,
    });
  }

  /** Lists one more coin in `/coins/list` (e.g. `dogecoin`, which the recorded subset lacks). */
  addCoin(coin: CoinEntry): void {
    if (this.coins.some((c) => c.id === coin.id)) return;
    this.coins.push(coin);
    this.coinsListText = JSON.stringify(this.coins);
  }

  /**
   * Sets the USD price `/simple/price` answers for `id` (null → the coin has no USD price). A string
   * is sent as that exact JSON number literal, e.g. one with more digits than a double holds.
   */
  setPrice(id: string, usd: number | string | null): void {
    this.pricesUsd.set(id, usd);
  }

  get baseUrl(): string {
    return `${this.origin}/api/v3`;
  }

  get host(): string {
    return new URL(this.origin).host;
  }

  protected override handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/^\/api\/v3/, '');
    this.requestsByPath.set(path, this.count(path) + 1);
    this.requests.push(url);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body);
    };
    if (this.failPath === undefined || this.failPath === path) {
      switch (this.mode) {
        case 'hang':
          this.hang(res);
          return;
        case 'error500':
          send(500, '{"error":"Internal Server Error"}');
          return;
        case 'garbage':
          send(200, '[{"id":"bitcoin","symbol":"btc","na');
          return;
        case 'html':
          send(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', { 'content-type': 'text/html' });
          return;
        case 'html200':
          send(200, '<!DOCTYPE html><html><body>Just a moment...</body></html>', {
            'content-type': 'text/html',
          });
          return;
        case 'rate-limited':
          send(429, RATE_LIMIT_BODY, this.retryAfter === null ? {} : { 'retry-after': this.retryAfter });
          return;
        case 'empty-list':
          if (path === '/coins/list') {
            send(200, '[]');
            return;
          }
          break;
        default:
          break;
      }
    }
    const answer = () => {
      if (path === '/coins/list') return send(200, this.coinsListText);
      if (path === '/coins/markets') return this.answerMarkets(url, send);
      if (path === '/simple/price') return this.answerSimplePrice(url, send);
      return send(404, '{"error":"Incorrect path. Please check https://www.coingecko.com/api/"}');
    };
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }

  /** `/coins/markets?vs_currency=usd&ids=a,b&per_page=&page=`: records of the ids that have market data. */
  private answerMarkets(url: URL, send: (status: number, body: string) => void) {
    if (url.searchParams.get('vs_currency') !== 'usd') {
      return send(400, '{"error":"invalid vs_currency"}');
    }
    const ids = url.searchParams.get('ids')?.split(',');
    const perPage = Math.min(250, Number(url.searchParams.get('per_page') ?? 100) || 100);
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const records = [...this.markets.values()]
      .filter((record) => !ids || ids.includes(record.id))
      .sort((a, b) => (b.market_cap ?? -1) - (a.market_cap ?? -1));
    if (this.marketsOrder === 'reversed') records.reverse();
    send(200, JSON.stringify(records.slice((page - 1) * perPage, page * perPage)));
  }

  /** `/simple/price?ids=a,b&vs_currencies=usd` → `{"a":{"usd":1.23}}`; unknown ids are left out. */
  private answerSimplePrice(url: URL, send: (status: number, body: string) => void) {
    const ids = url.searchParams.get('ids')?.split(',').filter(Boolean) ?? [];
    const currencies = url.searchParams.get('vs_currencies')?.split(',') ?? [];
    if (ids.length === 0 || currencies.length === 0) {
      return send(400, '{"error":"Missing parameter ids or vs_currencies"}');
    }
    const body: Record<string, Record<string, number | string>> = {};
    for (const id of ids) {
      if (!this.coins.some((coin) => coin.id === id)) continue;
      const usd = this.pricesUsd.has(id)
        ? this.pricesUsd.get(id)
        : (this.markets.get(id)?.current_price as number | null | undefined);
      const literal = typeof usd === 'string' ? `${RAW_NUMBER}${usd}` : usd;
      body[id] =
        literal === null || literal === undefined || !currencies.includes('usd') ? {} : { usd: literal };
    }
    send(200, JSON.stringify(body).replace(new RegExp(`"${RAW_NUMBER}([^"]+)"`, 'g'), '$1'));
  }
}
