import { describe, expect, it } from "vitest";
import { dropAnnotations, LAST_APPLIED } from "../../../src/runtime/cache-transforms.ts";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/fake-clock.ts";
import { Informer, type InformerOptions } from "../../../src/runtime/informer.ts";
import { KubeApiError } from "../../../src/runtime/kube-http.ts";
import { CoreResources, type KubeObject } from "../../../src/runtime/resource.ts";
import { configMap, FakeKubeClient } from "./fake-kube-client.ts";

type Event = [string, string, boolean?];

function setup(options: Partial<InformerOptions> = {}) {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  const informer = new Informer(client, {
    resource: CoreResources.configMaps,
    clock,
    random: () => 0,
    resyncPeriodMs: 0,
    ...options,
  });
  const events: Event[] = [];
  informer.addEventHandler({
    onAdd: (obj, { initialList }) => events.push(["add", name(obj), initialList]),
    onUpdate: (_old, obj, { resync }) => events.push(["update", name(obj), resync]),
    onDelete: (obj) => events.push(["delete", name(obj)]),
  });
  return { clock, client, informer, events };
}

function name(obj: KubeObject): string {
  return `${obj.metadata?.namespace}/${obj.metadata?.name}@${obj.metadata?.resourceVersion}`;
}

function listOf(items: unknown[], resourceVersion: string, cont?: string) {
  return {
    kind: "ConfigMapList",
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    // list items carry no apiVersion/kind
    items: items.map((i) => {
      const { apiVersion: _a, kind: _k, ...rest } = i as Record<string, unknown>;
      return rest;
    }),
  };
}

describe("Informer: initial list", () => {
  it("is synced only after the last page, swaps pages in at once, strips managedFields", async () => {
    const { client, informer, events } = setup({ pageSize: 1 });
    let releasePage2!: () => void;
    const page2 = new Promise<void>((r) => (releasePage2 = r));
    client.onRequest = async (req) => {
      if (req.query?.continue === "p2") {
        await page2;
        return listOf([configMap("ns", "b", "11")], "20");
      }
      return listOf([configMap("ns", "a", "10")], "20", "p2");
    };
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(false);
    expect(informer.list()).toEqual([]); // page 1 is buffered, not visible
    releasePage2();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(true);
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
    const cached = informer.get("ns", "a")!;
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(cached.kind).toBe("ConfigMap");
    expect(cached.apiVersion).toBe("v1");
    expect(events).toEqual([
      ["add", "ns/a@10", true],
      ["add", "ns/b@11", true],
    ]);
    expect(informer.resourceVersion()).toBe("20");
    await informer.stop();
  });

  it("opens the watch from the list's resourceVersion with bookmarks and a 5–10 min timeout", async () => {
    const { client, informer } = setup({ labelSelector: "app=x", random: () => 0.5 });
    client.onRequest = () => listOf([], "42");
    informer.start();
    await flushMicrotasks();
    const watch = client.lastWatch().request;
    expect(watch.query).toMatchObject({
      watch: 1,
      allowWatchBookmarks: true,
      resourceVersion: "42",
      timeoutSeconds: 450,
      labelSelector: "app=x",
    });
    expect(watch.path).toBe("/api/v1/configmaps");
    await informer.stop();
  });

  it("replays the cache to a handler added after sync, as initial-list adds", async () => {
    const { client, informer } = setup();
    client.onRequest = () => listOf([configMap("ns", "a", "1")], "5");
    informer.start();
    await flushMicrotasks();
    const late: Event[] = [];
    informer.addEventHandler({ onAdd: (obj, { initialList }) => late.push(["add", name(obj), initialList]) });
    expect(late).toEqual([["add", "ns/a@1", true]]);
    await informer.stop();
  });

  it("waitForSync resolves true on sync and false on timeout", async () => {
    const { client, informer, clock } = setup();
    let release!: () => void;
    client.onRequest = async () => {
      await new Promise<void>((r) => (release = r));
      return listOf([], "1");
    };
    informer.start();
    const timedOut = informer.waitForSync(1000);
    clock.advance(1000);
    expect(await timedOut).toBe(false);
    const synced = informer.waitForSync(1000);
    release();
    await flushMicrotasks();
    expect(await synced).toBe(true);
    await informer.stop();
  });
});

describe("Informer: watch events", () => {
  it("applies ADDED/MODIFIED/DELETED, tracks resourceVersion from every event incl. BOOKMARK", async () => {
    const { client, informer, events } = setup();
    client.onRequest = () => listOf([configMap("ns", "a", "1")], "5");
    informer.start();
    await flushMicrotasks();
    events.length = 0;
    const watch = client.lastWatch();
    watch.send({ type: "ADDED", object: configMap("ns", "b", "6") });
    watch.send({ type: "MODIFIED", object: configMap("ns", "a", "7", { k: "v" }) });
    watch.send({ type: "DELETED", object: configMap("ns", "b", "8") });
    watch.send({
      type: "BOOKMARK",
      object: { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "12" } },
    });
    await flushMicrotasks();
    expect(events).toEqual([
      ["add", "ns/b@6", false],
      ["update", "ns/a@7", false],
      ["delete", "ns/b@6"],
    ]);
    expect((informer.get("ns", "a") as { data?: unknown }).data).toEqual({ k: "v" });
    expect(informer.get("ns", "a")?.metadata?.managedFields).toBeUndefined();
    expect(informer.get("ns", "b")).toBeUndefined();
    expect(informer.resourceVersion()).toBe("12");
    expect(informer.stats.bookmarks).toBe(1);
    await informer.stop();
  });

  it("caches (and hands handlers) objects as the transform leaves them: last-applied dropped", async () => {
    const { client, informer } = setup({ transform: dropAnnotations(["tool/scratch"]) });
    const annotated = (rv: string, annotations: Record<string, string>) => {
      const obj = configMap("ns", "a", rv) as KubeObject;
      obj.metadata = { ...obj.metadata, annotations };
      return obj;
    };
    const seen: Array<Record<string, string> | undefined> = [];
    informer.addEventHandler({
      onAdd: (obj) => seen.push(obj.metadata?.annotations),
      onUpdate: (_old, obj) => seen.push(obj.metadata?.annotations),
    });
    client.onRequest = () => listOf([annotated("1", { [LAST_APPLIED]: "{...}", keep: "me" })], "5");
    informer.start();
    await flushMicrotasks();
    expect(informer.get("ns", "a")?.metadata?.annotations).toEqual({ keep: "me" });
    client.lastWatch().send({
      type: "MODIFIED",
      object: annotated("6", { [LAST_APPLIED]: "{...}", "tool/scratch": "x" }),
    });
    await flushMicrotasks();
    expect(informer.get("ns", "a")?.metadata?.annotations).toBeUndefined();
    expect(seen).toEqual([{ keep: "me" }, undefined]);
    await informer.stop();
  });

  it("re-watches at once from the last resourceVersion when the server ends the watch", async () => {
    const { client, informer, clock } = setup();
    client.onRequest = () => listOf([], "5");
    informer.start();
    await flushMicrotasks();
    const first = client.lastWatch();
    first.send({ type: "ADDED", object: configMap("ns", "a", "9") });
    clock.advance(60_000); // a long, healthy watch
    first.end();
    await flushMicrotasks();
    expect(client.watches).toHaveLength(2);
    expect(client.lastWatch().request.query?.resourceVersion).toBe("9");
    expect(informer.stats.lists).toBe(1);
    await informer.stop();
  });
});

describe("Informer: failures", () => {
  it("relists on a 410 ERROR event and emits the difference", async () => {
    const { client, informer, events } = setup();
    let generation = 0;
    client.onRequest = () =>
      generation++ === 0
        ? listOf([configMap("ns", "a", "1"), configMap("ns", "gone", "2")], "5")
        : listOf([configMap("ns", "a", "30"), configMap("ns", "new", "31")], "40");
    informer.start();
    await flushMicrotasks();
    events.length = 0;
    client
      .lastWatch()
      .send({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old" } });
    await flushMicrotasks();
    expect(informer.stats.relists).toBe(1);
    expect(events).toEqual([
      ["add", "ns/new@31", false],
      ["update", "ns/a@30", false],
      ["delete", "ns/gone@2"],
    ]);
    expect(client.lastWatch().request.query?.resourceVersion).toBe("40");
    await informer.stop();
  });

  it("relists on an HTTP 410 when opening the watch", async () => {
    const { client, informer } = setup();
    client.onRequest = () => listOf([], "5");
    client.watchOpenError = new KubeApiError(410, "Gone", "gone");
    informer.start();
    await flushMicrotasks();
    expect(informer.stats.lists).toBe(2);
    expect(informer.stats.relists).toBe(1);
    await informer.stop();
  });

  it.each([
    { name: "a broken stream", fail: (c: FakeKubeClient) => c.lastWatch().fail(new Error("socket hang up")) },
    {
      name: "a non-410 ERROR event",
      fail: (c: FakeKubeClient) =>
        c.lastWatch().send({ type: "ERROR", object: { kind: "Status", code: 500, reason: "InternalError" } }),
    },
  ])(
    "restarts the watch after backoff (800 ms first) on $name, from the last resourceVersion",
    async ({ fail }) => {
      const { client, informer, clock } = setup();
      client.onRequest = () => listOf([], "5");
      informer.start();
      await flushMicrotasks();
      client.lastWatch().send({ type: "ADDED", object: configMap("ns", "a", "6") });
      await flushMicrotasks();
      fail(client);
      await flushMicrotasks();
      expect(client.watches).toHaveLength(1);
      clock.advance(799);
      await flushMicrotasks();
      expect(client.watches).toHaveLength(1);
      clock.advance(1);
      await flushMicrotasks();
      expect(client.watches).toHaveLength(2);
      expect(client.lastWatch().request.query?.resourceVersion).toBe("6");
      expect(informer.stats.errorRestarts).toBe(1);
      expect(informer.stats.lists).toBe(1);
      await informer.stop();
    },
  );

  it("keeps retrying a failing list (403) with growing backoff and never gives up", async () => {
    const { client, informer, clock } = setup();
    let calls = 0;
    client.onRequest = () =>
      ++calls <= 3 ? new KubeApiError(403, "Forbidden", "forbidden") : listOf([], "1");
    informer.start();
    await flushMicrotasks();
    expect(calls).toBe(1);
    for (const delay of [800, 1600, 3200]) {
      clock.advance(delay - 1);
      await flushMicrotasks();
      const before = calls;
      clock.advance(1);
      await flushMicrotasks();
      expect(calls).toBe(before + 1);
    }
    expect(informer.hasSynced()).toBe(true);
    await informer.stop();
  });

  it("the idle watchdog restarts a watch that sends nothing", async () => {
    const { client, informer, clock } = setup({ idleTimeoutMs: 5_000 });
    client.onRequest = () => listOf([], "5");
    informer.start();
    await flushMicrotasks();
    const watch = client.lastWatch();
    clock.advance(4_000);
    watch.send({ type: "BOOKMARK", object: { metadata: { resourceVersion: "7" } } });
    await flushMicrotasks();
    clock.advance(4_999); // fed by the bookmark: not idle yet
    await flushMicrotasks();
    expect(informer.stats.watchdogRestarts).toBe(0);
    clock.advance(1);
    await flushMicrotasks();
    expect(informer.stats.watchdogRestarts).toBe(1);
    clock.advance(800);
    await flushMicrotasks();
    expect(client.watches).toHaveLength(2);
    expect(client.lastWatch().request.query?.resourceVersion).toBe("7");
    await informer.stop();
  });
});

describe("Informer: scopes and resync", () => {
  it("lists and watches each namespace, and a relist of one namespace leaves the other alone", async () => {
    const { client, informer, events } = setup({ namespaces: ["a", "b"] });
    let relistA = false;
    client.onRequest = (req) => {
      if (req.path === "/api/v1/namespaces/a/configmaps")
        return relistA ? listOf([], "50") : listOf([configMap("a", "x", "1")], "10");
      return listOf([configMap("b", "y", "2")], "10");
    };
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(true);
    expect(client.watches.map((w) => w.request.path).sort()).toEqual([
      "/api/v1/namespaces/a/configmaps",
      "/api/v1/namespaces/b/configmaps",
    ]);
    events.length = 0;
    relistA = true;
    const watchA = client.watches.find((w) => w.request.path.includes("/namespaces/a/"))!;
    watchA.send({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    await flushMicrotasks();
    expect(events).toEqual([["delete", "a/x@1"]]);
    expect(informer.list("b").map((o) => o.metadata?.name)).toEqual(["y"]);
    expect(informer.list("a")).toEqual([]);
    await informer.stop();
  });

  it("re-delivers cached objects as resync updates every period (±10 %)", async () => {
    const { client, informer, clock, events } = setup({ resyncPeriodMs: 10_000, random: () => 0 });
    client.onRequest = () => listOf([configMap("ns", "a", "1")], "5");
    informer.start();
    await flushMicrotasks();
    events.length = 0;
    clock.advance(8_999);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual([["update", "ns/a@1", true]]);
    await informer.stop();
  });

  it("stop() ends the loops and no further requests are made", async () => {
    const { client, informer, clock } = setup();
    client.onRequest = () => listOf([], "5");
    informer.start();
    await flushMicrotasks();
    await informer.stop();
    const count = client.requests.length;
    clock.advance(120_000);
    await flushMicrotasks();
    expect(client.requests.length).toBe(count);
  });
});
