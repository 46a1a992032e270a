// The local control plane is a real Kubernetes: watches, namespace deletion (kube-controller-manager),
// CRDs and custom objects, and kubectl all work against it.
import { existsSync } from "node:fs";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1ConfigMap,
  Watch,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlane } from "../support/controlplane.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import { kubectl } from "../support/kubectl.ts";

let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(() => {
  kc = testKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
});

describe("local control plane", () => {
  it("serves the default namespace and a versioned /version", async () => {
    const ns = await core.readNamespace({ name: "default" });
    expect(ns.metadata?.name).toBe("default");
    const version = await kubectl(kubeconfigPath(), ["version", "-o", "json"]);
    expect(version.code).toBe(0);
    const server = JSON.parse(version.stdout).serverVersion as { gitVersion: string; minor: string };
    expect(server.gitVersion).toMatch(/^v1\.34\.\d+$/);
  });

  it("delivers ADDED, MODIFIED and DELETED watch events for a ConfigMap", async () => {
    const namespace = await createTestNamespace(kc, "watch");
    const seen: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (phase: string, obj: V1ConfigMap) => {
        if (obj.metadata?.name === "demo") seen.push(`${phase}:${obj.data?.colour ?? ""}`);
      },
      () => {},
    );
    try {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: "demo" }, data: { colour: "red" } },
      });
      await core.replaceNamespacedConfigMap({
        namespace,
        name: "demo",
        body: { metadata: { name: "demo" }, data: { colour: "blue" } },
      });
      await core.deleteNamespacedConfigMap({ namespace, name: "demo" });
      await waitUntil("three watch events", async () => seen.length >= 3);
      expect(seen).toEqual(["ADDED:red", "MODIFIED:blue", "DELETED:blue"]);
    } finally {
      controller.abort();
    }
  });

  it("finishes namespace deletion (kube-controller-manager's namespace controller runs)", async () => {
    const namespace = await createTestNamespace(kc, "gone");
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "content" } } });
    await core.deleteNamespace({ name: namespace });
    await waitUntil(
      `namespace ${namespace} to disappear`,
      async () => {
        try {
          await core.readNamespace({ name: namespace });
          return false;
        } catch (error) {
          return (error as { code?: number }).code === 404;
        }
      },
      60_000,
      250,
    );
  });

  it("accepts a CRD and serves custom objects of it", async () => {
    const group = "smoke.vnf-operator.io";
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: { type: "object", properties: { size: { type: "integer", minimum: 1 } } },
                },
              },
            },
          },
        ],
      },
    };
    const apiext = kc.makeApiClient(ApiextensionsV1Api);
    await apiext.createCustomResourceDefinition({ body: crd });
    await waitUntil("CRD Established", async () => {
      const got = await apiext.readCustomResourceDefinition({ name: crd.metadata.name });
      return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    });
    const namespace = await createTestNamespace(kc, "crd");
    const custom = kc.makeApiClient(CustomObjectsApi);
    const body = { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } };
    // Discovery for a brand-new CRD can lag a moment behind Established.
    await waitUntil("custom object created", async () =>
      custom.createNamespacedCustomObject({ group, version: "v1", namespace, plural: "widgets", body }),
    );
    const read = (await custom.getNamespacedCustomObject({
      group,
      version: "v1",
      namespace,
      plural: "widgets",
      name: "w1",
    })) as { spec: { size: number } };
    expect(read.spec.size).toBe(3);
    // The schema is enforced by the real server.
    await expect(
      custom.createNamespacedCustomObject({
        group,
        version: "v1",
        namespace,
        plural: "widgets",
        body: { ...body, metadata: { name: "w2" }, spec: { size: 0 } },
      }),
    ).rejects.toMatchObject({ code: 422 });
    // kubectl's discovery cache may not know a CRD established a moment ago: retry as a user would.
    const listed = await waitUntil("kubectl to list the custom object", async () => {
      const result = await kubectl(kubeconfigPath(), [
        "get",
        `widgets.${group}`,
        "-n",
        namespace,
        "-o",
        "name",
      ]);
      return result.code === 0 && result.stdout.trim() !== "" ? result : undefined;
    });
    expect(listed.stdout.trim()).toBe(`widget.${group}/w1`);
  });

  it("works with kubectl through the same kubeconfig", async () => {
    const result = await kubectl(kubeconfigPath(), ["get", "namespaces", "-o", "name"]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toContain("namespace/default");
  });
});

describe("control plane lifecycle", () => {
  let second: ControlPlane | undefined;

  afterAll(async () => {
    await second?.stop();
  });

  it("starts a second, independent plane and stops it without leaving a process or directory", async () => {
    second = await ControlPlane.start({ controllerManager: false });
    const { pids, workDir, kubeconfigPath: secondKubeconfig } = second.state;
    expect(secondKubeconfig).not.toBe(kubeconfigPath());
    const result = await kubectl(secondKubeconfig, ["get", "ns", "default", "-o", "name"]);
    expect(result.stdout.trim()).toBe("namespace/default");
    await second.stop();
    for (const pid of Object.values(pids)) expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(workDir)).toBe(false);
  });
});
