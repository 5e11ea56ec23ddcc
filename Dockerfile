# inflow's API, worker and migrate processes: one image, the process is picked by the command
# (docker-compose.yml runs the api, worker and migrate entry files the same way).
#
# Debian (glibc), not alpine: @temporalio/core-bridge (the worker's native module) and @swc/core
# ship prebuilt binaries for glibc only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (tsx runs the TypeScript sources, so no build step). Install scripts
# stay off, as package.json's allowScripts has them for every runtime package that has one
# (esbuild, protobufjs, @swc/core): their prebuilt binaries come as optional packages.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
WORKDIR /app
# Owned by root and read-only for the `node` user that runs the app.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
# The dashboard (src/dashboard) calls the API through the SDK's source.
COPY sdk/src ./sdk/src
# The signer's socket and audit log directories (docker-compose.yml's signer-* volumes start as
# copies of these, so they belong to `node`, which both the signer and the worker run as).
RUN mkdir -p /run/inflow-signer /var/lib/inflow-signer && chown node:node /run/inflow-signer /var/lib/inflow-signer && chmod 0700 /var/lib/inflow-signer
USER node
EXPOSE 3000
# node itself, not `npm run api`: npm does not pass SIGTERM on, so no graceful shutdown.
CMD ["node", "--import", "tsx", "src/api/server.ts"]
