// A cache made of per-slice informers (partitioned-informer.ts): reads and handlers see the union,
// slices come and go while it runs, and a removed slice's objects leave the cache without delete
// events (they still exist; they are just not this replica's any more).
import { describe, expect, it } from "vitest";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/fake-clock.ts";
import { PartitionedInformer } from "../../../src/runtime/partitioned-informer.ts";
import { CoreResources, type KubeObject } from "../../../src/runtime/resource.ts";
import { configMap, FakeKubeClient } from "./fake-kube-client.ts";

function setup() {
  const client = new FakeKubeClient();
  // One object per slice, named after its field selector's value.
  client.onRequest = (req) => {
    const value = String(req.query?.fieldSelector ?? "").split("=")[1] ?? "none";
    return {
      kind: "ConfigMapList",
      metadata: { resourceVersion: "5" },
      items: [configMap("ns", `cm-${value}`, "3")],
    };
  };
  const cache = new PartitionedInformer<KubeObject>(client, CoreResources.configMaps, {
    clock: new FakeClock(),
    random: () => 0,
    resyncPeriodMs: 0,
  });
  const events: string[] = [];
  cache.addEventHandler({
    onAdd: (obj) => events.push(`add ${obj.metadata?.name}`),
    onDelete: (obj) => events.push(`delete ${obj.metadata?.name}`),
  });
  return { client, cache, events };
}

describe("PartitionedInformer", () => {
  it("with no slice it is synced and empty; slices added before or after start are listed and watched", async () => {
    const { client, cache, events } = setup();
    expect(cache.hasSynced()).toBe(true);
    cache.add("a", { namespace: "ns", fieldSelector: "spec.deviceRef.name=a" });
    expect(cache.hasSynced()).toBe(false);
    cache.start();
    await flushMicrotasks(20);
    cache.add("b", { namespace: "ns", fieldSelector: "spec.deviceRef.name=b" });
    cache.add("b", { namespace: "ns", fieldSelector: "spec.deviceRef.name=b" }); // present: left alone
    await flushMicrotasks(20);
    expect(await cache.waitForSync(1000)).toBe(true);
    expect(
      cache
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["cm-a", "cm-b"]);
    expect(cache.get("ns", "cm-b")?.metadata?.name).toBe("cm-b");
    expect(events.sort()).toEqual(["add cm-a", "add cm-b"]);
    const lists = client.requests.filter((r) => r.query?.watch === undefined);
    expect(lists.map((r) => [r.path, r.query?.fieldSelector])).toEqual([
      ["/api/v1/namespaces/ns/configmaps", "spec.deviceRef.name=a"],
      ["/api/v1/namespaces/ns/configmaps", "spec.deviceRef.name=b"],
    ]);
    await cache.stop();
  });

  it("a removed slice's objects leave the cache, without delete events, and its watch stops", async () => {
    const { client, cache, events } = setup();
    cache.add("a", { namespace: "ns", fieldSelector: "f=a" });
    cache.add("b", { namespace: "ns", fieldSelector: "f=b" });
    cache.start();
    await flushMicrotasks(20);
    const watchOfA = client.watches.find((w) => w.request.query?.fieldSelector === "f=a");
    await cache.remove("a");
    expect(cache.ids()).toEqual(["b"]);
    expect(cache.get("ns", "cm-a")).toBeUndefined();
    expect(cache.list().map((o) => o.metadata?.name)).toEqual(["cm-b"]);
    expect(events.filter((e) => e.startsWith("delete"))).toEqual([]);
    expect(watchOfA?.request.signal?.aborted).toBe(true);
    await cache.stop();
  });

  it("a handler added later sees every slice's objects, present and future", async () => {
    const { cache } = setup();
    cache.add("a", { namespace: "ns", fieldSelector: "f=a" });
    cache.start();
    await flushMicrotasks(20);
    const late: string[] = [];
    const remove = cache.addEventHandler({ onAdd: (obj) => late.push(obj.metadata?.name ?? "") });
    cache.add("c", { namespace: "ns", fieldSelector: "f=c" });
    await flushMicrotasks(20);
    expect(late.sort()).toEqual(["cm-a", "cm-c"]);
    remove();
    cache.add("d", { namespace: "ns", fieldSelector: "f=d" });
    await flushMicrotasks(20);
    expect(late).not.toContain("cm-d");
    await cache.stop();
  });
});
