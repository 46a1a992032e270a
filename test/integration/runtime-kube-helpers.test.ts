// The helpers reconcilers use, against the real API server: finalizers by JSON Patch with a test op,
// status merge patch to /status with an optimistic lock, and the correlated Event recorder.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { EventRecorder } from "../../src/runtime/events.ts";
import { addFinalizer, patchStatus, removeFinalizer } from "../../src/runtime/kube.ts";
import { isConflict, KubeApiError, KubeHttp } from "../../src/runtime/kube-http.ts";
import { CoreResources, type KubeObject, objectPath, type ResourceType } from "../../src/runtime/resource.ts";
import { createTestNamespace, testKubeConfig, waitUntil } from "../support/kube.ts";

const WIDGETS: ResourceType = {
  group: "runtime-test.vnf-operator.io",
  version: "v1",
  plural: "widgets",
  kind: "Widget",
  namespaced: true,
};

let kc: KubeConfig;
let http: KubeHttp;

beforeAll(async () => {
  kc = testKubeConfig();
  http = new KubeHttp(kc);
  await ensureWidgetCrd();
});

async function ensureWidgetCrd() {
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${WIDGETS.plural}.${WIDGETS.group}` },
    spec: {
      group: WIDGETS.group,
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
      ],
    },
  };
  try {
    await http.request({
      method: "POST",
      path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      body: crd,
    });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  }
  await waitUntil("the Widget CRD is served", async () => {
    await http.request({ method: "GET", path: `/apis/${WIDGETS.group}/v1/widgets` });
    return true;
  });
}

const F = "vnf-operator.io/cleanup";

describe("finalizers", () => {
  it("adds ours (no list yet), refuses to act on a stale view, and removes only ours", async () => {
    const ns = await createTestNamespace(kc, "rt-fin");
    const core = kc.makeApiClient(CoreV1Api);
    const created = (await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "cm" } },
    })) as KubeObject;
    const ref = { resource: CoreResources.configMaps, namespace: ns, name: "cm" };
    const path = objectPath(CoreResources.configMaps, ref);

    expect(await addFinalizer(kc, ref, created, F)).toBe(true);
    let current = await http.request<KubeObject>({ method: "GET", path });
    expect(current.metadata?.finalizers).toEqual([F]);
    expect(await addFinalizer(kc, ref, current, F)).toBe(false);

    // someone else adds theirs; our stale view (no finalizers) must fail rather than clobber it
    await http.request({
      method: "PATCH",
      path,
      body: [{ op: "add", path: "/metadata/finalizers/0", value: "other.io/keep" }],
      contentType: "application/json-patch+json",
    });
    await expect(addFinalizer(kc, ref, created, "third.io/x")).rejects.toBeInstanceOf(KubeApiError);
    // with a stale view where ours sits at index 0, removal fails instead of deleting theirs
    await expect(removeFinalizer(kc, ref, current, F)).rejects.toBeInstanceOf(KubeApiError);
    current = await http.request<KubeObject>({ method: "GET", path });
    expect(current.metadata?.finalizers).toEqual(["other.io/keep", F]);

    expect(await removeFinalizer(kc, ref, current, F)).toBe(true);
    current = await http.request<KubeObject>({ method: "GET", path });
    expect(current.metadata?.finalizers).toEqual(["other.io/keep"]);
    expect(await removeFinalizer(kc, ref, current, F)).toBe(false);
  });
});

describe("patchStatus", () => {
  it("merge-patches /status, leaves spec alone, and fails with 409 on a stale resourceVersion", async () => {
    const ns = await createTestNamespace(kc, "rt-status");
    const created = await http.request<KubeObject & { spec: unknown }>({
      method: "POST",
      path: `/apis/${WIDGETS.group}/v1/namespaces/${ns}/widgets`,
      body: { apiVersion: `${WIDGETS.group}/v1`, kind: "Widget", metadata: { name: "w" }, spec: { size: 1 } },
    });
    const ref = { resource: WIDGETS, namespace: ns, name: "w" };
    const conditions = [
      {
        type: "Ready",
        status: "True",
        reason: "Applied",
        message: "",
        lastTransitionTime: "2024-01-01T00:00:00Z",
      },
    ];
    const updated = await patchStatus<KubeObject & { spec: unknown; status: unknown }>(kc, ref, {
      observedGeneration: 1,
      conditions,
    });
    expect(updated.status).toEqual({ observedGeneration: 1, conditions });
    expect(updated.spec).toEqual({ size: 1 });

    // the status subresource ignores everything but status
    const withLock = await patchStatus<KubeObject & { status: { observedGeneration: number } }>(
      kc,
      ref,
      { observedGeneration: 2 },
      { resourceVersion: updated.metadata?.resourceVersion },
    );
    expect(withLock.status.observedGeneration).toBe(2);
    const stale = created.metadata?.resourceVersion;
    const error = await patchStatus(kc, ref, { observedGeneration: 3 }, { resourceVersion: stale }).catch(
      (e: unknown) => e,
    );
    expect(isConflict(error)).toBe(true);
  });
});

describe("EventRecorder", () => {
  it("turns a hot loop into one Event with a series count, and scrubs credential-like text", async () => {
    const ns = await createTestNamespace(kc, "rt-events");
    const core = kc.makeApiClient(CoreV1Api);
    const regarding = (await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "subject" } },
    })) as KubeObject;
    regarding.apiVersion = "v1";
    regarding.kind = "ConfigMap";
    const recorder = new EventRecorder(kc, {
      reportingController: "vnf-operator.io/runtime-test",
      reportingInstance: "test-0",
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 30; i++)
      recorder.warning(regarding, "ApplyFailed", "Apply", "appliance returned 500");
    recorder.normal(regarding, "LoginFailed", "Login", "login refused for admin password=hunter2");
    await recorder.close();

    const list = await http.request<{
      items: Array<{
        reason: string;
        note: string;
        type: string;
        series?: { count: number };
        regarding: { name: string };
      }>;
    }>({ method: "GET", path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` });
    const applied = list.items.filter((e) => e.reason === "ApplyFailed");
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({
      type: "Warning",
      note: "appliance returned 500",
      regarding: { name: "subject" },
    });
    expect(applied[0]?.series?.count).toBe(30);
    const login = list.items.find((e) => e.reason === "LoginFailed");
    expect(login?.note).toBe("login refused for admin password=[REDACTED]");
    expect(JSON.stringify(list)).not.toContain("hunter2");
  });
});
