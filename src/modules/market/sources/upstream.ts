import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyValueCache } from '../../../platform/cache/cache.js';
import { upstreamBackoffRefusals, upstreamRequests } from '../../../platform/observability/metrics.js';
import type { Clock } from '../../../shared/clock.js';
import { Decimal } from '../../../shared/decimal.js';
import { parseJsonNumbersAsText } from '../../../shared/json.js';
import { UnknownSymbolError, UpstreamUnavailableError } from '../errors.js';

/**
 * Plumbing shared by the upstream sources (Binance, CoinGecko, CoinMarketCap): one bounded JSON GET
 * with metrics and a host-wide back-off after 429 (and whatever else a source counts as one), plus
 * the symbol and number conversions the aggregators need. What only one upstream means (Binance's
 * 418 and weight header, its error codes) stays in that source and reaches here as options.
 */

/** Attempts per call, the first included; only network errors, timeouts and 5xx are tried again. */
const ATTEMPT_COUNT_MAX = 2;
/** Pause before the second attempt: 50–150 ms, random so that instances do not retry in step. */
const RETRY_JITTER_MS_MIN = 50;
const RETRY_JITTER_MS_SPREAD = 100;
/**
 * Wait after a 429 that names no `Retry-After`: the aggregators count their limits per minute, and
 * Binance's request weight is counted per minute too.
 */
export const RATE_LIMIT_WAIT_SECONDS_DEFAULT = 60;
/**
 * A `Retry-After` longer than this (1 h) is capped unless the request allows more: a broken header
 * must not silence a source for days.
 */
const RATE_LIMIT_WAIT_SECONDS_MAX = 3600;

/** What came back: a status below 500 other than a rate limit, with a body that parsed as JSON. */
export interface UpstreamJson {
  status: number;
  body: unknown;
}

export interface UpstreamRequest {
  /** `binance`, `coingecko`, `coinmarketcap`: names the upstream in error messages and logs */
  sourceName: string;
  /** the full URL; it must not carry a secret (keys go in `headers`) */
  url: string;
  /** endpoint path for the `upstream_requests_total` metric, e.g. `/simple/price` */
  route: string;
  /** extra request headers, e.g. an API key; never echoed into errors */
  headers?: Record<string, string>;
  /** budget of the whole call, retries included (ms) */
  timeoutMs: number;
  clock: Clock;
  /** the host's 429 back-off, checked before and recorded after each request */
  backoff?: UpstreamBackoff;
  /**
   * statuses that mean "stop calling this host until `Retry-After`": 429 unless given (Binance adds
   * 418, its IP ban for a client that went on after a 429)
   */
  rateLimitStatuses?: readonly number[];
  /**
   * the longest `Retry-After` honoured (s) for an answer's status; undefined → 1 h (Binance's 418
   * IP bans last up to 3 days)
   */
  retryAfterSecondsMax?: (status: number) => number | undefined;
  /** sees the headers of every answer, e.g. Binance's used request weight */
  onHeaders?: (headers: Headers) => void;
  /**
   * reads the body; by default every JSON number is kept as its literal text
   * ({@link parseJsonNumbersAsText}), for upstreams that send prices as numbers
   */
  parseJson?: (text: string) => unknown;
}

const RATE_LIMIT_STATUSES_DEFAULT: readonly number[] = [429];

/**
 * One GET returning parsed JSON, within `timeoutMs` all attempts included. Network errors,
 * timeouts and 5xx are tried once more after a short random pause; 4xx are answered as they are
 * (the caller knows what its upstream's 400 or 404 means).
 * @throws {UpstreamUnavailableError} on timeout, network error, 5xx, 429 or another of
 *   `rateLimitStatuses` (with `retryAfterSeconds`, and the back-off recorded), or a body that is not
 *   JSON (an HTML error page, a truncated answer)
 */
export async function getUpstreamJson(request: UpstreamRequest): Promise<UpstreamJson> {
  const { sourceName, clock, backoff } = request;
  const rateLimitStatuses = request.rateLimitStatuses ?? RATE_LIMIT_STATUSES_DEFAULT;
  const parseJson = request.parseJson ?? parseJsonNumbersAsText;
  const host = new URL(request.url).host;
  const count = (status: string) => upstreamRequests.inc({ host, route: request.route, status });
  const deadlineMs = clock.nowMs() + request.timeoutMs;
  let lastError: UpstreamUnavailableError | undefined;
  for (let attempt = 1; attempt <= ATTEMPT_COUNT_MAX; attempt++) {
    const waitSeconds = await backoff?.remainingSeconds();
    if (waitSeconds !== undefined) {
      upstreamBackoffRefusals.inc({ host });
      throw new UpstreamUnavailableError(`${sourceName} asked us to wait (rate limit)`, waitSeconds);
    }
    if (attempt > 1) {
      const pauseMs = RETRY_JITTER_MS_MIN + Math.floor(Math.random() * RETRY_JITTER_MS_SPREAD);
      if (deadlineMs - clock.nowMs() <= pauseMs) break;
      await sleep(pauseMs);
    }
    const remainingMs = deadlineMs - clock.nowMs();
    if (remainingMs <= 0) break;
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, {
        signal: AbortSignal.timeout(remainingMs),
        headers: { accept: 'application/json', ...request.headers },
      });
    } catch {
      count('error');
      lastError = new UpstreamUnavailableError(`${sourceName} did not answer in time`);
      continue;
    }
    try {
      // The same signal bounds the body: a server that sends headers and then stalls times out too.
      text = await response.text();
    } catch {
      count('error');
      lastError = new UpstreamUnavailableError(`${sourceName} connection broke mid-answer`);
      continue;
    }
    count(String(response.status));
    request.onHeaders?.(response.headers);
    if (rateLimitStatuses.includes(response.status)) {
      const seconds = parseRetryAfterSeconds(
        response.headers.get('retry-after'),
        clock.nowMs(),
        request.retryAfterSecondsMax?.(response.status),
      );
      await backoff?.hold(seconds);
      throw new UpstreamUnavailableError(`${sourceName} rate limit (${response.status})`, seconds);
    }
    if (response.status >= 500) {
      lastError = new UpstreamUnavailableError(`${sourceName} answered ${response.status}`);
      continue;
    }
    try {
      return { status: response.status, body: parseJson(text) };
    } catch {
      throw new UpstreamUnavailableError(
        `${sourceName} answered ${response.status} with a body that is not JSON`,
      );
    }
  }
  throw lastError ?? new UpstreamUnavailableError(`${sourceName} did not answer in time`);
}

/**
 * `Retry-After` in whole seconds: delta-seconds or an HTTP date, at least 1, at most `maxSeconds`
 * (1 h unless given); absent or unreadable → {@link RATE_LIMIT_WAIT_SECONDS_DEFAULT}.
 */
export function parseRetryAfterSeconds(
  header: string | null,
  nowMs: number,
  maxSeconds = RATE_LIMIT_WAIT_SECONDS_MAX,
): number {
  const text = header?.trim() ?? '';
  let seconds = RATE_LIMIT_WAIT_SECONDS_DEFAULT;
  if (/^\d{1,10}$/.test(text)) seconds = Number(text);
  else if (text !== '') {
    const atMs = Date.parse(text);
    if (Number.isFinite(atMs)) seconds = Math.ceil((atMs - nowMs) / 1000);
  }
  return Math.min(maxSeconds, Math.max(1, seconds));
}

/**
 * "Do not call this host before …", kept in the shared cache so that with `REDIS_URL` one
 * instance's 429 quiets every instance. A cache outage only loses the back-off, never a price.
 */
export class UpstreamBackoff {
  /**
   * The deadline this instance recorded itself (ms since epoch), kept beside the shared record so
   * that a cache that loses it (an outage, an evicted key) cannot end a ban early.
   */
  private untilMs = 0;

  constructor(
    private readonly cache: KeyValueCache,
    /** cache key, one per upstream host, e.g. `coingecko:backoff` */
    private readonly key: string,
    private readonly clock: Clock,
  ) {}

  /** Whole seconds still to wait, or undefined when calls are allowed. */
  async remainingSeconds(): Promise<number | undefined> {
    const text = await this.cache.get(this.key).catch(() => null);
    const cachedUntilMs = Number(text);
    const untilMs = Math.max(this.untilMs, text && Number.isFinite(cachedUntilMs) ? cachedUntilMs : 0);
    const remainingMs = untilMs - this.clock.nowMs();
    return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : undefined;
  }

  /**
   * Stops calls for `seconds`, or longer if a back-off already running ends later (a short 429
   * must not cut a long ban short).
   */
  async hold(seconds: number): Promise<void> {
    const remaining = (await this.remainingSeconds()) ?? 0;
    const waitMs = Math.max(seconds, remaining) * 1000;
    this.untilMs = Math.max(this.untilMs, this.clock.nowMs() + waitMs);
    await this.cache.set(this.key, String(this.untilMs), waitMs).catch(() => undefined);
  }
}

const SYMBOL_TEXT = /^[A-Z0-9]{1,20}$/;

/**
 * The base asset of a market symbol: `BTCUSDT` → `BTC` when the quote asset is `USDT`; a bare base
 * (`BTC`, `btc`) is taken as it is. Upper case.
 * @throws {UnknownSymbolError} for text that cannot be a symbol (junk characters, over 20 characters)
 */
export function baseAssetOf(symbol: string, quoteAsset: string): string {
  const upper = symbol.trim().toUpperCase();
  if (!SYMBOL_TEXT.test(upper)) throw new UnknownSymbolError(symbol.slice(0, 32));
  return upper.endsWith(quoteAsset) && upper.length > quoteAsset.length
    ? upper.slice(0, -quoteAsset.length)
    : upper;
}

const NUMBER_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * An amount the aggregators send as a JSON number, kept as its literal text by
 * `getUpstreamJson`, as a `Decimal` (`"1.2e-7"` → 0.00000012), exactly as written: it never passes
 * through a binary double.
 * @returns undefined for anything but a number literal
 */
export function upstreamDecimal(value: unknown): Decimal | undefined {
  return typeof value === 'string' && NUMBER_TEXT.test(value) ? new Decimal(value) : undefined;
}

/**
 * A price the aggregators send as a JSON number, as a plain decimal string (`1.2e-7` →
 * `"0.00000012"`).
 * @returns undefined for anything but a number literal above zero
 */
export function priceToDecimalString(value: unknown): string | undefined {
  const price = upstreamDecimal(value);
  return price?.gt(0) ? price.toFixed() : undefined;
}
