// The helpers reconcilers use, against the real API server: finalizers by JSON Patch with a test op,
// the status writer (server-side apply to /status, one field manager per controller, optional
// optimistic lock), and the correlated Event recorder.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { EventRecorder } from "../../src/runtime/events.ts";
import { addFinalizer, removeFinalizer } from "../../src/runtime/kube.ts";
import { isConflict, KubeApiError, KubeHttp } from "../../src/runtime/kube-http.ts";
import { CoreResources, type KubeObject, objectPath, type ResourceType } from "../../src/runtime/resource.ts";
import { StatusWriter } from "../../src/runtime/status-writer.ts";
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

const GADGETS: ResourceType = {
  group: "runtime-test.vnf-operator.io",
  version: "v1",
  plural: "gadgets",
  kind: "Gadget",
  namespaced: true,
};

/** A CRD with a structured status whose conditions are a list-map keyed by type, as ours are. */
async function ensureGadgetCrd() {
  const condition = {
    type: "object",
    required: ["type", "status"],
    properties: {
      type: { type: "string" },
      status: { type: "string" },
      reason: { type: "string" },
      message: { type: "string" },
      lastTransitionTime: { type: "string" },
      observedGeneration: { type: "integer" },
    },
  };
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${GADGETS.plural}.${GADGETS.group}` },
    spec: {
      group: GADGETS.group,
      scope: "Namespaced",
      names: { plural: "gadgets", singular: "gadget", kind: "Gadget", listKind: "GadgetList" },
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
                status: {
                  type: "object",
                  properties: {
                    observedGeneration: { type: "integer" },
                    health: { type: "string" },
                    note: { type: "string" },
                    unmanaged: { type: "integer" },
                    conditions: {
                      type: "array",
                      "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["type"],
                      items: condition,
                    },
                  },
                },
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
  await waitUntil("the Gadget CRD is served", async () => {
    await http.request({ method: "GET", path: `/apis/${GADGETS.group}/v1/gadgets` });
    return true;
  });
}

interface GadgetStatus {
  observedGeneration?: number;
  health?: string;
  note?: string;
  unmanaged?: number;
  conditions?: { type: string; status: string; reason?: string }[];
}
type Gadget = KubeObject & { spec: unknown; status?: GadgetStatus };

describe("StatusWriter (server-side apply to /status)", () => {
  it("two field managers write disjoint fields and conditions without conflicts; each removes only its own", async () => {
    await ensureGadgetCrd();
    const ns = await createTestNamespace(kc, "rt-status");
    const path = `/apis/${GADGETS.group}/v1/namespaces/${ns}/gadgets`;
    const created = await http.request<Gadget>({
      method: "POST",
      path,
      body: { apiVersion: `${GADGETS.group}/v1`, kind: "Gadget", metadata: { name: "g" }, spec: { size: 1 } },
    });
    const health = new StatusWriter<Gadget>({
      client: http,
      resource: GADGETS,
      fieldManager: "health-controller",
      owns: { fields: ["observedGeneration", "health", "note"], conditions: ["Ready"] },
    });
    const counter = new StatusWriter<Gadget>({
      client: http,
      resource: GADGETS,
      fieldManager: "counter-controller",
      owns: { fields: ["unmanaged"], conditions: ["Drifted"] },
    });
    const ready = { type: "Ready", status: "True", reason: "Ok" };
    const drifted = { type: "Drifted", status: "True", reason: "Differs" };

    // Both write from the same (now stale) read: no 409, the API server merges them field by field.
    const a = await health.write(created, {
      observedGeneration: 1,
      health: "ok",
      note: "n",
      conditions: [ready],
    });
    const b = await counter.write(created, { unmanaged: 3, conditions: [drifted] });
    expect(b.status).toEqual({
      observedGeneration: 1,
      health: "ok",
      note: "n",
      unmanaged: 3,
      conditions: [ready, drifted],
    });
    expect(b.spec).toEqual({ size: 1 });
    const managedFields = (b.metadata?.managedFields ?? []) as { manager: string }[];
    const managers = managedFields.map((m) => m.manager);
    expect(managers).toEqual(expect.arrayContaining(["health-controller", "counter-controller"]));

    // Nothing changed for the writer: no request, the same object back.
    const requests: string[] = [];
    const stop = http.observe((info) => requests.push(info.method));
    expect(await counter.write(b, { ...b.status, unmanaged: 3 })).toBe(b);
    stop();
    expect(requests).toEqual([]);

    // Omitting a field or a condition it owns removes it; another manager's stay.
    const c = await health.write(b, (current) => ({
      ...current,
      note: undefined,
      health: "degraded",
      conditions: [],
    }));
    expect(c.status).toEqual({
      observedGeneration: 1,
      health: "degraded",
      unmanaged: 3,
      conditions: [drifted],
    });
    // A writer cannot remove what it does not own, whatever it sends.
    const d = await counter.write(c, { unmanaged: 4 });
    expect(d.status).toEqual({ observedGeneration: 1, health: "degraded", unmanaged: 4 });
    expect(a.metadata?.resourceVersion).not.toBe(d.metadata?.resourceVersion);
  });

  it("with lock, refuses to write over a change it has not read (409)", async () => {
    await ensureGadgetCrd();
    const ns = await createTestNamespace(kc, "rt-status-lock");
    const created = await http.request<Gadget>({
      method: "POST",
      path: `/apis/${GADGETS.group}/v1/namespaces/${ns}/gadgets`,
      body: { apiVersion: `${GADGETS.group}/v1`, kind: "Gadget", metadata: { name: "g" }, spec: {} },
    });
    const writer = new StatusWriter<Gadget>({
      client: http,
      resource: GADGETS,
      fieldManager: "journal",
      owns: { fields: ["observedGeneration", "note"] },
    });
    const first = await writer.write(created, { note: "intent" }, { lock: true });
    expect(first.status?.note).toBe("intent");
    const error = await writer.write(created, { note: "stale" }, { lock: true }).catch((e: unknown) => e);
    expect(isConflict(error)).toBe(true);
    // Re-read and re-apply: the same change computed on the fresh status lands.
    const fresh = await http.request<Gadget>({
      method: "GET",
      path: objectPath(GADGETS, { namespace: ns, name: "g" }),
    });
    const second = await writer.write(fresh, (current) => ({ ...current, note: "outcome" }), { lock: true });
    expect(second.status?.note).toBe("outcome");
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
