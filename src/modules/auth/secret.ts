import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/**
 * The JWT signing secret: `JWT_SECRET` when set; otherwise generated once and kept in
 * `<dataDir>/jwt-secret` (mode 600), with a warning, so tokens survive a restart. The secret
 * itself is never logged.
 */
export async function resolveJwtSecret(
  configured: string | undefined,
  dataDir: string,
  logger: Logger,
): Promise<string> {
  if (configured) return configured;
  const file = path.resolve(dataDir, 'jwt-secret');
  const existing = await fs.readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  if (existing.length >= 32) {
    logger.warn({ file }, 'JWT_SECRET is not set: using the secret generated earlier in the data folder');
    return existing;
  }
  const secret = randomBytes(48).toString('base64url');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  logger.warn({ file }, 'JWT_SECRET is not set: generated a secret and kept it in the data folder');
  return secret;
}
