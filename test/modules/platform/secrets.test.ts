/**
 * Secrets never leave the server (issue 4 "Secrets"; SPEC §5 rule 6). The real server runs as a child
 * process (`node --import tsx src/main.ts serve`) at LOG_LEVEL=trace, with a known JWT_SECRET and a
 * DATABASE_URL carrying the password of a role made for this file, and a client does what a real one
 * does over HTTP: registers, logs in with JSON and with the OAuth2 form, refreshes, reads its profile
 * with the bearer token and with the cookie, fails a login, deposits, buys, sends requests refused
 * with the password in the body (too long, malformed JSON, a wrong current password, a wrong seed
 * login), changes its password and logs out. Then everything the process wrote to stdout and stderr
 * is searched: no password used, no bcrypt hash, not the JWT secret, no access or refresh token
 * issued (nor a token's signature alone), not the database password, and no stack trace. Every
 * response body is searched for the same, but the tokens the responses exist to hand out.
 * The same holds with the embedded defaults, where the JWT secret is generated into DATA_DIR and the
 * embedded PostgreSQL has a generated password. And a process that cannot start says why in one line,
 * naming the variable, without its value: JWT_SECRET missing in production (exit 1), a bad
 * DATABASE_URL or a short JWT_SECRET, a database that cannot be reached.
 *
 * `ServerProcess` (helpers/server-process.ts) keeps only the tail of the output, for failure
 * messages; this file needs every byte, so it starts the same command with a recorder of its own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freeLoopbackPort } from '../../../src/platform/db/embedded.js';
import { createScratchDatabase, type ScratchDatabase } from '../../../src/platform/db/scratch.js';
import { FakeBinance } from '../../helpers/fake-binance.js';
import { REPO_ROOT } from '../../helpers/server-process.js';

const run = promisify(execFile);

/** How long a started server gets to answer `/health/ready` (ms): the embedded one runs initdb first. */
const READY_WAIT_MS_MAX = 90_000;
/** Budget of one request (ms). */
const REQUEST_TIMEOUT_MS = 20_000;

/** A stack frame as V8 prints it, raw or inside a JSON string (`\n    at f (file.ts:1:2)`). */
const STACK_FRAME = /(^|\n|\\n)\s+at .*:\d+:\d+\)?/;
/** A bcrypt hash: `$2a$`, `$2b$` or `$2y$` and its cost. */
const BCRYPT_HASH = /\$2[aby]\$\d\d\$/;

/** The real server as a child process, with everything it writes kept. */
class RecordedServer {
  readonly baseUrl: string;
  private readonly child: ChildProcess;
  private readonly chunks: string[] = [];
  readonly exited: Promise<string>;

  private constructor(port: number, env: Record<string, string>) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      cwd: REPO_ROOT,
      env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.chunks.push(chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => this.chunks.push(chunk.toString('utf8')));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
    });
  }

  static async start(env: Record<string, string>): Promise<RecordedServer> {
    const server = new RecordedServer(await freeLoopbackPort(), env);
    const deadline = Date.now() + READY_WAIT_MS_MAX;
    while (Date.now() < deadline) {
      if (server.child.exitCode !== null) throw new Error(`the server exited early:\n${server.output}`);
      const ready = await fetch(`${server.baseUrl}/health/ready`, {
        signal: AbortSignal.timeout(2_000),
      }).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ready) return server;
      await sleep(100);
    }
    await server.stop();
    throw new Error(`the server was not ready within ${READY_WAIT_MS_MAX} ms:\n${server.output}`);
  }

  /** Everything written to stdout and stderr so far. */
  get output(): string {
    return this.chunks.join('');
  }

  /** SIGTERM (a graceful exit), SIGKILL after 10 s; resolves once exited, with the exit code or signal. */
  async stop(): Promise<string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One exchange of the session, kept for the search of the response bodies. */
interface Exchange {
  what: string;
  status: number;
  body: string;
}

/** A client of one server that keeps every answer and every token it was given. */
class Client {
  readonly exchanges: Exchange[] = [];
  readonly tokens: string[] = [];

  constructor(private readonly server: RecordedServer) {}

  async send(
    what: string,
    method: string,
    url: string,
    options: {
      token?: string;
      json?: unknown;
      form?: string;
      raw?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = options.form;
    } else if (options.raw !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.raw;
    }
    const res = await fetch(`${this.server.baseUrl}${url}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    this.exchanges.push({ what, status: res.status, body: text });
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON (a 204): nothing to read
    }
    for (const key of ['access_token', 'refresh_token', 'token'])
      if (typeof json[key] === 'string') this.tokens.push(json[key] as string);
    const cookie = res.headers.get('set-cookie')?.match(/pb_access_token=([^;]+)/)?.[1];
    if (cookie) this.tokens.push(cookie);
    return { status: res.status, json, headers: res.headers };
  }
}

/**
 * Every way a secret could show in `text`, each with a label (never the secret itself, which would
 * print it in the failure message): the values themselves, a token's signature alone, a bcrypt hash,
 * a stack frame.
 */
function leaks(text: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [label, secret] of Object.entries(secrets)) {
    if (secret.length < 6) throw new Error(`${label} is too short to search for`);
    if (text.includes(secret)) found.push(label);
  }
  if (BCRYPT_HASH.test(text)) found.push('a bcrypt hash');
  const frame = STACK_FRAME.exec(text);
  if (frame) found.push(`a stack trace (${frame[0].trim().slice(0, 80)})`);
  return found;
}

/** The secrets of the tokens a client was given: each whole, and each JWT's signature alone. */
function tokenSecrets(tokens: string[]): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [i, token] of [...new Set(tokens)].entries()) {
    secrets[`token #${i}`] = token;
    const signature = token.split('.')[2];
    if (signature) secrets[`signature of token #${i}`] = signature;
    if (token.startsWith('rt_')) secrets[`refresh token #${i} without its prefix`] = token.slice(3);
  }
  return secrets;
}

/** The environment every started server needs, besides what the test sets. */
function baseEnv(dataDir: string, binanceUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'trace',
    PRICE_SOURCE: 'binance',
    BINANCE_BASE_URL: binanceUrl,
  };
}

/**
 * A realistic session over HTTP; returns the passwords it used. Every step's status is checked, so
 * a leak cannot hide behind a request that never reached its route.
 */
async function realisticSession(client: Client): Promise<Record<string, string>> {
  const username = `secretive_${randomBytes(4).toString('hex')}`;
  const passwords = {
    'the password': `pw-first-${randomBytes(8).toString('hex')}`,
    'the new password': `pw-second-${randomBytes(8).toString('hex')}`,
    'a wrong password': `pw-wrong-${randomBytes(8).toString('hex')}`,
    'a too long password': `pw-long-${randomBytes(40).toString('hex')}`,
    'a password in malformed JSON': `pw-malformed-${randomBytes(8).toString('hex')}`,
    'a wrong current password': `pw-current-${randomBytes(8).toString('hex')}`,
    'a wrong password to delete the account': `pw-delete-${randomBytes(8).toString('hex')}`,
    'a wrong seed 004 password': `pw-seed-${randomBytes(8).toString('hex')}`,
  };
  const password = passwords['the password'];

  const registered = await client.send('register', 'POST', '/api/v1/auth/register', {
    json: { username, password, email: `${username}@example.com` },
  });
  expect(registered.status).toBe(201);
  const login = await client.send('login (JSON)', 'POST', '/api/v1/auth/login', {
    json: { username, password },
  });
  expect(login.status).toBe(200);
  const form = await client.send('login (form)', 'POST', '/api/v1/auth/login', {
    form: `grant_type=password&username=${username}&password=${encodeURIComponent(password)}`,
  });
  expect(form.status).toBe(200);
  const refreshed = await client.send('refresh', 'POST', '/api/v1/auth/refresh', {
    json: { refresh_token: login.json.refresh_token },
  });
  expect(refreshed.status).toBe(200);
  const token = refreshed.json.access_token as string;

  const wrong = await client.send('a wrong password', 'POST', '/api/v1/auth/login', {
    json: { username, password: passwords['a wrong password'] },
  });
  expect(wrong.status).toBe(401);
  expect((await client.send('profile (bearer)', 'GET', '/api/v1/users/me', { token })).status).toBe(200);
  const cookie = form.headers.get('set-cookie')?.split(';')[0] ?? '';
  expect(cookie).toMatch(/^pb_access_token=./);
  expect(
    (await client.send('profile (cookie)', 'GET', '/api/v1/users/me', { headers: { cookie } })).status,
  ).toBe(200);

  const wallets = await client.send('wallets', 'GET', '/api/v1/wallets', { token });
  const walletId = (wallets.json.items as { id: string }[])[0]!.id;
  const deposit = await client.send('deposit', 'POST', `/api/v1/wallets/${walletId}/operation`, {
    token,
    json: { operation_type: 'DEPOSIT', amount: '250' },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(deposit.status).toBe(201);
  const order = await client.send('order', 'POST', '/api/v1/orders', {
    token,
    json: { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' },
  });
  expect(order.status).toBe(201);

  const tooLong = await client.send('register with a too long password', 'POST', '/api/v1/auth/register', {
    json: { username: `${username}_2`, password: passwords['a too long password'] },
  });
  expect(tooLong.status).toBe(422);
  const malformed = await client.send('login with malformed JSON', 'POST', '/api/v1/auth/login', {
    raw: `{"username": "${username}", "password": ${passwords['a password in malformed JSON']}}`,
  });
  expect(malformed.status).toBe(400);
  const badChange = await client.send('a wrong current password', 'PUT', '/api/v1/users/me/password', {
    token,
    json: { current_password: passwords['a wrong current password'], new_password: password },
  });
  expect(badChange.status).toBe(403);
  const badDelete = await client.send(
    'a wrong password to delete the account',
    'DELETE',
    '/api/v1/users/me',
    {
      token,
      json: { current_password: passwords['a wrong password to delete the account'] },
    },
  );
  expect(badDelete.status).toBe(403);
  const seed = await client.send('seed 004 login with a wrong password', 'POST', '/auth/login', {
    json: { username, password: passwords['a wrong seed 004 password'] },
  });
  expect(seed.status).toBe(401);

  const changed = await client.send('password change', 'PUT', '/api/v1/users/me/password', {
    token,
    json: { current_password: password, new_password: passwords['the new password'] },
  });
  expect(changed.status).toBe(204);
  const logout = await client.send('logout', 'POST', '/api/v1/auth/logout', {
    token,
    json: { refresh_token: refreshed.json.refresh_token },
  });
  expect(logout.status).toBe(204);
  expect((await client.send('profile after logout', 'GET', '/api/v1/users/me', { token })).status).toBe(401);
  return passwords;
}

/** The password hashes stored for the users of a database, to search for them literally as well. */
async function storedHashes(databaseUrl: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ password_hash: string }>('select password_hash from users');
    return Object.fromEntries(rows.rows.map((row, i) => [`the stored hash #${i}`, row.password_hash]));
  } finally {
    await client.end();
  }
}

/** Checks the process output and the response bodies of a finished session. */
function expectNothingLeaked(
  output: string,
  client: Client,
  serverSecrets: Record<string, string>,
  passwords: Record<string, string>,
  hashes: Record<string, string>,
): void {
  // The search means something only if the server did log each request at this level.
  expect(output).toContain('incoming request');
  expect(output).toContain('/api/v1/auth/login');
  expect(
    leaks(output, { ...serverSecrets, ...passwords, ...hashes, ...tokenSecrets(client.tokens) }),
  ).toEqual([]);
  const bodies = client.exchanges.flatMap((exchange) =>
    leaks(exchange.body, { ...serverSecrets, ...passwords, ...hashes }).map(
      (leak) => `${exchange.what} (${exchange.status}): ${leak}`,
    ),
  );
  expect(bodies).toEqual([]);
}

describe('a realistic session at LOG_LEVEL=trace', () => {
  const jwtSecret = `jwt-${randomBytes(32).toString('hex')}`;
  const role = `pb_secret_${randomBytes(4).toString('hex')}`;
  const rolePassword = `dbpw${randomBytes(16).toString('hex')}`;
  let scratch: ScratchDatabase | undefined;
  let dataDir: string | undefined;
  let binance: FakeBinance | undefined;
  let server: RecordedServer | undefined;
  /** how the server of the session exited after SIGTERM */
  let stopped: string | undefined;

  /** Runs one statement on the test server as its administrator. */
  async function asAdmin(statement: string): Promise<void> {
    const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    // A role of its own with a password, owning a scratch database: the server connects with both.
    await asAdmin(`create role ${role} login password '${rolePassword}'`);
    scratch = await createScratchDatabase(inject('adminDatabaseUrl'), 'pb_secrets');
    await asAdmin(`alter database ${scratch.name} owner to ${role}`);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-secrets-'));
    binance = await new FakeBinance().start();
  });

  afterAll(async () => {
    await server?.stop();
    await binance?.close();
    await scratch?.drop();
    await asAdmin(`drop role if exists ${role}`);
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('writes no password, hash, secret, token or stack trace to its output or to any response', async () => {
    const databaseUrl = new URL(scratch!.url);
    databaseUrl.username = role;
    databaseUrl.password = rolePassword;
    const env: Record<string, string> = {
      ...baseEnv(dataDir!, binance!.baseUrl),
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl.toString(),
      JWT_SECRET: jwtSecret,
    };
    if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
    server = await RecordedServer.start(env);
    const client = new Client(server);
    const passwords = await realisticSession(client);
    const hashes = await storedHashes(databaseUrl.toString());
    expect(Object.keys(hashes).length).toBe(1);
    stopped = await server.stop();
    expectNothingLeaked(
      server.output,
      client,
      { 'the JWT secret': jwtSecret, 'the database password': rolePassword },
      passwords,
      hashes,
    );
  });

  it('then stopped gracefully on SIGTERM: its "stopped" line, then exit code 0', () => {
    // Checked apart from the secrets: whether the process finishes its own shutdown is not a leak.
    expect(server?.output).toContain('"msg":"shutting down"');
    expect(server?.output).toContain('"msg":"stopped"');
    expect(stopped).toBe('exit 0');
  });
});

describe('the embedded defaults at LOG_LEVEL=trace', () => {
  let dataDir: string | undefined;
  let binance: FakeBinance | undefined;
  let server: RecordedServer | undefined;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-secrets-embedded-'));
    // As root the embedded PostgreSQL runs as the OS user `postgres`, which must enter the folder.
    await fs.chmod(dataDir, 0o755);
    binance = await new FakeBinance().start();
  });

  afterAll(async () => {
    await server?.stop();
    await binance?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('never writes the generated JWT secret or the embedded PostgreSQL password', {
    timeout: 120_000,
  }, async () => {
    server = await RecordedServer.start({ ...baseEnv(dataDir!, binance!.baseUrl), NODE_ENV: 'development' });
    const client = new Client(server);
    const passwords = await realisticSession(client);
    const jwtSecret = (await fs.readFile(path.join(dataDir!, 'jwt-secret'), 'utf8')).trim();
    const pgPassword = (await fs.readFile(path.join(dataDir!, 'pg-password'), 'utf8')).trim();
    expect(jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(pgPassword.length).toBeGreaterThanOrEqual(16);
    // The warning that the secret was generated is there; the secret is not.
    expect(server.output).toContain('JWT_SECRET is not set');
    await server.stop();
    expectNothingLeaked(
      server.output,
      client,
      { 'the generated JWT secret': jwtSecret, 'the embedded PostgreSQL password': pgPassword },
      passwords,
      {},
    );
  });
});

describe('a process that cannot start', () => {
  /** Runs `src/main.ts serve` with only `env` (and PATH, HOME); resolves with its exit code and output. */
  async function start(
    env: Record<string, string>,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paperbroker-secrets-start-'));
    try {
      const result = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? os.tmpdir(),
          DATA_DIR: dataDir,
          ...env,
        },
        timeout: 60_000,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      return { code: result.code, stdout: result.stdout, stderr: result.stderr };
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }

  it('exits 1 with one line naming JWT_SECRET and DATABASE_URL when NODE_ENV=production has neither', async () => {
    const result = await start({ NODE_ENV: 'production', LOG_LEVEL: 'trace' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'paperbroker: invalid configuration: JWT_SECRET: is required when NODE_ENV=production; ' +
        'DATABASE_URL: is required when NODE_ENV=production\n',
    );
  });

  it('names a bad DATABASE_URL and a short JWT_SECRET without writing their values', async () => {
    const dbPassword = `dbpw${randomBytes(12).toString('hex')}`;
    const shortSecret = `short${randomBytes(6).toString('hex')}`;
    const result = await start({
      NODE_ENV: 'production',
      LOG_LEVEL: 'trace',
      DATABASE_URL: `mysql://someone:${dbPassword}@127.0.0.1:3306/broker`,
      JWT_SECRET: shortSecret,
    });
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(
      leaks(output, { 'the database password': dbPassword, 'the short JWT secret': shortSecret }),
    ).toEqual([]);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('DATABASE_URL: must be a URL starting with postgres://');
    expect(result.stderr).toContain('JWT_SECRET: must be at least 32 characters long');
  });

  it('says in one line that the database cannot be reached, without its password or a stack trace', async () => {
    const dbPassword = `dbpw${randomBytes(12).toString('hex')}`;
    // Nothing listens on a port just found free (loopback only): the connection is refused at once.
    const port = await freeLoopbackPort();
    const result = await start({
      NODE_ENV: 'production',
      LOG_LEVEL: 'trace',
      JWT_SECRET: `jwt-${randomBytes(32).toString('hex')}`,
      DATABASE_URL: `postgres://someone:${dbPassword}@127.0.0.1:${port}/broker`,
    });
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).not.toContain(dbPassword);
    expect(leaks(output, { 'the database password': dbPassword })).toEqual([]);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
