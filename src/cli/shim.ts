// `vnf-operator shim`: the CloudStack-compatible broker API (src/shim/). Every flag has an environment
// variable (VNF_SHIM_*), so the chart configures it by env; flags win. `vnf-operator shim token` mints
// a token for CloudStack's settings (shim-token.ts).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger } from "../runtime/logging.ts";
import { type JwtAlgorithm, loadJwtKey } from "../shim/auth.ts";
import { createShimServer, type MetricsMode } from "../shim/server.ts";
import { commaList, loadKubeConfig } from "./common.ts";

const HELP = `usage: vnf-operator shim [flags]
       vnf-operator shim token --help

Serves the original VNF broker's HTTP API for CloudStack (point vnf.broker.url at it) by writing
VnfFirewallRule / VnfNatRule resources and answering from their status.

flags (environment variable in brackets):
  --kubeconfig PATH          kubeconfig [KUBECONFIG]; default: in-cluster service account
  --namespaces A,B           namespaces whose VnfDevices CloudStack may name [VNF_SHIM_NAMESPACES];
                             default: POD_NAMESPACE, else default
  --listen ADDR              [host:]port to listen on [VNF_SHIM_LISTEN]; default :8443
  --tls-cert FILE            server certificate (PEM) [VNF_SHIM_TLS_CERT]; without it plain HTTP
  --tls-key FILE             server key (PEM) [VNF_SHIM_TLS_KEY]
  --client-ca FILE           require client certificates signed by this CA (mTLS) [VNF_SHIM_CLIENT_CA]
  --jwt-algorithm ALG        HS256 or RS256 [VNF_SHIM_JWT_ALGORITHM]; default RS256
  --jwt-key-file FILE        RS256: PEM public key or certificate; HS256: the shared secret (>= 32 bytes)
                             [VNF_SHIM_JWT_KEY_FILE]
  --jwt-issuer ISS           required iss claim [VNF_SHIM_JWT_ISSUER]; default: not checked
  --jwt-audience AUD         required aud claim [VNF_SHIM_JWT_AUDIENCE]; default: not checked
  --jwt-clock-skew SECONDS   tolerance for exp/iat [VNF_SHIM_JWT_CLOCK_SKEW]; default 30
  --jwt-max-age SECONDS      refuse tokens issued longer ago [VNF_SHIM_JWT_MAX_AGE]; default: unset
  --wait-timeout SECONDS     how long a request waits for Ready [VNF_SHIM_WAIT_TIMEOUT]; default 20
  --default-interface NAME   interface for rules that name none, on devices without the annotation
                             vnf-operator.io/cloudstack-default-interface [VNF_SHIM_DEFAULT_INTERFACE];
                             default: none (such a request is refused with what to set)
  --vendor-aliases A=B,C=D   more X-VNF-Vendor names → VnfDevice spec.vendor [VNF_SHIM_VENDOR_ALIASES]
  --rate-limit N             requests per subject per window [VNF_SHIM_RATE_LIMIT]; default 100
  --rate-window SECONDS      [VNF_SHIM_RATE_WINDOW]; default 60
  --metrics MODE             /metrics and /metrics.prom on the broker port: public or token (needs a
                             valid token) [VNF_SHIM_METRICS]; default public
  --metrics-listen ADDR      serve the metrics only on this separate plain-HTTP [host:]port instead
                             [VNF_SHIM_METRICS_LISTEN]
  --log-level LEVEL          trace|debug|info|warn|error [VNF_LOG_LEVEL]; default info
`;

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === "token") return (await import("./shim-token.ts")).run(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      namespaces: { type: "string" },
      listen: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "client-ca": { type: "string" },
      "jwt-algorithm": { type: "string" },
      "jwt-key-file": { type: "string" },
      "jwt-issuer": { type: "string" },
      "jwt-audience": { type: "string" },
      "jwt-clock-skew": { type: "string" },
      "jwt-max-age": { type: "string" },
      "wait-timeout": { type: "string" },
      "default-interface": { type: "string" },
      "vendor-aliases": { type: "string" },
      "rate-limit": { type: "string" },
      "rate-window": { type: "string" },
      metrics: { type: "string" },
      "metrics-listen": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const env = process.env;
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const number = (name: string, text: string | undefined, fallback: number | undefined) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(text)}`);
    return n;
  };

  const log = createLogger({ level: values["log-level"] ?? env.VNF_LOG_LEVEL, name: "vnf-cloudstack-shim" });
  const kubeConfig = loadKubeConfig(pick(values.kubeconfig, "KUBECONFIG"));

  const algorithm = (pick(values["jwt-algorithm"], "VNF_SHIM_JWT_ALGORITHM") ?? "RS256").toUpperCase();
  if (algorithm !== "HS256" && algorithm !== "RS256")
    throw new Error(`--jwt-algorithm must be HS256 or RS256, got ${algorithm}`);
  const keyFile = pick(values["jwt-key-file"], "VNF_SHIM_JWT_KEY_FILE");
  if (!keyFile) throw new Error("--jwt-key-file is required (RS256 public key or HS256 secret)");
  const key = loadJwtKey(algorithm as JwtAlgorithm, readFileSync(keyFile));

  const certFile = pick(values["tls-cert"], "VNF_SHIM_TLS_CERT");
  const keyPemFile = pick(values["tls-key"], "VNF_SHIM_TLS_KEY");
  const caFile = pick(values["client-ca"], "VNF_SHIM_CLIENT_CA");
  if (Boolean(certFile) !== Boolean(keyPemFile)) throw new Error("--tls-cert and --tls-key go together");
  if (caFile && !certFile) throw new Error("--client-ca needs --tls-cert and --tls-key");

  const namespaces = commaList(
    pick(values.namespaces, "VNF_SHIM_NAMESPACES") ?? env.POD_NAMESPACE ?? "default",
  );
  const issuer = pick(values["jwt-issuer"], "VNF_SHIM_JWT_ISSUER");
  const audience = pick(values["jwt-audience"], "VNF_SHIM_JWT_AUDIENCE");
  const maxAge = number("--jwt-max-age", pick(values["jwt-max-age"], "VNF_SHIM_JWT_MAX_AGE"), undefined);
  const vendorAliases: Record<string, string> = {};
  for (const pair of (pick(values["vendor-aliases"], "VNF_SHIM_VENDOR_ALIASES") ?? "").split(",")) {
    if (!pair.trim()) continue;
    const [name, vendor] = pair.split("=").map((s) => s.trim());
    if (!name || !vendor)
      throw new Error(`--vendor-aliases: expected NAME=VENDOR, got ${JSON.stringify(pair)}`);
    vendorAliases[name.toLowerCase().replace(/[^a-z0-9]/g, "")] = vendor;
  }
  const metricsListen = pick(values["metrics-listen"], "VNF_SHIM_METRICS_LISTEN");
  const metricsAccess = pick(values.metrics, "VNF_SHIM_METRICS") ?? "public";
  if (metricsAccess !== "public" && metricsAccess !== "token")
    throw new Error(`--metrics must be public or token, got ${metricsAccess}`);
  const metricsMode: MetricsMode = metricsListen ? "separate" : metricsAccess;
  const defaultInterface = pick(values["default-interface"], "VNF_SHIM_DEFAULT_INTERFACE");
  const shim = createShimServer({
    vendorAliases,
    metrics: metricsMode,
    kubeConfig,
    namespaces,
    logger: log,
    processMetrics: true,
    jwt: {
      algorithm,
      key,
      clockToleranceSec:
        number("--jwt-clock-skew", pick(values["jwt-clock-skew"], "VNF_SHIM_JWT_CLOCK_SKEW"), 30) ?? 30,
      ...(issuer ? { issuer } : {}),
      ...(audience ? { audience } : {}),
      ...(maxAge ? { maxTokenAgeSec: maxAge } : {}),
    },
    ...(certFile && keyPemFile
      ? {
          tls: {
            cert: readFileSync(certFile),
            key: readFileSync(keyPemFile),
            ...(caFile ? { clientCa: readFileSync(caFile) } : {}),
          },
        }
      : {}),
    waitTimeoutMs:
      (number("--wait-timeout", pick(values["wait-timeout"], "VNF_SHIM_WAIT_TIMEOUT"), 20) ?? 20) * 1000,
    ...(defaultInterface ? { defaultInterface } : {}),
    rateLimit: {
      max: number("--rate-limit", pick(values["rate-limit"], "VNF_SHIM_RATE_LIMIT"), 100) ?? 100,
      windowMs:
        (number("--rate-window", pick(values["rate-window"], "VNF_SHIM_RATE_WINDOW"), 60) ?? 60) * 1000,
    },
  });
  const listen = hostPort("--listen", pick(values.listen, "VNF_SHIM_LISTEN") ?? ":8443");
  const address = await shim.listen(listen.port, listen.host);
  if (metricsListen) {
    const at = hostPort("--metrics-listen", metricsListen);
    const metricsAddress = await shim.listenMetrics(at.port, at.host);
    log.info({ address: `${metricsAddress.address}:${metricsAddress.port}` }, "metrics listening");
  }
  log.info(
    {
      address: `${address.address}:${address.port}`,
      tls: Boolean(certFile),
      mtls: Boolean(caFile),
      namespaces,
      algorithm,
      metrics: metricsMode,
    },
    "vnf-cloudstack-shim listening",
  );
  if (!certFile) log.warn("serving plain HTTP: give --tls-cert/--tls-key outside a trusted network");

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await shim.close();
  log.info("vnf-cloudstack-shim stopped");
  return 0;
}

/** "[host:]port" (host may be [v6]) → host and port; the host defaults to all interfaces. */
function hostPort(flag: string, text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  const host = colon > 0 ? text.slice(0, colon).replace(/^\[|\]$/g, "") : "0.0.0.0";
  const port = Number(colon >= 0 ? text.slice(colon + 1) : text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag}: bad port in ${text}`);
  return { host, port };
}
