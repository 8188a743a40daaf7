import type { FastifyBaseLogger } from 'fastify';
import { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, pino } from 'pino';

/** Field names whose values are secrets. */
const SECRET_KEYS = [
  'password',
  'current_password',
  'new_password',
  'passwordHash',
  'access_token',
  'refresh_token',
  'databaseUrl',
  'jwtSecret',
];

/** Paths never written to a log line: credentials and secrets (SPEC §5 rule 6), at the top level or one below. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
];

/** A query parameter that carries an access token (`/api/v1/stream?token=…`, for browsers' WebSockets). */
const TOKEN_IN_URL = /([?&]token=)[^&#]*/gi;

/** A URL as logged: a token in its query replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_IN_URL, '$1[redacted]');
}

/** What a request's log lines say of it (Fastify's own fields), its URL without a token. */
function requestSerializer(req: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Structured JSON logs (pino) at `level`.
 * @param destination where lines go: 1 (stdout) for servers, 2 (stderr) for commands whose stdout is
 *   a report, or a stream (tests read the lines)
 */
export function createLogger(level: string, destination: 1 | 2 | DestinationStream = 1): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'paperbroker' },
      // Fastify's request serializer, but a token in the query (streams) is never written.
      serializers: { req: requestSerializer },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}

type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger, bound to its request id, whose pino child is only made by its first line
 * at an enabled level. Binding a child runs the redaction rules over the bindings, which costs about
 * as much as answering a cached price read. At `warn` or above most requests write no line at all;
 * at `info` Fastify writes two per request, so the child is made anyway.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  private get logger(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings);
    return this.#child;
  }

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  private write(level: LevelName, args: unknown[]): void {
    // pino loggers say whether a level is written; another logger is always given the line.
    const current = this.#child ?? this.parent;
    const isLevelEnabled = (current as Partial<Pick<Logger, 'isLevelEnabled'>>).isLevelEnabled;
    if (isLevelEnabled && !isLevelEnabled.call(current, level)) return;
    (this.logger[level] as (...line: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory`: each request gets a logger bound to its request id (`reqId`), made
 * lazily (see {@link LazyRequestLogger}); a route with its own log level or serializers gets a pino
 * child at once.
 */
export function requestLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined)
    return logger.child(bindings, options);
  return new LazyRequestLogger(logger, bindings);
}
