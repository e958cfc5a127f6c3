# syntax=docker/dockerfile:1
# One image for every role; the command picks it (docker-compose.yml does):
#   worker     node dist/src/worker/main.js      (the default)
#   beat       node dist/src/beat/main.js
#   dashboard  node dist/src/dashboard/main.js   (port 5555, /healthz)
#   the CLI    node bin/task-hub.js <command>     (e.g. docker compose exec dashboard node bin/task-hub.js queues)
# Configuration comes from the environment at run time (.env.example); no secret is in the image.

# An LTS line. CI runs the tests on Node 20; the code needs >= 20 (package.json engines).
ARG NODE_VERSION=24

# --- build: dev dependencies + tsc -> dist/ ------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json *.ts ./
COPY src ./src
COPY tasks ./tasks
RUN npm run build

# --- production dependencies only ----------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime: node, production node_modules and compiled JS; nothing else --------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# The package managers are not needed to run the hub: less to patch, less to misuse.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, read-only for the user the hub runs as.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The task-hub CLI (node bin/task-hub.js ...): runs dist/src/cli/main.js here.
COPY bin ./bin
USER node
EXPOSE 5555
# The dashboard must answer /healthz; worker and beat are healthy while their process runs.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/src/docker/healthcheck.js"]
# Exec form: node is the process Docker signals (SIGTERM on stop) and drains before it exits.
CMD ["node", "dist/src/worker/main.js"]
