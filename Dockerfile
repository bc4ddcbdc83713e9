# syntax=docker/dockerfile:1
# Quire in a container: build the single executable with the Bun that package-lock.json pins (the `bun`
# npm package), then run it alone on a slim glibc base as an unprivileged user. Data lives in the /data
# volume; configuration is the environment (see `quire help`). NOT YET BUILT with Docker: no engine was
# available where this was written, and CI does not build it; the build stage's commands were run by hand.
# Only `serve` needs JWT_SECRET: backup, restore, migrate and admin run without it.
#
#   docker build -t quire .
#   docker run -d --name quire -p 3000:3000 -v quire-data:/data \
#     -e JWT_SECRET="$(openssl rand -base64 48)" --stop-timeout 30 quire
#   docker exec quire quire backup /data/backups/manual.db
#   docker stop quire && docker run --rm -v quire-data:/data quire restore /data/backups/manual.db

# ---- build ---------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so a source change does not reinstall them. Only what the build needs: the runtime
# dependencies (bundled into the binary; `--omit=dev` skips the test tools, the Bruno CLI and its cloud
# SDKs) and Bun alone, at the version package-lock.json pins, in its own prefix. The bun package links its
# executable from a postinstall script; where npm skipped it, run it.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm install --prefix /opt/bun --no-save --no-package-lock --no-audit --no-fund \
      "bun@$(node -p "require('./package-lock.json').packages['node_modules/bun'].version")" \
 && (/opt/bun/node_modules/.bin/bun --version || (cd /opt/bun/node_modules/bun && node install.js))
COPY . .
RUN /opt/bun/node_modules/.bin/bun scripts/build.ts --outfile /out/quire \
 && /out/quire version

# ---- run -----------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# CA roots for outgoing TLS (webhooks, SMTP, an https OTLP collector); nothing else is installed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 quire \
 && useradd --system --uid 10001 --gid quire --home-dir /data --shell /usr/sbin/nologin quire \
 && mkdir -p /data \
 && chown quire:quire /data \
 && chmod 0700 /data
COPY --from=build /out/quire /usr/local/bin/quire
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000
USER quire:quire
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# SIGTERM drains (SHUTDOWN_GRACE_MS, 10 s by default): give `docker stop` more than that (--stop-timeout 30
# or compose's stop_grace_period: 30s), or it sends SIGKILL, which is safe for the data but drops requests.
STOPSIGNAL SIGTERM
# No curl in the image: the binary probes its own /health/ready (exit 0 ready, 1 not).
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 CMD ["quire", "healthcheck"]
ENTRYPOINT ["quire"]
CMD ["serve"]
