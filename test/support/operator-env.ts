// An integration fixture: a fresh namespace on the real API server, the CRDs, a vendor simulator, a
// VnfDevice pointing at it (credentials and CA in Secrets), and the operator running in-process
// exactly as `vnf-operator run` assembles it.
import path from "node:path";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { createOperator, type Operator, type OperatorOptions } from "../../src/operator.ts";
import { createLogger } from "../../src/runtime/logging.ts";
import type { SimulatorHandle } from "../simulators/common/types.ts";
import { type SimulatorVendor, startSimulator } from "../simulators/index.ts";
import { installCrds } from "./crd-install.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "./kube.ts";
import { kubectl } from "./kubectl.ts";

export const GROUP = "vnf-operator.io";
export const VERSION = "v1alpha1";
const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface OperatorEnv {
  kc: KubeConfig;
  namespace: string;
  sim: SimulatorHandle;
  operator: Operator;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  deviceName: string;
  /** kubectl against the test cluster, in the env's namespace. */
  kubectl(args: string[], input?: string): ReturnType<typeof kubectl>;
  apply(manifest: object): Promise<void>;
  get<T = Record<string, unknown>>(plural: string, name: string): Promise<T>;
  /** Waits until the object's Ready condition is True for its current generation. */
  waitReady(plural: string, name: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitCondition(
    plural: string,
    name: string,
    predicate: (obj: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
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
}

export async function startOperatorEnv(options: OperatorEnvOptions): Promise<OperatorEnv> {
  const kc = testKubeConfig();
  await installCrds(kc);
  const namespace = await createTestNamespace(kc, options.prefix);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const sim = await startSimulator(options.vendor, options.simulator ?? {});
  const deviceName = `${options.vendor}-dev`;

  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: `${deviceName}-credentials` }, stringData: sim.credentials },
  });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: `${deviceName}-ca` }, stringData: { "ca.crt": sim.caPem } },
  });
  const env: OperatorEnv = {
    kc,
    namespace,
    sim,
    custom,
    core,
    deviceName,
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
    waitCondition: (plural, name, predicate, what, timeoutMs = 30_000) =>
      waitUntil(
        `${plural}/${name}: ${what}`,
        async () => {
          const obj = await env.get<Record<string, unknown>>(plural, name);
          return predicate(obj) ? obj : undefined;
        },
        timeoutMs,
        100,
      ),
    waitReady: (plural, name, timeoutMs) => env.waitCondition(plural, name, isReadyNow, "Ready", timeoutMs),
    stop: async () => {
      await env.operator?.stop();
      await sim.stop();
    },
  };

  await env.apply({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "VnfDevice",
    metadata: { name: deviceName },
    spec: {
      vendor: options.vendor,
      endpoint: sim.url,
      credentialsSecretRef: { name: `${deviceName}-credentials` },
      tls: { caSecretRef: { name: `${deviceName}-ca` } },
      ...(options.device ?? {}),
    },
  });

  if (options.startOperator ?? true) env.operator = await startTestOperator(kc, namespace, options.operator);
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
    logger: createLogger({ level: process.env.VNF_TEST_LOG_LEVEL ?? "silent" }),
    probeAddress: "0",
    metricsAddress: "0",
    maxRetryDelayMs: 2_000,
    ...overrides,
  });
  await operator.manager.start();
  return operator;
}

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
