// The Helm chart: lint, CRDs identical to crds/, `helm template` for several value sets each accepted
// by the real API server (`kubectl apply --dry-run=server`), the schema refusing bad values, and a
// real `helm install` / `helm uninstall` into the test control plane (no --wait: there is no kubelet).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDictionaryDirectories } from "../../src/dictionary/registry.ts";
import { CRD_DIR, installCrds } from "../support/crd-install.ts";
import {
  CHART_DIR,
  helm,
  parseManifests,
  type RenderedObject,
  renderChart,
  valuesFile,
} from "../support/helm.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import { kubectl } from "../support/kubectl.ts";

const kc = testKubeConfig();
let releaseNs: string;
let watchedA: string;
let watchedB: string;

// A custom dictionary: the built-in pfSense one under another name, as a user would start one.
const builtinPfsense = readdirSync(path.join(CHART_DIR, "../../dictionaries")).find((f) => /pfsense/.test(f));
const customDictionary = readFileSync(
  path.join(CHART_DIR, "../../dictionaries", builtinPfsense ?? ""),
  "utf8",
)
  .replace(/^name:\s*\S+/m, "name: pfsense-custom")
  .replace(/^(\s*)default:\s*true\s*$/m, "$1default: false");

beforeAll(async () => {
  await installCrds(kc);
  releaseNs = await createTestNamespace(kc, "chart");
  watchedA = await createTestNamespace(kc, "chart-wa");
  watchedB = await createTestNamespace(kc, "chart-wb");
  // The Prometheus Operator's CRD, so that a ServiceMonitor passes the server-side dry run. Only
  // created when absent: on an existing cluster a real one must not be replaced.
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  try {
    await crds.readCustomResourceDefinition({ name: "servicemonitors.monitoring.coreos.com" });
  } catch {
    // kubectl, not the typed client: its model would drop x-kubernetes-preserve-unknown-fields.
    const created = await kubectl(
      kubeconfigPath(),
      ["create", "-f", "-"],
      JSON.stringify(serviceMonitorCrd()),
    );
    if (created.code !== 0 && !/AlreadyExists/.test(created.stderr)) throw new Error(created.stderr);
  }
  await waitUntil(
    "ServiceMonitor kind served",
    async () => (await kubectl(kubeconfigPath(), ["get", "servicemonitors", "-A"])).code === 0,
    30_000,
    200,
  );
});

function serviceMonitorCrd() {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "servicemonitors.monitoring.coreos.com" },
    spec: {
      group: "monitoring.coreos.com",
      scope: "Namespaced",
      names: {
        plural: "servicemonitors",
        singular: "servicemonitor",
        kind: "ServiceMonitor",
        listKind: "ServiceMonitorList",
      },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}

const byKind = (objects: RenderedObject[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: RenderedObject[], kind: string) => {
  const found = byKind(objects, kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as RenderedObject;
};

interface Container {
  env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: Array<{ name: string; containerPort: number }>;
  resources: { requests?: object; limits?: object };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

function operatorContainer(objects: RenderedObject[]): Container {
  const deployment = one(objects, "Deployment") as unknown as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  if (!container) throw new Error("no container");
  return container;
}

const envOf = (c: Container, name: string) => c.env.find((e) => e.name === name)?.value;

async function dryRunServer(text: string): Promise<void> {
  const result = await kubectl(kubeconfigPath(), ["apply", "--dry-run=server", "-f", "-"], text);
  expect(result.code, result.stderr).toBe(0);
}

describe("chart files", () => {
  it("ships crds/ byte-identical to the top-level crds/", () => {
    const chartCrds = path.join(CHART_DIR, "crds");
    const top = readdirSync(CRD_DIR).sort();
    expect(readdirSync(chartCrds).sort()).toEqual(top);
    for (const file of top) {
      expect(
        readFileSync(path.join(chartCrds, file), "utf8"),
        `charts/vnf-operator/crds/${file} differs from crds/${file}: run hack/gen-crd-types`,
      ).toBe(readFileSync(path.join(CRD_DIR, file), "utf8"));
    }
  });

  it("passes helm lint with the defaults and with the other value sets", async () => {
    for (const values of [
      {},
      { replicaCount: 3, watchNamespaces: ["a", "b"] },
      { dictionaries: { "x.yaml": "name: x" } },
    ]) {
      const result = await helm(["lint", "--strict", CHART_DIR, "-f", valuesFile(values)]);
      expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it("refuses values the schema forbids", async () => {
    for (const values of [
      { replicaCount: "two" },
      { watchNamespaces: ["Not_A_Namespace"] },
      { logLevel: "verbose" },
      { dictionaries: { "notes.txt": "x" } },
      { unknownKey: true },
    ]) {
      const result = await helm(["template", "r", CHART_DIR, "-f", valuesFile(values)]);
      expect(result.code, JSON.stringify(values)).not.toBe(0);
      expect(result.stderr).toMatch(/schema/i);
    }
  });
});

describe("helm template, accepted by the API server (dry run)", () => {
  it("defaults: one replica, cluster-wide RBAC, metrics Service, hardened pod", async () => {
    const { text, objects } = await renderChart("vnf", releaseNs, {});
    await dryRunServer(text);
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "Deployment",
      "Service",
      "ServiceAccount",
    ]);
    const c = operatorContainer(objects);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "probes" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "probes" });
    expect(c.ports).toEqual([
      { name: "probes", containerPort: 8081, protocol: "TCP" },
      { name: "metrics", containerPort: 8080, protocol: "TCP" },
    ]);
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    expect(c.env.find((e) => e.name === "POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(c.env.find((e) => e.name === "POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.namespace",
    );
    expect(envOf(c, "VNF_WATCH_NAMESPACES")).toBe("");
    expect(envOf(c, "VNF_LEADER_ELECT")).toBe("false");
    expect(envOf(c, "VNF_PROBE_ADDRESS")).toBe(":8081");
    expect(envOf(c, "VNF_METRICS_ADDRESS")).toBe(":8080");
    expect(envOf(c, "VNF_DICTIONARY_DIRS")).toBe("/app/dictionaries");
    expect(envOf(c, "VNF_GRACE_PERIOD")).toBe("120");
    const deployment = one(objects, "Deployment") as unknown as {
      spec: { template: { spec: { securityContext: Record<string, unknown>; serviceAccountName: string } } };
    };
    expect(deployment.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(deployment.spec.template.spec.serviceAccountName).toBe(
      one(objects, "ServiceAccount").metadata.name,
    );
  });

  it("replicaCount 3: leader election with its Lease Role in the release namespace, and a PDB", async () => {
    const { text, objects } = await renderChart("vnf-ha", releaseNs, { replicaCount: 3 });
    await dryRunServer(text);
    expect(one(objects, "PodDisruptionBudget")).toMatchObject({ spec: { minAvailable: 1 } });
    const role = one(objects, "Role");
    expect(role.metadata.namespace).toBe(releaseNs);
    expect(role.rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["vnf-operator-leader"],
        verbs: ["get", "update"],
      },
    ]);
    const c = operatorContainer(objects);
    expect(envOf(c, "VNF_LEADER_ELECT")).toBe("true");
    expect(envOf(c, "VNF_LEADER_ELECTION_NAMESPACE")).toBe(releaseNs);
    expect(envOf(c, "VNF_LEADER_ELECTION_ID")).toBe("vnf-operator-leader");
  });

  it("sharding: every replica works (no leader election), shard env, a Lease Role for the group", async () => {
    const { text, objects } = await renderChart("vnf-sharded", releaseNs, {
      replicaCount: 3,
      sharding: { enabled: true, shards: 24, leaseDurationSeconds: 20 },
    });
    await dryRunServer(text);
    const role = one(objects, "Role");
    expect(role.metadata.namespace).toBe(releaseNs);
    expect(role.rules).toEqual([
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "list", "create", "update"],
      },
    ]);
    const c = operatorContainer(objects);
    expect(envOf(c, "VNF_LEADER_ELECT")).toBe("false");
    expect(envOf(c, "VNF_SHARDS")).toBe("24");
    expect(envOf(c, "VNF_SHARD_LEASE_NAMESPACE")).toBe(releaseNs);
    expect(envOf(c, "VNF_SHARD_GROUP")).toBe("vnf-sharded-vnf-operator");
    expect(envOf(c, "VNF_SHARD_LEASE_DURATION")).toBe("20");
    expect(envOf(c, "NODE_OPTIONS")).toBe("--max-semi-space-size=1 --v8-pool-size=1");
  });

  it("watchNamespaces: a Role per watched namespace, nothing cluster-wide", async () => {
    const { text, objects } = await renderChart("vnf-ns", releaseNs, {
      watchNamespaces: [watchedA, watchedB],
    });
    await dryRunServer(text);
    expect(byKind(objects, "ClusterRole")).toEqual([]);
    expect(byKind(objects, "ClusterRoleBinding")).toEqual([]);
    expect(
      byKind(objects, "Role")
        .map((r) => r.metadata.namespace)
        .sort(),
    ).toEqual([watchedA, watchedB].sort());
    expect(
      byKind(objects, "RoleBinding")
        .map((r) => r.metadata.namespace)
        .sort(),
    ).toEqual([watchedA, watchedB].sort());
    expect(envOf(operatorContainer(objects), "VNF_WATCH_NAMESPACES")).toBe(`${watchedA},${watchedB}`);
  });

  it("Secrets: readable cluster-wide by default, only in credentialNamespaces when set", async () => {
    const readsSecrets = (rules: unknown) => JSON.stringify(rules ?? []).includes('"resources":["secrets"]');
    const defaults = await renderChart("vnf-sec", releaseNs, {});
    expect(readsSecrets(one(defaults.objects, "ClusterRole").rules)).toBe(true);
    const { text, objects } = await renderChart("vnf-cred", releaseNs, {
      credentialNamespaces: [watchedA],
      endpointPolicy: {
        allowCidrs: ["192.0.2.0/24"],
        denyCidrs: ["10.244.0.0/16"],
        serviceCidrs: ["10.96.0.0/12"],
      },
    });
    await dryRunServer(text);
    const clusterRole = one(objects, "ClusterRole");
    expect(readsSecrets(clusterRole.rules)).toBe(false);
    // The cluster's own addresses (endpoint policy) are discoverable by the cluster-wide install.
    expect(JSON.stringify(clusterRole.rules)).toContain("servicecidrs");
    const roles = byKind(objects, "Role");
    expect(roles.map((r) => [r.metadata.namespace, readsSecrets(r.rules)])).toEqual([[watchedA, true]]);
    expect(byKind(objects, "RoleBinding").map((r) => r.metadata.namespace)).toEqual([watchedA]);
    const c = operatorContainer(objects);
    expect(envOf(c, "VNF_CREDENTIAL_NAMESPACES")).toBe(watchedA);
    expect(envOf(c, "VNF_ENDPOINT_ALLOW_CIDRS")).toBe("192.0.2.0/24");
    expect(envOf(c, "VNF_ENDPOINT_DENY_CIDRS")).toBe("10.244.0.0/16");
    expect(envOf(c, "VNF_SERVICE_CIDRS")).toBe("10.96.0.0/12");
    const namespaced = await renderChart("vnf-ns-cred", releaseNs, {
      watchNamespaces: [watchedA, watchedB],
      credentialNamespaces: [watchedB],
    });
    expect(
      byKind(namespaced.objects, "Role")
        .map((r) => [r.metadata.namespace, readsSecrets(r.rules)])
        .sort(),
    ).toEqual([
      [watchedA, false],
      [watchedB, false],
      [watchedB, true],
    ]);
  });

  it("custom dictionaries, ServiceMonitor, forced leader election with one replica", async () => {
    const { text, objects } = await renderChart("vnf-full", releaseNs, {
      dictionaries: { "pfsense-custom.yaml": customDictionary },
      metrics: { serviceMonitor: { enabled: true, labels: { release: "prometheus" } } },
      leaderElection: { enabled: true, id: "vnf-lock" },
      image: { repository: "registry.example/vnf-operator", tag: "1.2.3" },
    });
    await dryRunServer(text);
    expect(byKind(objects, "PodDisruptionBudget")).toEqual([]);
    expect(one(objects, "ServiceMonitor")).toMatchObject({
      metadata: { labels: { release: "prometheus" } },
      spec: { endpoints: [{ port: "metrics", path: "/metrics" }] },
    });
    const c = operatorContainer(objects);
    expect(envOf(c, "VNF_LEADER_ELECT")).toBe("true");
    expect(envOf(c, "VNF_LEADER_ELECTION_ID")).toBe("vnf-lock");
    expect(envOf(c, "VNF_DICTIONARY_DIRS")).toBe("/app/dictionaries,/etc/vnf-operator/dictionaries");
    expect(c.volumeMounts).toContainEqual({
      name: "dictionaries",
      mountPath: "/etc/vnf-operator/dictionaries",
      readOnly: true,
    });
    const deployment = one(objects, "Deployment") as unknown as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.image).toBe("registry.example/vnf-operator:1.2.3");
    // The ConfigMap's file is a dictionary the operator loads.
    const configMap = one(objects, "ConfigMap") as unknown as { data: Record<string, string> };
    expect(configMap.data["pfsense-custom.yaml"]).toBe(
      customDictionary.endsWith("\n") ? customDictionary : `${customDictionary}\n`,
    );
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(path.join(tmpdir(), "vnf-dict-"));
    for (const [file, body] of Object.entries(configMap.data)) writeFileSync(path.join(dir, file), body);
    const loaded = await loadDictionaryDirectories([dir]);
    expect(loaded.errors.map((e) => e.message)).toEqual([]);
    expect(loaded.registry.all().map((d) => d.name)).toEqual(["pfsense-custom"]);
  });

  it("metrics off, existing ServiceAccount, no RBAC", async () => {
    const { text, objects } = await renderChart("vnf-min", releaseNs, {
      metrics: { enabled: false },
      serviceAccount: { create: false, name: "default" },
      rbac: { create: false },
    });
    await dryRunServer(text);
    expect(objects.map((o) => o.kind)).toEqual(["Deployment"]);
    const c = operatorContainer(objects);
    expect(envOf(c, "VNF_METRICS_ADDRESS")).toBe("0");
    expect(c.ports.map((p) => p.name)).toEqual(["probes"]);
  });
});

describe("helm install into the control plane", () => {
  it("installs (CRDs already there), prints NOTES, and uninstalls", async () => {
    const release = `vnf-${releaseNs.slice(-6)}`;
    const install = await helm(
      ["install", release, CHART_DIR, "--namespace", releaseNs, "-f", valuesFile({ replicaCount: 2 })],
      { kubeconfig: kubeconfigPath() },
    );
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toMatch(/STATUS: deployed/);
    expect(install.stdout).toMatch(/kubectl -n \S+ rollout status deployment\//);
    expect(install.stdout).toMatch(/Helm never upgrades CRDs/);

    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      name: `${release}-vnf-operator`,
      namespace: releaseNs,
    });
    expect(deployment.spec?.replicas).toBe(2);
    const core = kc.makeApiClient(CoreV1Api);
    await core.readNamespacedServiceAccount({ name: `${release}-vnf-operator`, namespace: releaseNs });
    await core.readNamespacedService({ name: `${release}-vnf-operator-metrics`, namespace: releaseNs });
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.readClusterRole({ name: `${release}-vnf-operator` });
    await rbac.readNamespacedRole({ name: `${release}-vnf-operator-leader-election`, namespace: releaseNs });

    const status = await helm(["status", release, "--namespace", releaseNs], {
      kubeconfig: kubeconfigPath(),
    });
    expect(status.stdout).toMatch(/STATUS: deployed/);

    // The README's upgrade: the chart's CRDs by hand (Helm never upgrades them), then helm upgrade.
    const crdApply = await kubectl(kubeconfigPath(), [
      "apply",
      "--server-side",
      "--force-conflicts",
      "-f",
      path.join(CHART_DIR, "crds"),
    ]);
    expect(crdApply.code, crdApply.stderr).toBe(0);
    const upgrade = await helm(
      [
        "upgrade",
        release,
        CHART_DIR,
        "--namespace",
        releaseNs,
        "--reuse-values",
        "--set",
        "replicaCount=1",
        "--set",
        "image.tag=0.1.1",
      ],
      { kubeconfig: kubeconfigPath() },
    );
    expect(upgrade.code, upgrade.stderr).toBe(0);
    const upgraded = await apps.readNamespacedDeployment({
      name: `${release}-vnf-operator`,
      namespace: releaseNs,
    });
    expect(upgraded.spec?.template.spec?.containers[0]?.image).toBe(
      "ghcr.io/vnf-operator/vnf-operator:0.1.1",
    );
    expect(upgraded.spec?.replicas).toBe(1);
    // One replica: no leader election, so its Role is gone.
    await expect(
      rbac.readNamespacedRole({ name: `${release}-vnf-operator-leader-election`, namespace: releaseNs }),
    ).rejects.toMatchObject({ code: 404 });

    const uninstall = await helm(["uninstall", release, "--namespace", releaseNs], {
      kubeconfig: kubeconfigPath(),
    });
    expect(uninstall.code, uninstall.stderr).toBe(0);
    await expect(rbac.readClusterRole({ name: `${release}-vnf-operator` })).rejects.toMatchObject({
      code: 404,
    });
    // Helm leaves CRDs in place on uninstall (they hold the users' objects).
    await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: "vnffirewallrules.vnf-operator.io" });
  });
});

describe("CRDs outlive an Argo CD Application or a Helm release", () => {
  // Deleting the CRDs deletes every VnfDevice and rule with them (and with the operator gone, rules
  // hang on their finalizer). Argo CD renders the chart with `helm template --include-crds`, so without
  // a word from us the CRDs are ordinary resources of the Application: deleted with it (resources
  // finalizer) and pruned when they leave the render (e.g. helm.skipCrds). Argo CD reads the
  // `argocd.argoproj.io/sync-options` annotation as a comma-separated list: Delete=false keeps a
  // resource when its Application is deleted, Prune=false when it leaves the render.
  // `helm.sh/resource-policy: keep` does the same for Helm when the CRDs come from templates.
  const application = parseManifests(
    readFileSync(path.join(CHART_DIR, "../../deploy/argocd/application.yaml"), "utf8"),
  )[0] as unknown as {
    metadata: { finalizers?: string[] };
    spec: {
      source: { path: string; helm: { releaseName: string; valuesObject: object } };
      destination: { namespace: string };
      syncPolicy: { syncOptions: string[] };
    };
  };
  const syncOptions = (annotations: Record<string, string> | undefined) =>
    new Map(
      (annotations?.["argocd.argoproj.io/sync-options"] ?? "")
        .split(",")
        .filter(Boolean)
        .map((option) => option.trim().split("=") as [string, string]),
    );

  it("the example Application's render (helm template --include-crds) marks every CRD Delete=false, Prune=false and resource-policy keep", async () => {
    expect(application.spec.source.path).toBe("charts/vnf-operator");
    const { objects } = await renderChart(
      application.spec.source.helm.releaseName,
      application.spec.destination.namespace,
      application.spec.source.helm.valuesObject,
      ["--include-crds"],
    );
    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      "vnfdevices.vnf-operator.io",
      "vnffirewallrules.vnf-operator.io",
      "vnfnatrules.vnf-operator.io",
    ]);
    for (const crd of crds) {
      const annotations = (crd.metadata as { annotations?: Record<string, string> }).annotations;
      const options = syncOptions(annotations);
      expect(options.get("Delete"), crd.metadata.name).toBe("false");
      expect(options.get("Prune"), crd.metadata.name).toBe("false");
      expect(annotations?.["helm.sh/resource-policy"], crd.metadata.name).toBe("keep");
    }
    // Nothing else is protected: deleting the Application removes the operator itself.
    const others = objects.filter((o) => o.kind !== "CustomResourceDefinition");
    expect(others.length).toBeGreaterThan(0);
    for (const o of others)
      expect(syncOptions((o.metadata as { annotations?: Record<string, string> }).annotations).size).toBe(0);
    expect(application.spec.syncPolicy.syncOptions).toContain("ServerSideApply=true");
  });

  it("the annotations survive kubectl apply of crds/ (what users of plain manifests apply)", async () => {
    const crd = await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: "vnfnatrules.vnf-operator.io" });
    expect(syncOptions(crd.metadata?.annotations).get("Delete")).toBe("false");
    expect(crd.metadata?.annotations?.["helm.sh/resource-policy"]).toBe("keep");
  });
});
