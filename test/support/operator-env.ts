// An integration fixture: a fresh namespace on the real API server, the CRDs, vendor simulators, a
// VnfDevice per simulator (credentials and CA in Secrets), and the operator running in-process
// exactly as `vnf-operator run` assembles it. Drift checks are driven by moving the operator's drift
// clock forward (no test waits a whole drift interval unless it means to).

import path from "node:path";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Counter } from "prom-client";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import { ruleMarker, rulePart } from "../../src/controllers/markers.ts";
import { createOperator, type Operator } from "../../src/operator.ts";
import type { OperatorOptions } from "../../src/operator-options.ts";
import type { ObjectKind, SimulatorHandle, VendorObject } from "../simulators/common/types.ts";
import { type SimulatorVendor, startSimulator } from "../simulators/index.ts";
import { installCrds } from "./crd-install.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "./kube.ts";
import { kubectl } from "./kubectl.ts";
import { recordMetrics, testLogger } from "./test-logger.ts";

export const GROUP = "vnf-operator.io";
export const VERSION = "v1alpha1";
export const repoRoot = path.resolve(import.meta.dirname, "../..");
/** Where the simulators listen: the endpoint allow-list every test operator needs. */
export const SIMULATOR_CIDR = "127.0.0.1/32";

export type KubeObj = Record<string, unknown> & {
  metadata: { name: string; uid: string; generation?: number; resourceVersion: string };
};

export interface TestDevice {
  name: string;
  vendor: SimulatorVendor;
  sim: SimulatorHandle;
  /** A simulator another env started (an appliance shared by two installations): not stopped here. */
  shared?: boolean;
}

export interface AddDeviceOptions {
  vendor: SimulatorVendor;
  name?: string;
  /** Extra VnfDevice spec fields (merged over vendor, endpoint, credentials and CA). */
  device?: Record<string, unknown>;
  simulator?: Record<string, unknown>;
  /** Point the device at this running simulator instead of starting one (it is not stopped by stop()). */
  sharedSimulator?: SimulatorHandle;
}

export interface OperatorEnv {
  kc: KubeConfig;
  namespace: string;
  /** The first device's simulator. */
  sim: SimulatorHandle;
  operator: Operator;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  /** The first device's name. */
  deviceName: string;
  devices: Map<string, TestDevice>;
  /** kubectl against the test cluster, in the env's namespace. */
  kubectl(args: string[], input?: string): ReturnType<typeof kubectl>;
  apply(manifest: object): Promise<void>;
  get<T = KubeObj>(plural: string, name: string): Promise<T>;
  /** Undefined when the object does not exist. */
  find<T = KubeObj>(plural: string, name: string): Promise<T | undefined>;
  /** Waits until the object's Ready condition is True for its current generation. */
  waitReady(plural: string, name: string, timeoutMs?: number): Promise<KubeObj>;
  waitCondition(
    plural: string,
    name: string,
    predicate: (obj: KubeObj) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<KubeObj>;
  waitGone(plural: string, name: string, timeoutMs?: number): Promise<void>;
  /** Starts another simulator with its Secrets and VnfDevice in this namespace. */
  addDevice(options: AddDeviceOptions): Promise<TestDevice>;
  /** Starts the in-process operator (after a previous one stopped, e.g. to simulate a restart). */
  startOperator(overrides?: Partial<OperatorOptions>): Promise<Operator>;
  /**
   * Runs one drift check of a device now: moves the drift clock past any interval, re-queues the
   * device on the drift controller and waits until a check has completed.
   */
  checkDrift(deviceName?: string, timeoutMs?: number): Promise<void>;
  /** The number of drift checks the running operator completed. */
  driftChecks(): Promise<number>;
  stop(): Promise<void>;
}

export interface OperatorEnvOptions {
  vendor: SimulatorVendor;
  prefix: string;
  device?: Record<string, unknown>;
  operator?: Partial<OperatorOptions>;
  simulator?: Record<string, unknown>;
  /** Start the operator later (e.g. to stage state first). Default true. */
  startOperator?: boolean;
  /** The first device uses this running simulator (another env's: one appliance, two installations). */
  sharedSimulator?: SimulatorHandle;
}

export async function startOperatorEnv(options: OperatorEnvOptions): Promise<OperatorEnv> {
  const kc = testKubeConfig();
  await installCrds(kc);
  const namespace = await createTestNamespace(kc, options.prefix);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  let driftOffsetMs = 0;
  const driftClock = () => new Date(Date.now() + driftOffsetMs);
  const devices = new Map<string, TestDevice>();

  const env: OperatorEnv = {
    kc,
    namespace,
    sim: undefined as unknown as SimulatorHandle,
    custom,
    core,
    deviceName: "",
    devices,
    operator: undefined as unknown as Operator,
    kubectl: (args, input) => kubectl(kubeconfigPath(), ["-n", namespace, ...args], input),
    apply: async (manifest) => {
      const result = await kubectl(
        kubeconfigPath(),
        ["-n", namespace, "apply", "-f", "-"],
        JSON.stringify(manifest),
      );
      if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
    },
    get: async <T>(plural: string, name: string) =>
      (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
      })) as T,
    find: async <T>(plural: string, name: string) => {
      try {
        return await env.get<T>(plural, name);
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    waitCondition: (plural, name, predicate, what, timeoutMs = 30_000) =>
      waitUntil(
        `${plural}/${name}: ${what}`,
        async () => {
          const obj = await env.get<KubeObj>(plural, name);
          return predicate(obj) ? obj : undefined;
        },
        timeoutMs,
        100,
      ),
    waitReady: (plural, name, timeoutMs) => env.waitCondition(plural, name, isReadyNow, "Ready", timeoutMs),
    waitGone: async (plural, name, timeoutMs = 30_000) => {
      await waitUntil(
        `${plural}/${name} gone`,
        async () => (await env.find(plural, name)) === undefined,
        timeoutMs,
        100,
      );
    },
    addDevice: async (device) => {
      const shared = device.sharedSimulator !== undefined;
      const sim = device.sharedSimulator ?? (await startSimulator(device.vendor, device.simulator ?? {}));
      const name = device.name ?? `${device.vendor}-dev`;
      devices.set(name, { name, vendor: device.vendor, sim, ...(shared ? { shared } : {}) });
      await core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: `${name}-credentials`, labels: { [CREDENTIALS_LABEL]: "true" } },
          stringData: sim.credentials,
        },
      });
      await core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: `${name}-ca`, labels: { [CREDENTIALS_LABEL]: "true" } },
          stringData: { "ca.crt": sim.caPem },
        },
      });
      await env.apply({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "VnfDevice",
        metadata: { name },
        spec: {
          vendor: device.vendor,
          endpoint: sim.url,
          credentialsSecretRef: { name: `${name}-credentials` },
          tls: { caSecretRef: { name: `${name}-ca` } },
          ...(device.device ?? {}),
        },
      });
      return { name, vendor: device.vendor, sim };
    },
    startOperator: async (overrides = {}) => {
      env.operator = await startTestOperator(kc, namespace, {
        driftClock,
        ...options.operator,
        ...overrides,
      });
      return env.operator;
    },
    driftChecks: async () => {
      const counter = env.operator.manager.metrics.registry.getSingleMetric("vnf_drift_checks_total") as
        | Counter
        | undefined;
      const metric = await counter?.get();
      return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    },
    checkDrift: async (deviceName = env.deviceName, timeoutMs = 30_000) => {
      const before = await env.driftChecks();
      driftOffsetMs += 24 * 3600_000;
      env.operator.controllers.drift.enqueue({ namespace, name: deviceName });
      await waitUntil(
        `a drift check of ${deviceName}`,
        async () => (await env.driftChecks()) > before,
        timeoutMs,
        50,
      );
    },
    stop: async () => {
      await env.operator?.stop();
      await Promise.all([...devices.values()].filter((d) => !d.shared).map((d) => d.sim.stop()));
    },
  };

  const first = await env.addDevice({
    vendor: options.vendor,
    ...(options.device ? { device: options.device } : {}),
    ...(options.simulator ? { simulator: options.simulator } : {}),
    ...(options.sharedSimulator ? { sharedSimulator: options.sharedSimulator } : {}),
  });
  env.sim = first.sim;
  env.deviceName = first.name;

  if (options.startOperator ?? true) await env.startOperator();
  return env;
}

export async function startTestOperator(
  kc: KubeConfig,
  namespace: string,
  overrides: Partial<OperatorOptions> = {},
): Promise<Operator> {
  const operator = await createOperator({
    kubeConfig: kc,
    namespaces: [namespace],
    dictionaryDirectories: [path.join(repoRoot, "dictionaries")],
    // Every level, to a file the secrets scan reads after the suite (test/support/test-logger.ts).
    logger: testLogger(),
    probeAddress: "0",
    metricsAddress: "0",
    maxRetryDelayMs: 2_000,
    // The simulators listen on 127.0.0.1, which the endpoint policy refuses by default.
    endpointPolicy: { allowCidrs: [SIMULATOR_CIDR] },
    installationId: TEST_INSTALLATION_ID,
    ...overrides,
  });
  // What /metrics served, for the secrets scan: recorded when the operator stops.
  const stop = operator.stop.bind(operator);
  operator.stop = async () => {
    recordMetrics(await operator.manager.metrics.registry.metrics());
    await stop();
  };
  await operator.manager.start();
  return operator;
}

// ---- manifests -----------------------------------------------------------------------------------

export const FIREWALL = { kind: "VnfFirewallRule", plural: "vnffirewallrules", short: "vnffw" } as const;
export const NAT = { kind: "VnfNatRule", plural: "vnfnatrules", short: "vnfnat" } as const;
export type RuleKindInfo = typeof FIREWALL | typeof NAT;

export function ruleManifest(
  kind: RuleKindInfo,
  name: string,
  device: string,
  spec: Record<string, unknown>,
): object {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: kind.kind,
    metadata: { name },
    spec: { deviceRef: { name: device }, ...spec },
  };
}

// ---- reading objects -----------------------------------------------------------------------------

export function conditionOf(obj: Record<string, unknown>, type: string): Record<string, unknown> | undefined {
  const status = obj.status as { conditions?: Array<Record<string, unknown>> } | undefined;
  return status?.conditions?.find((c) => c.type === type);
}

export function isReadyNow(obj: Record<string, unknown>): boolean {
  const generation = (obj.metadata as { generation?: number }).generation ?? 0;
  const ready = conditionOf(obj, "Ready");
  return ready?.status === "True" && Number(ready.observedGeneration ?? -1) >= generation;
}

export function statusOf(obj: Record<string, unknown>): Record<string, unknown> {
  return (obj.status as Record<string, unknown> | undefined) ?? {};
}

/** The installation id the test operators run with (in-process and child processes alike). */
export const TEST_INSTALLATION_ID = "vnf-operator-tests";

/**
 * Text found in the ownership marker of the rule with this uid, whatever the installation and device
 * (the marker's rule part, between its dots): to find the rule's objects on a simulator.
 */
export function ruleMarkerText(uid: string): string {
  return `.${rulePart(uid)}.`;
}

/** The exact ownership marker (its id) the operator writes for a rule on a device. */
export function markerOf(deviceUid: string, ruleUid: string, installationId = TEST_INSTALLATION_ID): string {
  return ruleMarker({ installationId, deviceUid }, ruleUid);
}

/** The exact ownership marker token the operator writes for a rule on a device. */
export function markerTokenOf(
  deviceUid: string,
  ruleUid: string,
  installationId = TEST_INSTALLATION_ID,
): string {
  return `[vnf:${markerOf(deviceUid, ruleUid, installationId)}]`;
}

/** Appliance objects of a kind (candidate configuration) carrying a text anywhere in them. */
export async function objectsContaining(
  sim: SimulatorHandle,
  kind: ObjectKind,
  text: string,
  view: "candidate" | "running" = "candidate",
): Promise<VendorObject[]> {
  const objects = (await sim.control.objects(kind))[view];
  return objects.filter((o) => JSON.stringify(o).includes(text));
}

/** Vendor requests that change something (anything but GET), as "METHOD path". */
export async function applianceWrites(sim: SimulatorHandle, afterSeq = 0): Promise<string[]> {
  return (await sim.control.requests())
    .filter((r) => r.seq > afterSeq && r.method !== "GET")
    .map((r) => `${r.method} ${r.path}`);
}

/** The highest request sequence number so far (0 when none). */
export async function lastSeq(sim: SimulatorHandle): Promise<number> {
  const log = await sim.control.requests();
  return log.reduce((max, r) => Math.max(max, r.seq), 0);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
