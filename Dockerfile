# syntax=docker/dockerfile:1.7
#
# One image for every Atrium process. Pick what it runs by argument or build argument:
#   docker build -t atrium .                          # default target: gateway
#   docker build -t atrium-identity --build-arg SERVICE=identity .
#   docker run atrium identity | resources | permissions | issues | gateway | migrate | embedded
#
# The TypeScript sources run through tools/register.js (SWC), as in development: the runtime stage
# holds the sources, their compiled output (dist/server, made at build time: the tree is read-only
# at run time) and the production dependencies only (no dev tooling, no tests).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- production dependencies ------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The root postinstall (it builds the web console and compiles the server sources; here it says
# there is nothing to build).
COPY tools/build-console.js tools/register.js ./tools/
# No usage pings from install scripts (@scarf/scarf, pulled in by swagger-ui-dist).
ENV SCARF_ANALYTICS=false
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---- the web console (built with the dev tooling, which the runtime does not hold) -------------
FROM ${NODE_IMAGE} AS console
WORKDIR /app
COPY package.json package-lock.json ./
COPY tools/build-console.js tools/register.js ./tools/
ENV SCARF_ANALYTICS=false
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY libs ./libs
COPY apps/console ./apps/console
RUN npm run console:build

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=gateway
ENV NODE_ENV=production \
    ATRIUM_SERVICE=${SERVICE} \
    HOST=0.0.0.0 \
    PORT=3000 \
    ATRIUM_DATA_DIR=/data
WORKDIR /app

# tini as PID 1: forwards SIGTERM to node and reaps children. Node as PID 1 would ignore SIGTERM
# wherever no handler is installed (the kernel gives PID 1 no default signal actions).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

# Owned by root and not writable by the process: the application tree is immutable at run time.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.base.json ./
COPY tools ./tools
COPY libs ./libs
COPY apps ./apps
COPY --from=console /app/dist/console ./dist/console
RUN node tools/register.js --build

COPY --chmod=755 <<'EOF' /usr/local/bin/atrium
#!/bin/sh
# Starts one Atrium process: a service, the gateway, the one-shot migration, or the embedded mode.
#   atrium [gateway|identity|resources|permissions|issues|migrate|embedded] [args...]
# Without an argument it starts $ATRIUM_SERVICE (set by the SERVICE build argument).
set -eu
target="${1:-${ATRIUM_SERVICE:-gateway}}"
[ "$#" -gt 0 ] && shift
case "$target" in
  migrate) exec node -r ./tools/register.js tools/migrate.ts "$@" ;;
  embedded) exec node --max-semi-space-size=4 -r ./tools/register.js apps/atrium/src/main.ts "$@" ;;
  gateway | identity | resources | permissions | issues) exec node -r ./tools/register.js "apps/$target/src/main.ts" "$@" ;;
  *)
    echo "atrium: unknown target '$target' (expected gateway, identity, resources, permissions, issues, migrate or embedded)" >&2
    exit 64
    ;;
esac
EOF

# Only the embedded mode writes (its PGlite data and JWT secret); mount a volume there.
RUN mkdir -p /data && chown node:node /data

# The `node` user (uid 1000) of the official image; Kubernetes manifests pin the same uid.
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "atrium"]
