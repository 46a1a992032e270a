# syntax=docker/dockerfile:1
# vnf-operator's image: Node.js 24 runs the TypeScript sources directly (type stripping), so there is
# no build step, only the production dependencies. Build from the repository root:
#   docker build -t vnf-operator:dev .
# (Not buildable on machines without a Docker engine; hack/kind-e2e builds it where there is one.)

ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: production dependencies only, at the versions of package-lock.json. `npm install
# --no-save` rather than `npm ci`, as in hack/lib.sh: ci refuses a lock whose optional per-platform
# packages a registry mirror may not serve; this installs the locked versions all the same.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm install --omit=dev --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

# Stage 2: the runtime. Sources and dictionaries are owned by root and only readable by the
# operator's user, which the chart runs with a read-only root filesystem.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY dictionaries ./dictionaries
# Numeric, so that Kubernetes can verify runAsNonRoot; the chart's podSecurityContext uses the same.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["run"]
