import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The recorded market data in ../shared/fixtures/market, read at run time (never copied here). */
export const MARKET_FIXTURES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/fixtures/market',
);

export function fixturePath(relative: string): string {
  return path.join(MARKET_FIXTURES_DIR, relative);
}

export function readFixture(relative: string): string {
  return fs.readFileSync(fixturePath(relative), 'utf8');
}
