// The CloudStack shim's HTTP(S) server: the original VNF broker's API, served by writing
// VnfFirewallRule / VnfNatRule resources and answering from their status, in the dialect of each
// client family that calls it. The pieces: routes.ts (which paths, which family), pipeline.ts (one
// request: auth, rate limit, handler, answer), handlers/ (what each request does), rule-store.ts and
// waiting.ts (the cluster side), dialects.ts and errors.ts (how outcomes are told). docs/cloudstack-shim.md
// is the user's view of all of it.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { KubeConfigSource } from "../runtime/kubeconfig.ts";
import { silentLogger } from "../runtime/logging.ts";
import type { JwtPolicy } from "./auth.ts";
import type { HandlerDeps } from "./context.ts";
import { DEFAULT_VENDOR_ALIASES, vendorKey } from "./devices.ts";
import { ShimKube } from "./kube.ts";
import { createShimMetrics, type ShimMetrics } from "./metrics.ts";
import { requestListener } from "./pipeline.ts";
import { type RateLimitOptions, SlidingWindowLimiter } from "./rate-limit.ts";
import { buildRoutes, metricsOnlyRoutes } from "./routes.ts";

export { DEFAULT_VENDOR_ALIASES } from "./devices.ts";

export interface ShimTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** With a client CA, callers must present a certificate it signed (mTLS). */
  clientCa?: string | Buffer;
}

/**
 * Where the Prometheus metrics are served: on the broker port without a token (public), on the
 * broker port with a token (token), or only on a separate plain-HTTP listener (separate).
 */
export type MetricsMode = "public" | "token" | "separate";

export interface ShimOptions {
  kubeConfig: KubeConfigSource;
  /** The namespaces whose VnfDevices the shim may name (and where its rules live). */
  namespaces: readonly string[];
  jwt: JwtPolicy;
  logger?: Logger;
  tls?: ShimTls;
  /**
   * Interface for rules whose request names none, when their device has no
   * vnf-operator.io/cloudstack-default-interface annotation. Unset: such a request is refused.
   */
  defaultInterface?: string;
  /** How long a request waits for Ready before answering "ask again". Default 20 s. */
  waitTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Default 100 requests per 60 s per subject. */
  rateLimit?: RateLimitOptions;
  maxBodyBytes?: number;
  /** CloudStack vendor names (X-VNF-Vendor) → VnfDevice spec.vendor. */
  vendorAliases?: Readonly<Record<string, string>>;
  /** Also export process metrics (off in tests, where several shims share a process). */
  processMetrics?: boolean;
  /** Default public. */
  metrics?: MetricsMode;
}

export interface ShimServer {
  server: http.Server | https.Server;
  /** The metrics-only listener (metrics: "separate"); listen with listenMetrics. */
  metricsServer: http.Server | undefined;
  metrics: ShimMetrics;
  listen(port: number, host?: string): Promise<AddressInfo>;
  listenMetrics(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createShimServer(options: ShimOptions): ShimServer {
  const log = options.logger ?? silentLogger;
  const metrics = createShimMetrics(options.processMetrics ?? false);
  const waitTimeoutMs = options.waitTimeoutMs ?? 20_000;
  const aliases: Record<string, string> = { ...DEFAULT_VENDOR_ALIASES };
  for (const [name, vendor] of Object.entries(options.vendorAliases ?? {})) aliases[vendorKey(name)] = vendor;
  const deps: HandlerDeps = {
    kube: new ShimKube(options.kubeConfig, options.namespaces),
    log,
    metrics,
    namespaces: options.namespaces,
    wait: { timeoutMs: waitTimeoutMs, pollMs: options.pollIntervalMs ?? 250 },
    defaultInterface: options.defaultInterface || undefined,
    vendorAliases: aliases,
  };
  const mode = options.metrics ?? "public";
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const listener = requestListener({
    routes: buildRoutes(deps, mode === "separate" ? "off" : mode),
    jwt: options.jwt,
    limiter: new SlidingWindowLimiter(options.rateLimit ?? { max: 100, windowMs: 60_000 }),
    metrics,
    log,
    maxBodyBytes,
  });
  const server = options.tls
    ? https.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.clientCa
            ? { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true }
            : {}),
          minVersion: "TLSv1.2",
        },
        listener,
      )
    : http.createServer(listener);
  server.requestTimeout = waitTimeoutMs + 30_000;
  const metricsServer =
    mode === "separate"
      ? http.createServer(
          requestListener({
            routes: metricsOnlyRoutes(deps),
            jwt: undefined,
            limiter: undefined,
            metrics,
            log,
            maxBodyBytes,
          }),
        )
      : undefined;

  return {
    server,
    metricsServer,
    metrics,
    listen: (port, host = "0.0.0.0") => listen(server, port, host),
    listenMetrics: (port, host = "0.0.0.0") => {
      if (!metricsServer) throw new Error("the metrics listener needs metrics: separate");
      return listen(metricsServer, port, host);
    },
    close: async () => {
      await Promise.all([close(server), metricsServer ? close(metricsServer) : undefined]);
    },
  };
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function close(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
