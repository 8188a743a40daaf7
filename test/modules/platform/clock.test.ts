/**
 * Time comes from the injected Clock (issue 16, point 3): no source file reads the wall clock itself
 * (`new Date()` with no argument, `Date.now()`) but `src/shared/clock.ts`, whose `systemClock` is the
 * one the program injects. Stored timestamps take the database's transaction time (`now()`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/server-process.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('the clock', () => {
  it('is read only through the injected Clock', () => {
    const readers = sources(path.join(REPO_ROOT, 'src'))
      .filter((file) => !file.endsWith(path.join('shared', 'clock.ts')))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line: line.trim(), at: `${path.relative(REPO_ROOT, file)}:${i + 1}` }))
          .filter(({ line }) => !line.startsWith('//') && !line.startsWith('*'))
          .filter(({ line }) => /\bnew Date\(\)|\bDate\.now\(\)/.test(line))
          .map(({ line, at }) => `${at}: ${line}`),
      );
    expect(readers).toEqual([]);
  });
});
