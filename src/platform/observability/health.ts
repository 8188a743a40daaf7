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
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          const timeout = new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref(),
          );
          results[name] = await Promise.race([check(), timeout]).then(
            () => 'ok' as const,
            () => 'failing' as const,
          );
        }),
      );
      const ok = Object.values(results).every((r) => r === 'ok');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: results });
    },
  );
}
