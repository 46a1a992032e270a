// What createOperator (operator.ts) is configured with: the `run` command's flags and environment, and
// the overrides the tests start an operator with.
import type { LookupFunction } from "node:net";
import type { DeviceShardsOptions } from "./controllers/device-shards.ts";
import type { StalledRetryPolicy } from "./controllers/stalled.ts";
import type { InformerOptions } from "./runtime/informer.ts";
import type { KubeConfigSource } from "./runtime/kubeconfig.ts";
import type { Logger } from "./runtime/logging.ts";
import type { ManagerOptions } from "./runtime/manager.ts";

export interface OperatorOptions {
  kubeConfig: KubeConfigSource;
  /** Watched namespaces; empty = all. */
  namespaces?: string[];
  /**
   * Where credential Secrets are read; empty = the watched namespaces. Lets a cluster-wide install
   * read Secrets only where a platform team granted it (RBAC in those namespaces only).
   */
  credentialNamespaces?: string[];
  dictionaryDirectories: string[];
  logger?: Logger;
  /** ":8081" style; "0" disables. */
  probeAddress?: string;
  metricsAddress?: string;
  leaderElection?: ManagerOptions["leaderElection"];
  /**
   * Concurrent reconciles per rule controller. A reconcile waiting for its device's activation (a
   * Batched window, a PAN-OS commit) holds a worker, so this bounds how many rules one activation can
   * cover; the appliance itself is protected by the per-device concurrency limit. Default 64.
   */
  concurrency?: number;
  healthIntervalMs?: number;
  /**
   * How long a rule waits for a missing VnfDevice, and a device for a missing Secret, after its
   * creation before it is Stalled (GitOps tools may apply them in another order). Default 120 s.
   */
  gracePeriodMs?: number;
  /** When Stalled objects are looked at again (default: 1 min, doubling, at most 15 min). */
  stalledRetry?: StalledRetryPolicy;
  /**
   * The longest wait before retrying a failed appliance call (device health, rule writes, drift
   * checks): caps each controller's per-key backoff and an appliance's Retry-After. Default 60 s.
   */
  maxRetryDelayMs?: number;
  gracefulShutdownTimeoutMs?: number;
  informerDefaults?: Partial<Omit<InformerOptions, "resource">>;
  /** This replica's name in Events (the pod name in a cluster). */
  instance?: string;
  /**
   * Where credentials may be sent (docs: README "Security"). Loopback, link-local, metadata, the API
   * server and the service range are refused unless allowCidrs covers them; denyCidrs always are.
   */
  endpointPolicy?: EndpointPolicyOptions;
  /** The clock drift intervals are measured with (tests move it forward to run a check now). */
  driftClock?: () => Date;
  /**
   * Several active replicas, each owning a share of the devices (controllers/device-shards.ts).
   * Excludes leaderElection. identity defaults to the manager's (instance, else hostname_uuid).
   */
  sharding?: Omit<DeviceShardsOptions, "identity"> & { identity?: string };
  /**
   * This installation's id (keys the ownership markers); default derived from the cluster and the
   * release (controllers/installation.ts).
   */
  installationId?: string;
  /** The Helm release name, for the default installation id (default vnf-operator). */
  releaseName?: string;
  /** The namespace the operator runs in, for the default installation id (default "default"). */
  releaseNamespace?: string;
}

export interface EndpointPolicyOptions {
  allowCidrs?: string[];
  denyCidrs?: string[];
  /** The cluster's service range(s); discovered from ServiceCIDR objects when empty. */
  serviceCidrs?: string[];
  /** DNS resolution for appliance endpoints (tests inject names; default: the system resolver). */
  lookup?: LookupFunction;
}
