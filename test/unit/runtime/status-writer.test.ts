// The status writer's decisions without an API server: what it owns, when it writes, and the exact
// server-side apply request it sends (the integration test runs the same writes against a real one).
import { describe, expect, it } from "vitest";
import type { KubeRequest } from "../../../src/runtime/kube-http.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { APPLY_PATCH, deepEqual, StatusWriter } from "../../../src/runtime/status-writer.ts";

const THINGS: ResourceType = {
  group: "ex.io",
  version: "v1",
  plural: "things",
  kind: "Thing",
  namespaced: true,
};

interface ThingStatus {
  observedGeneration?: number;
  a?: string;
  b?: { x: number };
  other?: string;
  conditions?: { type: string; status: string }[];
}
type Thing = KubeObject & { status?: ThingStatus };

function setup() {
  const requests: KubeRequest[] = [];
  const client = {
    request: async <T>(req: KubeRequest): Promise<T> => {
      requests.push(req);
      const body = req.body as { metadata: { resourceVersion?: string }; status: ThingStatus };
      return { metadata: { name: "t", namespace: "ns", resourceVersion: "2" }, status: body.status } as T;
    },
  };
  const writer = new StatusWriter<Thing>({
    client,
    resource: THINGS,
    fieldManager: "me",
    owns: { fields: ["observedGeneration", "a", "b"], conditions: ["Ready"] },
  });
  return { requests, writer };
}

const thing = (status: ThingStatus): Thing => ({
  metadata: { name: "t", namespace: "ns", resourceVersion: "1" },
  status,
});
const ready = { type: "Ready", status: "True" };
const drifted = { type: "Drifted", status: "True" };

describe("StatusWriter.owned", () => {
  it.each([
    ["only owned fields, defined ones", { a: "1", other: "x", b: undefined }, { a: "1" }],
    ["only owned condition types", { conditions: [drifted, ready] }, { conditions: [ready] }],
    ["no owned condition: no conditions key (applying removes ours)", { conditions: [drifted] }, {}],
    ["nothing", undefined, {}],
  ] as const)("%s", (_name, status, expected) => {
    const { writer } = setup();
    expect(writer.owned(status as ThingStatus | undefined)).toEqual(expected);
  });
});

describe("StatusWriter.write", () => {
  it("sends nothing when what it owns is unchanged, whatever else differs", async () => {
    const { requests, writer } = setup();
    const obj = thing({ a: "1", other: "x", conditions: [ready, drifted] });
    const result = await writer.write(obj, { a: "1", other: "changed", conditions: [ready] });
    expect(result).toBe(obj);
    expect(requests).toEqual([]);
    expect(writer.differs(obj, { a: "1", conditions: [ready] })).toBe(false);
  });

  it("applies its complete view under its field manager, forced, to /status", async () => {
    const { requests, writer } = setup();
    const obj = thing({ a: "1", b: { x: 1 }, other: "x", conditions: [ready] });
    const result = await writer.write(obj, (current) => ({ ...current, a: "2", b: undefined }));
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req).toMatchObject({
      method: "PATCH",
      path: "/apis/ex.io/v1/namespaces/ns/things/t/status",
      query: { fieldManager: "me", force: true },
      contentType: APPLY_PATCH,
    });
    // b omitted (removed), the other controller's field not sent at all, no resourceVersion.
    expect(req?.body).toEqual({
      apiVersion: "ex.io/v1",
      kind: "Thing",
      metadata: { name: "t", namespace: "ns" },
      status: { a: "2", conditions: [ready] },
    });
    expect(result.metadata?.resourceVersion).toBe("2");
  });

  it("with lock, sends the resourceVersion it read", async () => {
    const { requests, writer } = setup();
    await writer.write(thing({}), { a: "1" }, { lock: true });
    expect(requests[0]?.body).toMatchObject({
      metadata: { name: "t", namespace: "ns", resourceVersion: "1" },
    });
  });
});

describe("deepEqual", () => {
  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 2 }, false],
    [[1, 2], [2, 1], false],
    [{ a: [] }, { a: {} }, false],
    [null, undefined, false],
  ])("%j vs %j: %s", (a, b, expected) => {
    expect(deepEqual(a, b)).toBe(expected);
  });
});
