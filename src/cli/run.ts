// `vnf-operator run`: the operator process. Every flag has an environment variable, so the same image
// is configured by the Helm chart (env) or by hand (flags); flags win.
import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_RETRY_DELAY_MS } from "../controllers/requeue.ts";
import { createOperator, DEFAULT_CONCURRENCY } from "../operator.ts";
import { createLogger } from "../runtime/logging.ts";
import { runUntilSignal } from "../runtime/shutdown.ts";
import { commaList, loadKubeConfig } from "./common.ts";

const builtinDictionaries = path.resolve(import.meta.dirname, "../../dictionaries");

const HELP = `usage: vnf-operator run [flags]

Reconciles VnfDevice, VnfFirewallRule and VnfNatRule resources against the appliances.

flags (environment variable in brackets):
  --kubeconfig PATH             kubeconfig to use [KUBECONFIG]; default: in-cluster service account
  --namespaces A,B              namespaces to watch [VNF_WATCH_NAMESPACES]; default: all
  --credential-namespaces A,B   namespaces whose credential Secrets (label vnf-operator.io/credentials=true)
                                are read [VNF_CREDENTIAL_NAMESPACES]; default: the watched ones
  --dictionaries DIR,DIR        dictionary directories [VNF_DICTIONARY_DIRS]; default: the built-in ones
  --probe-address ADDR          /healthz and /readyz [VNF_PROBE_ADDRESS]; default :8081, 0 disables
  --metrics-address ADDR        /metrics [VNF_METRICS_ADDRESS]; default :8080, 0 disables
  --leader-elect                elect a leader through a Lease [VNF_LEADER_ELECT=true]
  --leader-election-namespace N Lease namespace [VNF_LEADER_ELECTION_NAMESPACE, POD_NAMESPACE]; default default
  --leader-election-id NAME     Lease name [VNF_LEADER_ELECTION_ID]; default vnf-operator-leader
  --shards N                    split the devices into N shards, each owned through a Lease by one
                                of the replicas, all active [VNF_SHARDS]; default: off (one active replica)
  --shard-lease-namespace N     the shard Leases' namespace [VNF_SHARD_LEASE_NAMESPACE, POD_NAMESPACE]
  --shard-group NAME            Lease name prefix, one per operator install [VNF_SHARD_GROUP]; default vnf-operator
  --shard-lease-duration SEC    a dead replica's shards are taken over after this [VNF_SHARD_LEASE_DURATION];
                                default 15 (renewed every 2 s, given up after 10 s without renewal)
  --concurrency N               concurrent reconciles per rule kind [VNF_CONCURRENCY]; default 64
  --health-interval SECONDS     appliance health check period [VNF_HEALTH_INTERVAL]; default 60
  --max-retry-delay SECONDS     longest wait before retrying a failed appliance call, also for an
                                appliance's Retry-After [VNF_MAX_RETRY_DELAY]; default 60
  --grace-period SECONDS        how long a rule waits for a missing VnfDevice, and a device for a missing
                                Secret, before it is Stalled [VNF_GRACE_PERIOD]; default 120
  --installation-id ID          this installation's identity, part of every ownership marker it writes
                                [VNF_INSTALLATION_ID]; default: derived from the cluster (kube-system
                                namespace uid), the release namespace and the release name
  --release-name NAME           the Helm release, for the default installation id [VNF_RELEASE_NAME];
                                default vnf-operator (the release namespace is POD_NAMESPACE)
  --log-level LEVEL             trace|debug|info|warn|error [VNF_LOG_LEVEL]; default info

endpoint policy: where appliance credentials may be sent, checked on every connection after DNS.
Refused by default: loopback, unspecified, link-local (169.254.169.254...), cloud metadata
(fd00:ec2::254...), multicast, the API server's addresses and the cluster's service range.
  --endpoint-allow-cidrs A,B    CIDRs that override those default denials [VNF_ENDPOINT_ALLOW_CIDRS],
                                e.g. 127.0.0.1/32 for simulators on this host
  --endpoint-deny-cidrs A,B     CIDRs always refused [VNF_ENDPOINT_DENY_CIDRS]
  --service-cidrs A,B           the cluster's service range [VNF_SERVICE_CIDRS]; default: read from
                                the ServiceCIDR objects (Kubernetes >= 1.33)
`;

/** `{ key: value }` when value is a non-empty string, else nothing. */
function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      namespaces: { type: "string" },
      "credential-namespaces": { type: "string" },
      dictionaries: { type: "string" },
      "probe-address": { type: "string" },
      "metrics-address": { type: "string" },
      "leader-elect": { type: "boolean" },
      "leader-election-namespace": { type: "string" },
      "leader-election-id": { type: "string" },
      concurrency: { type: "string" },
      shards: { type: "string" },
      "shard-lease-namespace": { type: "string" },
      "shard-group": { type: "string" },
      "shard-lease-duration": { type: "string" },
      "health-interval": { type: "string" },
      "max-retry-delay": { type: "string" },
      "grace-period": { type: "string" },
      "installation-id": { type: "string" },
      "release-name": { type: "string" },
      "log-level": { type: "string" },
      "endpoint-allow-cidrs": { type: "string" },
      "endpoint-deny-cidrs": { type: "string" },
      "service-cidrs": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const env = process.env;
  const list = commaList;
  const positive = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
    return n;
  };

  const log = createLogger({ level: values["log-level"] ?? env.VNF_LOG_LEVEL, name: "vnf-operator" });
  const kubeConfig = loadKubeConfig(values.kubeconfig ?? env.KUBECONFIG);

  const shards = positive("--shards", values.shards ?? env.VNF_SHARDS, 0);
  const leaderElect = shards === 0 && (values["leader-elect"] ?? env.VNF_LEADER_ELECT === "true");
  const leaseSeconds = positive(
    "--shard-lease-duration",
    values["shard-lease-duration"] ?? env.VNF_SHARD_LEASE_DURATION,
    15,
  );
  const operator = await createOperator({
    kubeConfig,
    namespaces: list(values.namespaces ?? env.VNF_WATCH_NAMESPACES),
    credentialNamespaces: list(values["credential-namespaces"] ?? env.VNF_CREDENTIAL_NAMESPACES),
    dictionaryDirectories: list(values.dictionaries ?? env.VNF_DICTIONARY_DIRS).length
      ? list(values.dictionaries ?? env.VNF_DICTIONARY_DIRS)
      : [builtinDictionaries],
    logger: log,
    probeAddress: values["probe-address"] ?? env.VNF_PROBE_ADDRESS ?? ":8081",
    metricsAddress: values["metrics-address"] ?? env.VNF_METRICS_ADDRESS ?? ":8080",
    concurrency: positive("--concurrency", values.concurrency ?? env.VNF_CONCURRENCY, DEFAULT_CONCURRENCY),
    healthIntervalMs:
      positive("--health-interval", values["health-interval"] ?? env.VNF_HEALTH_INTERVAL, 60) * 1000,
    maxRetryDelayMs:
      positive(
        "--max-retry-delay",
        values["max-retry-delay"] ?? env.VNF_MAX_RETRY_DELAY,
        DEFAULT_MAX_RETRY_DELAY_MS / 1000,
      ) * 1000,
    gracePeriodMs: positive("--grace-period", values["grace-period"] ?? env.VNF_GRACE_PERIOD, 120) * 1000,
    ...(env.POD_NAME ? { instance: env.POD_NAME } : {}),
    endpointPolicy: {
      allowCidrs: list(values["endpoint-allow-cidrs"] ?? env.VNF_ENDPOINT_ALLOW_CIDRS),
      denyCidrs: list(values["endpoint-deny-cidrs"] ?? env.VNF_ENDPOINT_DENY_CIDRS),
      serviceCidrs: list(values["service-cidrs"] ?? env.VNF_SERVICE_CIDRS),
    },
    ...(shards > 0
      ? {
          sharding: {
            shards: Math.round(shards),
            namespace:
              values["shard-lease-namespace"] ??
              env.VNF_SHARD_LEASE_NAMESPACE ??
              env.POD_NAMESPACE ??
              "default",
            group: values["shard-group"] ?? env.VNF_SHARD_GROUP ?? "vnf-operator",
            // client-go's proportions: 15 s / 10 s / 2 s.
            leaseDurationMs: Math.round(leaseSeconds) * 1000,
            renewDeadlineMs: Math.round((leaseSeconds * 1000 * 2) / 3),
            retryPeriodMs: Math.round((leaseSeconds * 1000) / 7.5),
          },
        }
      : {}),
    ...optional("installationId", values["installation-id"] ?? env.VNF_INSTALLATION_ID),
    ...optional("releaseName", values["release-name"] ?? env.VNF_RELEASE_NAME),
    ...optional("releaseNamespace", env.POD_NAMESPACE),
    ...(leaderElect
      ? {
          leaderElection: {
            namespace:
              values["leader-election-namespace"] ??
              env.VNF_LEADER_ELECTION_NAMESPACE ??
              env.POD_NAMESPACE ??
              "default",
            name: values["leader-election-id"] ?? env.VNF_LEADER_ELECTION_ID ?? "vnf-operator-leader",
            ...(env.POD_NAME ? { identity: env.POD_NAME } : {}),
          },
        }
      : {}),
  });
  log.info(
    { namespaces: list(values.namespaces ?? env.VNF_WATCH_NAMESPACES), leaderElect, shards },
    "vnf-operator starting",
  );
  const code = await runUntilSignal(operator.manager, { log });
  await operator.events.close();
  await operator.sessions.closeAll();
  log.info({ exitCode: code }, "vnf-operator stopped");
  return code;
}
