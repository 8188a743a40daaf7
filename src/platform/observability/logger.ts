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

/** Structured JSON logs (pino) at `level`. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'paperbroker' },
  });
}
