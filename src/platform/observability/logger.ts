import { type Logger, pino } from 'pino';

/** Paths never written to a log line: credentials and secrets (SPEC §5 rule 6). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.passwordHash',
  '*.access_token',
  '*.refresh_token',
  '*.databaseUrl',
  '*.jwtSecret',
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
