/**
 * Requests refused before any route sees them (issue 22 point 4): headers over Node's limit (431),
 * a URL longer than that limit (431), a path parameter over the router's 256 characters (414) and
 * a request Node cannot parse at all (400) all answer in the one v1 error shape (the router's two
 * in seed 004's shape and as an error page on those families' paths), with a request id,
 * echoing nothing of the request. Sent over a real loopback socket, byte for byte, because `inject`
 * skips Node's HTTP parser, where the first three of these are decided.
 */
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, useTestApp } from '../../helpers/app.js';
import { expectV1Error } from '../../helpers/wallets.js';

const t = useTestApp();
let port = 0;

beforeAll(async () => {
  port = Number(new URL(await listenOnLoopback(t.app)).port);
});

/** An answer read off the socket: its status, headers (lower-case names) and body. */
interface RawAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` as it is to a new connection and reads the answer until the server closes it. */
async function sendRaw(request: string): Promise<RawAnswer> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body };
}

/** A GET of `path` with `extraHeaders` (raw lines), closing the connection after the answer. */
const get = (path: string, extraHeaders = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extraHeaders}\r\n`;

/** A marker of the request that must not come back in the answer. */
const MARKER = 'echo-me-not-';

function expectRefused(res: RawAnswer, status: number, code: string): void {
  expectV1Error(res, status, code);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.body).not.toContain(MARKER);
  expect(res.body.length).toBeLessThan(300);
}

describe('requests refused before routing', () => {
  it('answers headers over the limit with 431 in the v1 shape', async () => {
    const res = await sendRaw(get('/api/v1/users/me', `X-Padding: ${MARKER}${'x'.repeat(20_000)}\r\n`));
    expectRefused(res, 431, 'HEADERS_TOO_LARGE');
  });

  it('answers a URL over the header limit with 431 in the v1 shape', async () => {
    const res = await sendRaw(get(`/api/v1/users/${MARKER}${'x'.repeat(20_000)}`));
    expectRefused(res, 431, 'HEADERS_TOO_LARGE');
  });

  it('answers a path parameter over the router’s limit with 414 in the v1 shape', async () => {
    const res = await sendRaw(get(`/api/v1/users/${MARKER}${'x'.repeat(300)}`));
    expectRefused(res, 414, 'URI_TOO_LONG');
  });

  // The router's own errors on a seed 004 path are in seed 004's shape (its clients read
  // `{"error": "text"}` and nothing else), on a tracking page's path an error page: found by
  // test/fuzz/openapi.fuzz.test.ts, whose document says so for those operations.
  it.each([
    ['over the router’s limit', `${MARKER}${'x'.repeat(300)}`, 414],
    ['with a broken percent-encoding', '%E0%A4%A', 400],
  ])(
    'answers a seed 004 or page path parameter %s in that family’s shape',
    async (_what, segment, status) => {
      const seed = await sendRaw(get(`/crypto/${segment}/history`));
      expect(seed.statusCode).toBe(status);
      expect(seed.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(JSON.parse(seed.body))).toEqual(['error']);
      expect(typeof JSON.parse(seed.body).error).toBe('string');
      expect(seed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(seed.body).not.toContain(MARKER);
      const page = await sendRaw(get(`/tracked/${segment}/stats`));
      expect(page.statusCode).toBe(status);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain(`<title>Error ${status}`);
      expect(page.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(page.body).not.toContain(MARKER);
      // and everywhere else, the v1 shape
      expectRefused(
        await sendRaw(get(`/api/v1/tracked/${segment}/stats`)),
        status,
        status === 414 ? 'URI_TOO_LONG' : 'BAD_REQUEST',
      );
    },
  );

  it('answers a request Node cannot parse with 400 in the v1 shape', async () => {
    const res = await sendRaw(
      `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-${MARKER}: a\u0001b\r\n\r\n`,
    );
    expectRefused(res, 400, 'BAD_REQUEST');
  });

  it('still serves a well-formed request on the same server', async () => {
    const res = await sendRaw(get('/health/live'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });
});
