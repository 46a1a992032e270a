// The chart's RBAC, proven rather than assumed: `helm install` the chart, get a token for its
// ServiceAccount from the TokenRequest API, and run the operator (assembled exactly as `vnf-operator
// run` does, out of cluster) authenticated as that ServiceAccount only. It must bring a device to
// Ready and take a rule through create → Ready → delete on a simulated pfSense, write its Events and
// (with leader election) hold its Lease. With watchNamespaces set, the same ServiceAccount must get
// 403 from the API server for a Secret or a rule in any other namespace.

import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type V1EnvVar,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import { createOperator, type Operator } from "../../src/operator.ts";
import type { SimulatorHandle } from "../simulators/common/types.ts";
import { startSimulator } from "../simulators/index.ts";
import { freePorts } from "../support/controlplane.ts";
import { installCrds } from "../support/crd-install.ts";
import {
  installChart as installChartAs,
  releaseObjects,
  repoRoot,
  resolveEnv,
  uninstallChart as uninstallRelease,
  writeKubeConfig,
} from "../support/helm.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import { ruleMarkerText, SIMULATOR_CIDR } from "../support/operator-env.ts";
import { recordLog, recordMetrics, testLogger } from "../support/test-logger.ts";

const GROUP = "vnf-operator.io";
const VERSION = "v1alpha1";
const admin = testKubeConfig();
const custom = admin.makeApiClient(CustomObjectsApi);
const core = admin.makeApiClient(CoreV1Api);

interface Obj {
  metadata: { name: string; uid: string; generation?: number; finalizers?: string[] };
  status?: {
    conditions?: Array<{ type: string; status: string; observedGeneration?: number; reason?: string }>;
  };
}

function readyNow(obj: Obj): boolean {
  const ready = obj.status?.conditions?.find((c) => c.type === "Ready");
  return ready?.status === "True" && (ready.observedGeneration ?? -1) >= (obj.metadata.generation ?? 0);
}

async function getObj(namespace: string, plural: string, name: string): Promise<Obj | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      name,
    })) as Obj;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

async function waitReady(namespace: string, plural: string, name: string): Promise<Obj> {
  return waitUntil(
    `${plural}/${name} Ready`,
    async () => {
      const obj = await getObj(namespace, plural, name);
      return obj && readyNow(obj) ? obj : undefined;
    },
    45_000,
    100,
  );
}

/** The HTTP status of a failed call (undefined when it succeeded). */
async function statusCodeOf(call: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

const installChart = (release: string, namespace: string, values: object): Promise<KubeConfig> =>
  installChartAs(admin, kubeconfigPath(), release, namespace, values);
const uninstallChart = (release: string, namespace: string) =>
  uninstallRelease(kubeconfigPath(), release, namespace);

/** A simulated pfSense, its Secrets and its VnfDevice in namespace (created as the admin). */
async function stageDevice(namespace: string, name: string): Promise<SimulatorHandle> {
  const sim = await startSimulator("pfsense");
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
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "vnfdevices",
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "VnfDevice",
      metadata: { name },
      spec: {
        vendor: "pfsense",
        endpoint: sim.url,
        credentialsSecretRef: { name: `${name}-credentials` },
        tls: { caSecretRef: { name: `${name}-ca` } },
      },
    },
  });
  return sim;
}

function ruleBody(name: string, device: string): object {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "VnfFirewallRule",
    metadata: { name },
    spec: {
      deviceRef: { name: device },
      interface: "wan",
      action: "allow",
      protocol: "tcp",
      destination: { cidr: "10.0.10.10", port: "443" },
      description: "RBAC proof",
    },
  };
}

/** The operator as `vnf-operator run` assembles it, authenticated as the chart's ServiceAccount. */
async function startOperatorAs(
  kubeConfig: KubeConfig,
  namespace: string,
  leaderElection?: { namespace: string; name: string },
  credentialNamespaces?: string[],
  release?: { name: string; namespace: string },
): Promise<Operator> {
  const operator = await createOperator({
    kubeConfig,
    namespaces: [namespace],
    ...(release ? { releaseName: release.name, releaseNamespace: release.namespace } : {}),
    dictionaryDirectories: [path.join(repoRoot, "dictionaries")],
    logger: testLogger("operator-rbac"),
    probeAddress: "0",
    metricsAddress: "0",
    maxRetryDelayMs: 2_000,
    endpointPolicy: { allowCidrs: [SIMULATOR_CIDR] },
    ...(credentialNamespaces ? { credentialNamespaces } : {}),
    instance: "rbac-proof",
    ...(leaderElection ? { leaderElection: { ...leaderElection, identity: "rbac-proof" } } : {}),
  });
  await operator.manager.start();
  return operator;
}

/** create → Ready (finalizer, marker on the appliance) → delete → gone (and off the appliance). */
async function ruleLifecycle(
  namespace: string,
  device: string,
  sim: SimulatorHandle,
  instance = "rbac-proof",
): Promise<void> {
  await waitReady(namespace, "vnfdevices", device);
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "vnffirewallrules",
    body: ruleBody("allow-https", device),
  });
  const rule = await waitReady(namespace, "vnffirewallrules", "allow-https");
  expect(rule.metadata.finalizers).toContain("vnf-operator.io/cleanup");
  const marker = ruleMarkerText(rule.metadata.uid);
  const onAppliance = async () =>
    ((await sim.control.objects("firewallRule")).running as object[]).filter((o) =>
      JSON.stringify(o).includes(marker),
    );
  await waitUntil("the rule on the appliance", async () => (await onAppliance()).length === 1, 30_000);

  await custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "vnffirewallrules",
    name: "allow-https",
  });
  await waitUntil(
    "the rule deleted",
    async () => (await getObj(namespace, "vnffirewallrules", "allow-https")) === undefined,
    45_000,
  );
  expect(await onAppliance()).toEqual([]);

  // Events are fire-and-forget (a 403 would only be logged): check they were really written.
  const events = await admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  const ours = events.items.filter((e) => e.reportingController === "vnf-operator.io/vnf-operator");
  expect(ours.length).toBeGreaterThan(0);
  expect(ours.every((e) => e.reportingInstance === instance)).toBe(true);
}

describe("cluster-wide install (ClusterRole), two replicas with leader election", () => {
  let releaseNs: string;
  let workNs: string;
  let sim: SimulatorHandle;
  let sa: KubeConfig;
  let operator: Operator | undefined;
  const release = "rbac-cluster";

  beforeAll(async () => {
    await installCrds(admin);
    releaseNs = await createTestNamespace(admin, "rbac-rel");
    workNs = await createTestNamespace(admin, "rbac-work");
    sa = await installChart(release, releaseNs, { replicaCount: 2 });
    sim = await stageDevice(workNs, "edge-fw");
  });

  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    if (releaseNs) await uninstallChart(release, releaseNs);
  });

  it("the ServiceAccount token authenticates as the chart's ServiceAccount", async () => {
    const review = await sa.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: workNs });
    expect(review.items.map((s) => s.metadata?.name).sort()).toEqual(["edge-fw-ca", "edge-fw-credentials"]);
  });

  it("runs a full rule lifecycle as the ServiceAccount, holding the Lease in the release namespace", async () => {
    operator = await startOperatorAs(
      sa,
      workNs,
      { namespace: releaseNs, name: "vnf-operator-leader" },
      undefined,
      { name: release, namespace: releaseNs },
    );
    // The ClusterRole lets it read the kube-system namespace (that one only): the installation id
    // is the cluster's, the release namespace's and the release's.
    const kubeSystem = await admin.makeApiClient(CoreV1Api).readNamespace({ name: "kube-system" });
    expect(operator.installation).toEqual({
      id: `${kubeSystem.metadata?.uid}/${releaseNs}/${release}`,
      source: "cluster",
    });
    expect(await statusCodeOf(() => sa.makeApiClient(CoreV1Api).readNamespace({ name: "default" }))).toBe(
      403,
    );
    await operator.manager.elected();
    const lease = await admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: releaseNs, name: "vnf-operator-leader" });
    expect(lease.spec?.holderIdentity).toBe("rbac-proof");
    await ruleLifecycle(workNs, "edge-fw", sim);
  });

  it("may read the three kinds in every namespace, and nothing more than it needs", async () => {
    const saCustom = sa.makeApiClient(CustomObjectsApi);
    for (const plural of ["vnfdevices", "vnffirewallrules", "vnfnatrules"]) {
      await saCustom.listClusterCustomObject({ group: GROUP, version: VERSION, plural });
    }
    // Never creates or deletes what users declare, never touches ConfigMaps.
    expect(
      await statusCodeOf(() =>
        saCustom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: workNs,
          plural: "vnfdevices",
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: "VnfDevice", metadata: { name: "x" }, spec: {} },
        }),
      ),
    ).toBe(403);
    expect(
      await statusCodeOf(() =>
        saCustom.deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: workNs,
          plural: "vnfdevices",
          name: "edge-fw",
        }),
      ),
    ).toBe(403);
    expect(
      await statusCodeOf(() => sa.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: workNs })),
    ).toBe(403);
    expect(
      await statusCodeOf(() =>
        sa
          .makeApiClient(CoreV1Api)
          .createNamespacedSecret({ namespace: workNs, body: { metadata: { name: "x" } } }),
      ),
    ).toBe(403);
    // Leases only in the release namespace.
    expect(
      await statusCodeOf(() =>
        sa.makeApiClient(CoordinationV1Api).createNamespacedLease({
          namespace: workNs,
          body: { metadata: { name: "vnf-operator-leader" }, spec: {} },
        }),
      ),
    ).toBe(403);
  });
});

describe("namespaced install (watchNamespaces): Roles only, nothing readable elsewhere", () => {
  let releaseNs: string;
  let watchedNs: string;
  let otherNs: string;
  let sim: SimulatorHandle;
  let sa: KubeConfig;
  let operator: Operator | undefined;
  const release = "rbac-ns";

  beforeAll(async () => {
    await installCrds(admin);
    releaseNs = await createTestNamespace(admin, "rbacns-rel");
    watchedNs = await createTestNamespace(admin, "rbacns-watch");
    otherNs = await createTestNamespace(admin, "rbacns-other");
    sa = await installChart(release, releaseNs, { watchNamespaces: [watchedNs] });
    sim = await stageDevice(watchedNs, "edge-fw");
    // Someone else's namespace: a Secret and a rule the operator must not be able to see.
    await core.createNamespacedSecret({
      namespace: otherNs,
      body: { metadata: { name: "other-credentials" }, stringData: { password: "not-yours" } },
    });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: otherNs,
      plural: "vnffirewallrules",
      body: ruleBody("other-rule", "other-fw"),
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    if (releaseNs) await uninstallChart(release, releaseNs);
  });

  it("gets 403 for a Secret or a rule in another namespace, and for cluster-wide lists", async () => {
    const saCore = sa.makeApiClient(CoreV1Api);
    const saCustom = sa.makeApiClient(CustomObjectsApi);
    expect(
      await statusCodeOf(() =>
        saCore.readNamespacedSecret({ namespace: otherNs, name: "other-credentials" }),
      ),
    ).toBe(403);
    expect(await statusCodeOf(() => saCore.listNamespacedSecret({ namespace: otherNs }))).toBe(403);
    expect(
      await statusCodeOf(() =>
        saCustom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: otherNs,
          plural: "vnffirewallrules",
          name: "other-rule",
        }),
      ),
    ).toBe(403);
    expect(await statusCodeOf(() => saCore.listSecretForAllNamespaces())).toBe(403);
    expect(
      await statusCodeOf(() =>
        saCustom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: "vnffirewallrules" }),
      ),
    ).toBe(403);
    // One replica: no leader election, so no Lease permission either.
    expect(
      await statusCodeOf(() =>
        sa.makeApiClient(CoordinationV1Api).createNamespacedLease({
          namespace: releaseNs,
          body: { metadata: { name: "vnf-operator-leader" }, spec: {} },
        }),
      ),
    ).toBe(403);
    // The same calls in the watched namespace succeed (the 403s above are about the namespace).
    await saCore.listNamespacedSecret({ namespace: watchedNs });
    await saCustom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: watchedNs,
      plural: "vnffirewallrules",
    });
  });

  it("runs a full rule lifecycle in the watched namespace as the ServiceAccount", async () => {
    operator = await startOperatorAs(sa, watchedNs, undefined, undefined, {
      name: release,
      namespace: releaseNs,
    });
    // Nothing cluster-wide, so no kube-system: the installation id falls back to the release's.
    expect(operator.installation).toEqual({ id: `${releaseNs}/${release}`, source: "release" });
    await ruleLifecycle(watchedNs, "edge-fw", sim);
    // The other namespace's rule was never touched (no finalizer, only the CRD's default status).
    const other = await getObj(otherNs, "vnffirewallrules", "other-rule");
    expect(other?.metadata.finalizers ?? []).toEqual([]);
    expect(other?.status).toEqual({ observedGeneration: -1 });
  });
});

describe("cluster-wide install with credentialNamespaces: Secrets readable there only", () => {
  let releaseNs: string;
  let workNs: string;
  let otherNs: string;
  let sim: SimulatorHandle;
  let sa: KubeConfig;
  let operator: Operator | undefined;
  const release = "rbac-cred";

  beforeAll(async () => {
    await installCrds(admin);
    releaseNs = await createTestNamespace(admin, "rbaccred-rel");
    workNs = await createTestNamespace(admin, "rbaccred-work");
    otherNs = await createTestNamespace(admin, "rbaccred-other");
    sa = await installChart(release, releaseNs, { credentialNamespaces: [workNs] });
    sim = await stageDevice(workNs, "edge-fw");
    await core.createNamespacedSecret({
      namespace: otherNs,
      body: {
        metadata: { name: "other-credentials", labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: { password: "not-yours" },
      },
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    if (releaseNs) await uninstallChart(release, releaseNs);
  });

  it("gets 403 for Secrets outside the credential namespaces, labelled or not, and cluster-wide", async () => {
    const saCore = sa.makeApiClient(CoreV1Api);
    expect(
      await statusCodeOf(() =>
        saCore.readNamespacedSecret({ namespace: otherNs, name: "other-credentials" }),
      ),
    ).toBe(403);
    expect(await statusCodeOf(() => saCore.listNamespacedSecret({ namespace: otherNs }))).toBe(403);
    expect(await statusCodeOf(() => saCore.listSecretForAllNamespaces())).toBe(403);
    await saCore.listNamespacedSecret({ namespace: workNs });
    // The rest stays cluster-wide: rules of every namespace are readable.
    await sa
      .makeApiClient(CustomObjectsApi)
      .listClusterCustomObject({ group: GROUP, version: VERSION, plural: "vnffirewallrules" });
  });

  it("runs a full rule lifecycle with the credentials of its credential namespace", async () => {
    operator = await startOperatorAs(sa, workNs, undefined, [workNs]);
    await ruleLifecycle(workNs, "edge-fw", sim);
  });
});

describe("the `vnf-operator run` process, configured by the chart's Deployment env", () => {
  let releaseNs: string;
  let watchedNs: string;
  let sim: SimulatorHandle;
  let child: ChildProcess | undefined;
  let output = "";
  const release = "rbac-proc";
  const podName = "rbac-proc-7d9f8-abcde";

  beforeAll(async () => {
    await installCrds(admin);
    releaseNs = await createTestNamespace(admin, "rbacproc-rel");
    watchedNs = await createTestNamespace(admin, "rbacproc-watch");
    sim = await stageDevice(watchedNs, "edge-fw");
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await sim?.stop();
    if (releaseNs) await uninstallChart(release, releaseNs);
  });

  it("runs a rule lifecycle as the ServiceAccount, elects itself through the Lease, exits 0 on SIGTERM", async () => {
    const [probePort, metricsPort] = await freePorts(2);
    const sa = await installChart(release, releaseNs, {
      replicaCount: 2,
      watchNamespaces: [watchedNs],
      // Out of cluster, the built-in dictionaries are the repository's, not the image's /app/dictionaries.
      builtinDictionaryDir: path.join(repoRoot, "dictionaries"),
      probes: { port: probePort },
      metrics: { port: metricsPort },
      // Every level: the secrets scan reads this process's output after the suite.
      logLevel: "trace",
      endpointPolicy: { allowCidrs: [SIMULATOR_CIDR] },
    });
    const objects = await releaseObjects(kubeconfigPath(), release, releaseNs);
    const deployment = objects.find((o) => o.kind === "Deployment") as unknown as {
      spec: { template: { spec: { containers: Array<{ env: V1EnvVar[]; args: string[] }> } } };
    };
    const container = deployment.spec.template.spec.containers[0];
    if (!container) throw new Error("no container in the Deployment");
    // The downward API, as the kubelet would fill it in.
    const chartEnv = resolveEnv(container.env, {
      "metadata.name": podName,
      "metadata.namespace": releaseNs,
    });
    expect(chartEnv.VNF_WATCH_NAMESPACES).toBe(watchedNs);
    expect(chartEnv.VNF_LEADER_ELECT).toBe("true");

    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("VNF_") && k !== "KUBECONFIG"),
    );
    child = spawn(process.execPath, [path.join(repoRoot, "src/cli/main.ts"), ...container.args], {
      env: { ...inherited, ...chartEnv, KUBECONFIG: writeKubeConfig(sa) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));

    try {
      await waitUntil(
        "/readyz 200",
        async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).status === 200,
        30_000,
        200,
      );
      const lease = await waitUntil("the Lease held by the pod", async () => {
        const l = await admin
          .makeApiClient(CoordinationV1Api)
          .readNamespacedLease({ namespace: releaseNs, name: "vnf-operator-leader" });
        return l.spec?.holderIdentity === podName ? l : undefined;
      });
      expect(lease.spec?.holderIdentity).toBe(podName);
      await ruleLifecycle(watchedNs, "edge-fw", sim, podName);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      recordMetrics(metrics);
      expect(metrics).toMatch(/^vnf_/m);
      // Nothing in the log says "forbidden": every call the operator made was allowed.
      expect(output).not.toMatch(/forbidden|\b403\b/i);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- operator output (tail) ---\n${output.slice(-4000)}`);
    }

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    recordLog("operator-run", output);
  });
});
