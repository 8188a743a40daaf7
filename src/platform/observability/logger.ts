import type { FastifyBaseLogger } from 'fastify';
import { type Bindings, type ChildLoggerOptions, type Logger, pino } from 'pino';

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

/**
 * Structured JSON logs (pino) at `level`.
 * @param fd where lines go: 1 (stdout) for servers, 2 (stderr) for commands whose stdout is a report
 */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'paperbroker' },
    },
    pino.destination({ fd, sync: true }),
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
