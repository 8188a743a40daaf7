import type http from 'node:http';
import { LoopbackServer } from './loopback-server.js';

export type FakeCoinMarketCapMode = 'ok' | 'error500' | 'hang' | 'garbage' | 'rate-limited';

/** A coin as the fake lists it under a ticker. */
export interface FakeCmcCoin {
  id: number;
  name: string;
  slug: string;
  cmcRank: number | null;
  priceUsd: number | null;
  marketCapUsd: number | null;
}

/**
 * A real HTTP server on loopback answering `GET /v2/cryptocurrency/quotes/latest` in
 * CoinMarketCap's documented v2 shape (`{status, data: {TICKER: [coin, …]}}`). No recorded
 * CoinMarketCap response exists in ../shared/fixtures, so the coins and their prices are the
 * test's own (`setCoins`). It checks the `X-CMC_PRO_API_KEY` header (401 with error 1001 otherwise),
 * counts requests and keeps their URLs.
 */
export class FakeCoinMarketCap extends LoopbackServer {
  mode: FakeCoinMarketCapMode = 'ok';
  retryAfter: string | null = '2';
  readonly requests: URL[] = [];
  /** the API key header of every request, to prove the key goes there and nowhere else */
  readonly keysReceived: (string | undefined)[] = [];
  private readonly coinsByTicker = new Map<string, FakeCmcCoin[]>();

  constructor(readonly apiKey: string) {
    super();
  }

  /** Lists `coins` under `ticker` (upper case), replacing what was there. */
  setCoins(ticker: string, coins: FakeCmcCoin[]): void {
    this.coinsByTicker.set(ticker, coins);
  }

  get baseUrl(): string {
    return this.origin;
  }

  private status(errorCode: number, errorMessage: string | null, creditCount = 0) {
    return {
      timestamp: new Date().toISOString(),
      error_code: errorCode,
      error_message: errorMessage,
      elapsed: 1,
      credit_count: creditCount,
      notice: null,
    };
  }

  protected override handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push(url);
    const key = req.headers['x-cmc_pro_api_key'];
    this.keysReceived.push(typeof key === 'string' ? key : undefined);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    switch (this.mode) {
      case 'hang':
        this.hang(res);
        return;
      case 'error500':
        return send(500, { status: this.status(500, 'An internal server error occurred') });
      case 'garbage':
        return send(200, '{"status":{"error_code":0},"data":{"BTC":[{"id":1,');
      case 'rate-limited':
        return send(
          429,
          { status: this.status(1008, "You've exceeded your API Key's HTTP request rate limit.") },
          this.retryAfter === null ? {} : { 'retry-after': this.retryAfter },
        );
      default:
        break;
    }
    if (key !== this.apiKey) return send(401, { status: this.status(1001, 'This API Key is invalid.') });
    if (url.pathname !== '/v2/cryptocurrency/quotes/latest') {
      return send(404, { status: this.status(404, 'Not found') });
    }
    const tickers = (url.searchParams.get('symbol') ?? '').split(',').filter(Boolean);
    const skipInvalid = url.searchParams.get('skip_invalid') === 'true';
    const known = tickers.filter((t) => this.coinsByTicker.has(t));
    const invalid = tickers.filter((t) => !this.coinsByTicker.has(t));
    if (known.length === 0 || (invalid.length > 0 && !skipInvalid)) {
      return send(400, { status: this.status(400, `Invalid value for "symbol": "${invalid.join(',')}"`) });
    }
    const convert = url.searchParams.get('convert') ?? 'USD';
    const data: Record<string, unknown[]> = {};
    for (const ticker of known) {
      data[ticker] = this.coinsByTicker.get(ticker)!.map((coin) => ({
        id: coin.id,
        name: coin.name,
        symbol: ticker,
        slug: coin.slug,
        is_active: 1,
        is_fiat: 0,
        cmc_rank: coin.cmcRank,
        last_updated: new Date().toISOString(),
        quote: {
          [convert]: {
            price: coin.priceUsd,
            volume_24h: null,
            market_cap: coin.marketCapUsd,
            last_updated: new Date().toISOString(),
          },
        },
      }));
    }
    send(200, { status: this.status(0, null, 1), data });
  }
}
