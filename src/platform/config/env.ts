import { z } from 'zod';
import { Decimal, isDecimalString } from '../../shared/decimal.js';

/**
 * Every environment variable the process reads, validated at start (SPEC §2).
 * Units are part of the names: `…_MS` is milliseconds, `…_RATE` a fraction (0.001 = 0.1 %).
 */
const decimalText = (what: string) =>
  z
    .string()
    .trim()
    .refine((text) => isDecimalString(text), { message: `must be ${what}, e.g. "10000" or "0.001"` });

const integer = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a whole number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const url = (schemes: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (text) => {
        try {
          return schemes.includes(new URL(text).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` },
    );

const emptyAsUnset = (value: unknown) => (value === '' ? undefined : value);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: integer(0, 65535).default(8000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: z.preprocess(emptyAsUnset, url(['postgres:', 'postgresql:']).optional()),
  REDIS_URL: z.preprocess(emptyAsUnset, url(['redis:', 'rediss:']).optional()),
  JWT_SECRET: z.preprocess(
    emptyAsUnset,
    z.string().min(32, { message: 'must be at least 32 characters long' }).optional(),
  ),
  JWT_ACCESS_TTL_SECONDS: integer(60, 86_400).default(900),
  JWT_REFRESH_TTL_SECONDS: integer(300, 31_536_000).default(2_592_000),
  BINANCE_BASE_URL: url(['http:', 'https:']).default('https://api.binance.com'),
  COINGECKO_BASE_URL: url(['http:', 'https:']).default('https://api.coingecko.com/api/v3'),
  COINMARKETCAP_API_KEY: z.preprocess(emptyAsUnset, z.string().optional()),
  COINMARKETCAP_BASE_URL: url(['http:', 'https:']).default('https://pro-api.coinmarketcap.com'),
  PRICE_SOURCE: z
    .string()
    .trim()
    .refine(
      (text) => ['binance', 'coingecko', 'coinmarketcap', 'replay'].includes(text) || /^replay:.+/.test(text),
      {
        message:
          'must be "binance", "coingecko", "coinmarketcap", "replay" (the shipped sample) or "replay:<kline file or folder>[,<file>…]"',
      },
    )
    .default('binance'),
  REPLAY_SPEED: z.coerce
    .number({ message: 'must be a number' })
    .positive({ message: 'must be greater than 0' })
    .max(100_000, { message: 'must be at most 100000' })
    .default(1),
  PRICE_CACHE_TTL_MS: integer(0, 3_600_000).default(2000),
  PRICE_POLL_INTERVAL_MS: integer(1000, 86_400_000).default(30_000),
  PRICE_HISTORY_LIMIT: integer(1, 100_000).default(100),
  PRICE_MAX_AGE_MS: integer(100, 3_600_000).default(10_000),
  PRICE_STALE_MAX_MS: integer(100, 86_400_000).default(60_000),
  UPSTREAM_TIMEOUT_MS: integer(100, 10_000).default(10_000),
  QUOTE_ASSET: z
    .string()
    .trim()
    .regex(/^[A-Z0-9]{2,10}$/, { message: 'must be 2–10 upper-case letters or digits, e.g. USDT' })
    .default('USDT'),
  INITIAL_BALANCE: decimalText('a non-negative decimal amount').default('10000'),
  TAKER_FEE_RATE: decimalText('a fraction between 0 and 1').default('0.001'),
  MAKER_FEE_RATE: decimalText('a fraction between 0 and 1').default('0.001'),
  SHORT_INITIAL_MARGIN: decimalText('a fraction between 0 and 1').default('0.5'),
  SHORT_MAINTENANCE_MARGIN: decimalText('a fraction between 0 and 1').default('0.3'),
  LIQUIDATION_CHECK_INTERVAL_MS: integer(100, 3_600_000).default(5000),
  BET_LEVERAGE_MAX: integer(1, 1000).default(100),
  BET_STAKE_MIN: decimalText('a non-negative decimal amount').default('1'),
  BET_DURATION_MIN_S: integer(1, 86_400).default(1),
  BET_DURATION_MAX_S: integer(1, 31_536_000).default(604_800),
  BET_SWEEP_INTERVAL_MS: integer(100, 3_600_000).default(5000),
  RATE_LIMIT_PER_USER_PER_MIN: integer(0, 10_000_000).default(6000),
  PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN: integer(0, 10_000_000).default(1200),
  PUBLIC_SYMBOLS_PER_ADDRESS_PER_MIN: integer(0, 1_000_000).default(200),
  CORS_ORIGINS: z
    .string()
    .trim()
    .default('')
    .refine(
      (text) =>
        text
          .split(',')
          .every((o) => o.trim() === '' || o.trim() === '*' || /^https?:\/\/[^/\s]+$/.test(o.trim())),
      {
        message: 'must be a comma-separated list of origins such as https://app.example.com (or *)',
      },
    ),
  TRUST_PROXY: z
    .string()
    .trim()
    .default('')
    .refine(
      (text) =>
        text === '' ||
        text === 'true' ||
        text === 'false' ||
        /^\d+$/.test(text) ||
        /^[0-9a-fA-F.:/, ]+$/.test(text),
      {
        message:
          'must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs',
      },
    ),
  LOGIN_FAILURES_PER_ACCOUNT_MAX: integer(1, 1_000_000).default(10),
  LOGIN_FAILURES_PER_ADDRESS_MAX: integer(1, 1_000_000).default(100),
  LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX: integer(1, 1_000_000).default(1000),
  LOGIN_FAILURE_WINDOW_MS: integer(1000, 86_400_000).default(900_000),
  DB_POOL_SIZE_MAX: integer(1, 500).default(20),
  STREAM_PING_INTERVAL_MS: integer(100, 3_600_000).default(30_000),
  STREAM_SSE_HEARTBEAT_MS: integer(100, 3_600_000).default(15_000),
  STREAM_CONNECTIONS_PER_USER_MAX: integer(1, 10_000).default(10),
  WORKER_PORT: z.preprocess(emptyAsUnset, integer(0, 65535).optional()),
  SHUTDOWN_TIMEOUT_MS: integer(1000, 600_000).default(10_000),
  SHUTDOWN_DRAIN_MS: integer(0, 300_000).default(500),
  FAILPOINT: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .regex(
        /^(before|after)-commit:[a-z_]{1,40}(:[1-9][0-9]{0,3})?$/,
        '<before|after>-commit:<command name>[:<batch size>]',
      )
      .optional(),
  ),
});

/**
 * The name of every environment variable the configuration reads, from the schema itself: the
 * deployment files (Dockerfile, compose, Kubernetes) are checked against it, so they cannot set a
 * variable the program does not know.
 */
export const CONFIG_VARIABLE_NAMES: readonly string[] = Object.keys(envSchema.shape);

/** Validated configuration, camelCase, units last (`priceCacheTtlMs`). Amounts stay decimal strings. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  port: number;
  host: string;
  /** Folder for the embedded PostgreSQL cluster and the generated JWT secret. */
  dataDir: string;
  /** `postgres://…`; undefined → embedded PostgreSQL in `dataDir`. */
  databaseUrl: string | undefined;
  /** `redis://…`; undefined → in-process cache. */
  redisUrl: string | undefined;
  /** HS256 secret; undefined → generated once and kept in `dataDir` (not allowed in production). */
  jwtSecret: string | undefined;
  jwtAccessTtlSeconds: number;
  /** how long a session can be refreshed after its last refresh (s) */
  jwtRefreshTtlSeconds: number;
  binanceBaseUrl: string;
  coingeckoBaseUrl: string;
  coinmarketcapApiKey: string | undefined;
  /** CoinMarketCap Pro API base URL (no trailing slash). */
  coinmarketcapBaseUrl: string;
  /**
   * `binance`, `coingecko`, `coinmarketcap` (needs COINMARKETCAP_API_KEY), `replay` (the recorded
   * sample in `samples/market/`) or `replay:<file or folder>[,<file>…]` (paths from the working folder).
   */
  priceSource: string;
  /** Replay clock speed: 1 = real time. */
  replaySpeed: number;
  priceCacheTtlMs: number;
  pricePollIntervalMs: number;
  priceHistoryLimit: number;
  /** Oldest price (ms since its `as_of`) that trading may use. */
  priceAgeMsMax: number;
  /** Oldest price (ms since its `as_of`) that read routes may serve, marked stale. */
  priceStaleMsMax: number;
  /** Budget for one upstream call, retries included (ms). */
  upstreamTimeoutMs: number;
  quoteAsset: string;
  /** Paper cash credited to a new user's default wallet, in the quote asset (decimal string). */
  initialBalance: string;
  /** Fraction of a fill's notional charged as fee (decimal string, 0.001 = 0.1 %). */
  takerFeeRate: string;
  /** Fee of a resting order's fill at its own limit price (decimal string, 0.001 = 0.1 %). */
  makerFeeRate: string;
  shortInitialMarginRate: string;
  shortMaintenanceMarginRate: string;
  /** how often open shorts are checked against the maintenance margin (ms) */
  liquidationCheckIntervalMs: number;
  /** largest leverage of a price bet (the smallest is 1) */
  betLeverageMax: number;
  /** smallest stake of a price bet, quote asset (decimal string) */
  betStakeMin: string;
  /** shortest and longest time a price bet runs (s) */
  betDurationMinS: number;
  betDurationMaxS: number;
  /** how often overdue pending bets are looked for and settled (ms) */
  betSweepIntervalMs: number;
  /** money-moving requests per user per minute; 0 = no limit */
  rateLimitPerUserPerMin: number;
  /** requests to the public market routes per client address per minute; 0 = no limit */
  publicRateLimitPerAddressPerMin: number;
  /** distinct symbols one client address may name on the public market routes per minute; 0 = no limit */
  publicSymbolsPerAddressPerMin: number;
  /** origins a browser may call the API from (CORS); empty = none but the server's own */
  corsOrigins: string[];
  /**
   * Fastify's `trustProxy`: which proxies' `X-Forwarded-For` gives the client address the limits
   * count by. false (the default) trusts none: right when clients connect directly
   */
  trustProxy: boolean | number | string[];
  /** wrong-credential logins allowed in `loginFailureWindowMs` per account from one client address */
  loginFailuresPerAccountMax: number;
  /** … per client address, across every account */
  loginFailuresPerAddressMax: number;
  /** … per account, across every address (bounds a guess spread over many addresses) */
  loginFailuresPerAccountTotalMax: number;
  loginFailureWindowMs: number;
  dbPoolSizeMax: number;
  /** how often the server pings each WebSocket and checks its token (ms); a dead peer is dropped */
  streamPingIntervalMs: number;
  /** how often an SSE stream gets a comment line (ms), so proxies keep it open */
  streamSseHeartbeatMs: number;
  /** open streams (WebSocket and SSE) per user and instance at most */
  streamConnectionsPerUserMax: number;
  /** where the `worker` role serves `/health/*` and `/metrics`; undefined → it listens on no port */
  workerPort: number | undefined;
  /** longest a graceful shutdown may take, from the first signal to the exit (ms); then exit code 1 */
  shutdownTimeoutMs: number;
  /**
   * how long `/health/ready` answers 503 before the HTTP server stops accepting (ms), so that load
   * balancers take the instance out of rotation while it still serves
   */
  shutdownDrainMs: number;
  /**
   * Crash tests only (refused in production): `before-commit:<command>[:<n>]` or
   * `after-commit:<command>[:<n>]` makes the first batch of at least n items of that money command
   * hang there, so a test can kill the process mid-batch.
   */
  failpoint: string | undefined;
}

/** A configuration error: one line per bad variable, meant to be printed as it is. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses and validates the environment.
 * @param env usually `process.env`
 * @throws {ConfigError} naming each bad variable and what is wrong with it
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  for (const [name, value] of [
    ['TAKER_FEE_RATE', e.TAKER_FEE_RATE],
    ['MAKER_FEE_RATE', e.MAKER_FEE_RATE],
    ['SHORT_INITIAL_MARGIN', e.SHORT_INITIAL_MARGIN],
    ['SHORT_MAINTENANCE_MARGIN', e.SHORT_MAINTENANCE_MARGIN],
  ] as const) {
    if (new Decimal(value).gt(1)) problems.push(`${name}: must be a fraction between 0 and 1`);
  }
  if (e.BET_DURATION_MAX_S < e.BET_DURATION_MIN_S) {
    problems.push('BET_DURATION_MAX_S: must be at least BET_DURATION_MIN_S');
  }
  if (new Decimal(e.SHORT_MAINTENANCE_MARGIN).gte(e.SHORT_INITIAL_MARGIN)) {
    problems.push('SHORT_MAINTENANCE_MARGIN: must be below SHORT_INITIAL_MARGIN');
  }
  if (e.PRICE_STALE_MAX_MS < e.PRICE_MAX_AGE_MS) {
    problems.push('PRICE_STALE_MAX_MS: must be at least PRICE_MAX_AGE_MS');
  }
  if (e.LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX < e.LOGIN_FAILURES_PER_ACCOUNT_MAX) {
    problems.push('LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX: must be at least LOGIN_FAILURES_PER_ACCOUNT_MAX');
  }
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    problems.push('JWT_SECRET: is required when NODE_ENV=production');
  }
  // Production never keeps the ledger in a local folder: in a container it would vanish with the
  // container, and each replica would run a ledger of its own.
  if (e.NODE_ENV === 'production' && e.FAILPOINT) {
    problems.push('FAILPOINT: is for crash tests and refused when NODE_ENV=production');
  }
  if (e.NODE_ENV === 'production' && !e.DATABASE_URL) {
    problems.push('DATABASE_URL: is required when NODE_ENV=production');
  }
  if (e.SHUTDOWN_DRAIN_MS >= e.SHUTDOWN_TIMEOUT_MS) {
    problems.push('SHUTDOWN_DRAIN_MS: must be below SHUTDOWN_TIMEOUT_MS');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return {
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET,
    jwtAccessTtlSeconds: e.JWT_ACCESS_TTL_SECONDS,
    jwtRefreshTtlSeconds: e.JWT_REFRESH_TTL_SECONDS,
    binanceBaseUrl: e.BINANCE_BASE_URL.replace(/\/+$/, ''),
    coingeckoBaseUrl: e.COINGECKO_BASE_URL.replace(/\/+$/, ''),
    coinmarketcapApiKey: e.COINMARKETCAP_API_KEY,
    coinmarketcapBaseUrl: e.COINMARKETCAP_BASE_URL.replace(/\/+$/, ''),
    priceSource: e.PRICE_SOURCE,
    replaySpeed: e.REPLAY_SPEED,
    priceCacheTtlMs: e.PRICE_CACHE_TTL_MS,
    pricePollIntervalMs: e.PRICE_POLL_INTERVAL_MS,
    priceHistoryLimit: e.PRICE_HISTORY_LIMIT,
    priceAgeMsMax: e.PRICE_MAX_AGE_MS,
    priceStaleMsMax: e.PRICE_STALE_MAX_MS,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    quoteAsset: e.QUOTE_ASSET,
    initialBalance: e.INITIAL_BALANCE,
    takerFeeRate: e.TAKER_FEE_RATE,
    makerFeeRate: e.MAKER_FEE_RATE,
    shortInitialMarginRate: e.SHORT_INITIAL_MARGIN,
    shortMaintenanceMarginRate: e.SHORT_MAINTENANCE_MARGIN,
    liquidationCheckIntervalMs: e.LIQUIDATION_CHECK_INTERVAL_MS,
    betLeverageMax: e.BET_LEVERAGE_MAX,
    betStakeMin: e.BET_STAKE_MIN,
    betDurationMinS: e.BET_DURATION_MIN_S,
    betDurationMaxS: e.BET_DURATION_MAX_S,
    betSweepIntervalMs: e.BET_SWEEP_INTERVAL_MS,
    rateLimitPerUserPerMin: e.RATE_LIMIT_PER_USER_PER_MIN,
    publicRateLimitPerAddressPerMin: e.PUBLIC_RATE_LIMIT_PER_ADDRESS_PER_MIN,
    publicSymbolsPerAddressPerMin: e.PUBLIC_SYMBOLS_PER_ADDRESS_PER_MIN,
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    loginFailuresPerAccountMax: e.LOGIN_FAILURES_PER_ACCOUNT_MAX,
    loginFailuresPerAddressMax: e.LOGIN_FAILURES_PER_ADDRESS_MAX,
    loginFailuresPerAccountTotalMax: e.LOGIN_FAILURES_PER_ACCOUNT_TOTAL_MAX,
    loginFailureWindowMs: e.LOGIN_FAILURE_WINDOW_MS,
    dbPoolSizeMax: e.DB_POOL_SIZE_MAX,
    streamPingIntervalMs: e.STREAM_PING_INTERVAL_MS,
    streamSseHeartbeatMs: e.STREAM_SSE_HEARTBEAT_MS,
    streamConnectionsPerUserMax: e.STREAM_CONNECTIONS_PER_USER_MAX,
    workerPort: e.WORKER_PORT,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    failpoint: e.FAILPOINT,
  };
}

/** `TRUST_PROXY` as Fastify takes it: a boolean, a hop count, or the proxies' addresses. */
function trustProxyOf(text: string): boolean | number | string[] {
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}
