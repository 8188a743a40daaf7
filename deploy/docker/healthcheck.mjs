// The image's HEALTHCHECK: exit 0 when /health/live answers 200 on PORT (serve, all) or on
// WORKER_PORT (worker), else 1. Plain JavaScript, so a check costs no TypeScript compile.
const ports = [process.env.PORT ?? '8000', process.env.WORKER_PORT].filter(Boolean);
for (const port of ports) {
  const ok = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(2000) }).then(
    (res) => res.ok,
    () => false,
  );
  if (ok) process.exit(0);
}
process.exit(1);
