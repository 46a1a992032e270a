# syntax=docker/dockerfile:1
# vnf-operator's image: Node.js 24 runs the compiled build (`npm run build`: plain JavaScript in dist/),
# not the TypeScript sources. Node could strip the types itself at start, but its stripper keeps every
# module's source text resident (about 40 MiB of the operator's memory: docs/performance.md). Build from
# the repository root:
#   docker build -t vnf-operator:dev .            (the official Node 24 images from Docker Hub)
#   hack/image build                              (podman or docker; see the script for its base images)
# The base images are build arguments so that the same file builds on machines without Docker Hub:
# hack/image makes both from Debian packages and Node's official binary, laid out as the official
# images are (node and npm in /usr/local/bin).

# Has node and npm: installs the dependencies.
ARG BUILD_IMAGE=docker.io/library/node:24-bookworm-slim
# Has node: runs the operator.
ARG RUNTIME_IMAGE=docker.io/library/node:24-bookworm-slim

# Stage 1: production dependencies only, at the versions of package-lock.json. `npm install
# --no-save` rather than `npm ci`, as in hack/lib.sh: ci refuses a lock whose optional per-platform
# packages a registry mirror may not serve; this installs the locked versions all the same. Type
# declarations and source maps are never loaded at run time (a third of @kubernetes/client-node).
FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm install --omit=dev --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm cache clean --force \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

# Stage 2: the compiled build, with the development dependencies the compiler needs (none of them
# reaches the runtime stage).
FROM ${BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
RUN npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error
COPY src ./src
RUN npm run build

# Stage 3: the runtime. The build and dictionaries are owned by root and only readable by the
# operator's user, which the chart runs with a read-only root filesystem.
FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production
# Two malloc arenas instead of glibc's eight per core: the operator's native allocations are few, and
# each arena keeps its high-water mark resident (docs/performance.md).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY dictionaries ./dictionaries
# Numeric, so that Kubernetes can verify runAsNonRoot; the chart's podSecurityContext uses the same.
USER 65532:65532
EXPOSE 8080 8081
# --optimize-for-size: V8 trades some speed for a smaller heap and code (NODE_OPTIONS refuses V8 flags
# like this one, so it is here; the chart's nodeOptions add the rest).
ENTRYPOINT ["node", "--optimize-for-size", "dist/cli/main.js"]
CMD ["run"]
