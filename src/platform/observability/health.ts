import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** A dependency the process needs to serve traffic; rejects when it cannot answer. */
export type ReadinessCheck = () => Promise<void>;

/** Longest a readiness check may take before it counts as failed (ms). */
const CHECK_TIMEOUT_MS = 2000;

/** `GET /health/live` (the process runs) and `GET /health/ready` (every dependency answers). */
export async function healthRoutes(
  app: FastifyInstance,
  checks: Record<string, ReadinessCheck>,
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/health/live',
    { schema: { tags: ['operations'], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  const readiness = z.object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['ok', 'failing'])),
  });
  r.get(
    '/health/ready',
    { schema: { tags: ['operations'], response: { 200: readiness, 503: readiness } } },
    async (_request, reply) => {
      const results: Record<string, 'ok' | 'failing'> = {};
      // The answer comes once every check has passed, or at the first that fails: a process that is
      // shutting down says so at once, even while a busy pool keeps the database check waiting.
      // Checks still running then are left out of `checks`.
      let failed: () => void = () => undefined;
      const firstFailure = new Promise<void>((resolve) => {
        failed = resolve;
      });
      const all = Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          const timeout = new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref(),
          );
          results[name] = await Promise.race([check(), timeout]).then(
            () => 'ok' as const,
            () => 'failing' as const,
          );
          if (results[name] === 'failing') failed();
        }),
      );
      await Promise.race([all, firstFailure]);
      const ok = Object.values(results).every((r) => r === 'ok');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { ...results } });
    },
  );
}
