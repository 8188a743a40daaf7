import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../helpers/server-process.js';

/** The text of a file of the repository (`relative` to its root). */
export function readRepoFile(relative: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

/**
 * The YAML documents of a file, as plain data; YAML merge keys (`<<: *anchor`) are applied, as
 * Compose applies them. A syntax error throws, naming the file.
 */
export function readYamlDocuments(relative: string): unknown[] {
  const docs = parseAllDocuments(readRepoFile(relative), { merge: true });
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${relative}: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return docs.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown).filter((doc) => doc !== null);
}

/** A YAML or JSON object, read as a record of unknown values. */
export type Data = Record<string, unknown>;

export function asData(value: unknown, what: string): Data {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what}: not an object`);
  return value as Data;
}

/** What the Dockerfile's runtime stage sets with ENV (the environment every container starts from). */
export function imageEnvironment(dockerfile: string): Record<string, string> {
  const stages = dockerfile.split(/^FROM /m);
  const runtime = stages.at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const match of runtime.matchAll(/^ENV\s+((?:.*\\\n)*.*)$/gm)) {
    for (const pair of match[1]!.replace(/\\\n/g, ' ').trim().split(/\s+/)) {
      const [name, value] = pair.split('=');
      env[name!] = value ?? '';
    }
  }
  return env;
}

/**
 * The variables of the configuration table of SPEC §2 (its first column), from the product's
 * specification beside the repository (`../shared/SPEC.md`, as the market fixtures are).
 */
export function specSection2Variables(): string[] {
  const spec = fs.readFileSync(path.join(REPO_ROOT, '../shared/SPEC.md'), 'utf8');
  const section = spec.slice(spec.indexOf('## 2. Runtime shape'), spec.indexOf('## 3.'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}
