# TuitBot: one image for our cloud and for every self-hoster (docs/self-hosting.md).
#
#   docker build -t tuitbot .
#   docker run -d -p 127.0.0.1:3001:3001 -v tuitbot_data:/data tuitbot    (self-host mode; compose: docker-compose.yml)
#
# The base (BASE_IMAGE:BASE_TAG) is any Debian bookworm image with Node 20 on PATH. The default is the official
# one; machines without registry access build on a base made locally (scripts/build-image.sh:
# --build-arg BASE_IMAGE=localhost/tuitbot-base --build-arg BASE_TAG=bookworm-node20).
ARG BASE_IMAGE=node
ARG BASE_TAG=20-bookworm-slim

# ---- build: native modules, the server (dist/) and the dashboard (dashboard/build/cloud) ----
FROM ${BASE_IMAGE}:${BASE_TAG} AS build
# better-sqlite3 compiles from source (no prebuilt binary is downloaded): python3, make and g++, here only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, so a source change does not recompile them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm run build:cloud \
 && npm prune --omit=dev --no-audit --no-fund \
 && node scripts/prune-native-binaries.mjs \
 && chmod 0755 dist/supervisor/cli.js

# ---- runtime: Node, the pruned node_modules and the built files; no compiler, no sources ----
FROM ${BASE_IMAGE}:${BASE_TAG} AS runtime
ENV NODE_ENV=production \
    TUITBOT_MODE=self-host \
    DATA_DIR=/data \
    PORT=3001
# A fixed uid/gid (10001), so a bind-mounted data directory can be given to it: chown -R 10001:10001 <dir>.
RUN groupadd --system --gid 10001 tuitbot \
 && useradd --system --uid 10001 --gid tuitbot --home-dir /data --no-create-home --shell /usr/sbin/nologin tuitbot \
 && mkdir -p /data \
 && chown tuitbot:tuitbot /data \
 && chmod 0700 /data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/dashboard/build/cloud ./dashboard/build/cloud
COPY scripts/docker-entrypoint.sh /usr/local/bin/tuitbot-entrypoint
COPY scripts/tuitbot-cli.sh /usr/local/bin/tuitbot
USER tuitbot
VOLUME /data
EXPOSE 3001
# /healthz answers while the process is alive; node is the only client in the image (no curl).
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3001)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tuitbot-entrypoint"]
CMD ["node", "--enable-source-maps", "dist/supervisor/cli.js", "serve"]
