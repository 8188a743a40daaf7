import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { healthRoutes, type ReadinessCheck } from './health.js';
import { installHttpMetrics, metricsRoutes } from './metrics.js';

/**
 * The HTTP server of a process that serves no API (the `worker` role, on `WORKER_PORT`): only
 * `/health/live`, `/health/ready` and `/metrics`, so that an orchestrator can probe it and
 * Prometheus can scrape the job metrics (bet settlements, polls, liquidations) it alone records.
 * Probes are not logged one by one: they come every few seconds and say nothing new.
 */
export async function buildOpsApp(
  logger: Logger,
  checks: Record<string, ReadinessCheck>,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    disableRequestLogging: true,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installHttpMetrics(app);
  await app.register(healthRoutes, checks);
  await app.register(metricsRoutes);
  return app;
}
