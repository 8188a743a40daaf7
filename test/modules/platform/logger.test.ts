/**
 * Request loggers (`requestLoggerFactory`): each request's lines carry its request id and pass the
 * redaction rules, while a request that writes no line at the configured level never makes a pino
 * child at all.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { REDACTED_PATHS, requestLoggerFactory } from '../../../src/platform/observability/logger.js';

interface LogLine {
  level: number;
  msg?: string;
  reqId?: string;
  password?: string;
}

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app whose routes log, with every line it writes kept in `lines`, and the pino children made counted. */
async function loggingApp(level: string) {
  const lines: LogLine[] = [];
  let children = 0;
  const logger = pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, onChild: () => children++ },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  const server: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    childLoggerFactory: requestLoggerFactory,
    genReqId: () => 'req-1',
  });
  app = server;
  server.get('/quiet', async () => ({ ok: true }));
  server.get('/warns', async (request) => {
    request.log.warn({ password: 'hunter22' }, 'something odd');
    return { ok: true };
  });
  server.get('/child', async (request) => {
    request.log.child({ part: 'inner' }).error('inner failure');
    return { ok: true };
  });
  server.get('/debug-route', { logLevel: 'debug' }, async (request) => {
    request.log.debug('route-level debug');
    return { ok: true };
  });
  await server.ready();
  // Fastify binds its own child of the given logger once, at start.
  const childrenAtStart = children;
  return { app: server, lines, childrenMade: () => children - childrenAtStart };
}

describe('request loggers', () => {
  it('a request that writes no line at the configured level makes no pino child', async () => {
    const { app, lines, childrenMade } = await loggingApp('warn');
    for (let i = 0; i < 5; i++)
      expect((await app.inject({ method: 'GET', url: '/quiet' })).statusCode).toBe(200);
    expect(childrenMade()).toBe(0);
    expect(lines).toEqual([]);
  });

  it('lines at an enabled level carry the request id, and redaction still applies', async () => {
    const { app, lines, childrenMade } = await loggingApp('warn');
    expect((await app.inject({ method: 'GET', url: '/warns' })).statusCode).toBe(200);
    expect(childrenMade()).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'something odd', reqId: 'req-1', password: '[redacted]' }),
    ]);
  });

  it('at info, Fastify’s request lines carry the request id', async () => {
    const { app, lines } = await loggingApp('info');
    await app.inject({ method: 'GET', url: '/quiet' });
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['incoming request', 'req-1'],
      ['request completed', 'req-1'],
    ]);
  });

  it('a child of a request logger keeps the request id', async () => {
    const { app, lines } = await loggingApp('error');
    await app.inject({ method: 'GET', url: '/child' });
    expect(lines).toEqual([expect.objectContaining({ msg: 'inner failure', reqId: 'req-1' })]);
  });

  it('a route with its own log level gets it', async () => {
    const { app, lines } = await loggingApp('warn');
    await app.inject({ method: 'GET', url: '/debug-route' });
    expect(lines.map((l) => l.msg)).toContain('route-level debug');
  });
});
