// The informer against the real API server: initial list, ADDED/MODIFIED/DELETED, managedFields
// stripped, restart after a forced connection loss without losing events, bookmarks advancing the
// resourceVersion.
import { connect, createServer, type Server, type Socket } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { Informer } from "../../src/runtime/informer.ts";
import { MERGE_PATCH } from "../../src/runtime/kube.ts";
import { KubeHttp } from "../../src/runtime/kube-http.ts";
import { CoreResources, objectPath } from "../../src/runtime/resource.ts";
import { createTestNamespace, testKubeConfig, waitUntil } from "../support/kube.ts";

let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(() => {
  kc = testKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
});

function cm(namespace: string, name: string, data: Record<string, string> = {}) {
  return core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });
}

function recorder(informer: Informer) {
  const events: string[] = [];
  informer.addEventHandler({
    onAdd: (o, { initialList }) => events.push(`${initialList ? "list" : "add"} ${o.metadata?.name}`),
    onUpdate: (_o, n, { resync }) => events.push(`${resync ? "resync" : "update"} ${n.metadata?.name}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return events;
}

describe("Informer on ConfigMaps (real API server)", () => {
  it("lists, then follows ADDED/MODIFIED/DELETED; synced only after the list; managedFields stripped", async () => {
    const ns = await createTestNamespace(kc, "rt-inf");
    await cm(ns, "a");
    await cm(ns, "b");
    const informer = new Informer(new KubeHttp(kc), { resource: CoreResources.configMaps, namespaces: [ns] });
    const events = recorder(informer);
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    try {
      expect(await informer.waitForSync(10_000)).toBe(true);
      // kube-root-ca.crt is created in every namespace by the controller manager
      const names = informer.list(ns).map((o) => o.metadata?.name);
      expect(names).toEqual(expect.arrayContaining(["a", "b"]));
      expect(events).toEqual(expect.arrayContaining(["list a", "list b"]));
      const a = informer.get(ns, "a");
      expect(a?.metadata?.managedFields).toBeUndefined();
      expect(a?.metadata?.uid).toBeTruthy();
      expect(a?.kind).toBe("ConfigMap");

      events.length = 0;
      await cm(ns, "c", { x: "1" });
      await new KubeHttp(kc).request({
        method: "PATCH",
        path: objectPath(CoreResources.configMaps, { namespace: ns, name: "a" }),
        body: { data: { changed: "yes" } },
        contentType: MERGE_PATCH,
      });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: "b" });
      await waitUntil("three watch events", async () => events.length >= 3);
      expect(events).toEqual(["add c", "update a", "delete b"]);
      expect((informer.get(ns, "a") as { data?: Record<string, string> }).data).toEqual({ changed: "yes" });
      expect(informer.get(ns, "c")?.metadata?.managedFields).toBeUndefined();
      expect(informer.get(ns, "b")).toBeUndefined();
    } finally {
      await informer.stop();
    }
  });

  it("watches several namespaces, and all namespaces with a label selector", async () => {
    const ns1 = await createTestNamespace(kc, "rt-multi");
    const ns2 = await createTestNamespace(kc, "rt-multi");
    const other = await createTestNamespace(kc, "rt-multi");
    const scoped = new Informer(new KubeHttp(kc), {
      resource: CoreResources.configMaps,
      namespaces: [ns1, ns2],
    });
    const labelled = new Informer(new KubeHttp(kc), {
      resource: CoreResources.configMaps,
      labelSelector: `rt=${ns1}`,
    });
    scoped.start();
    labelled.start();
    try {
      expect(await scoped.waitForSync(10_000)).toBe(true);
      expect(await labelled.waitForSync(10_000)).toBe(true);
      await cm(ns1, "one");
      await cm(ns2, "two");
      await cm(other, "three");
      await core.createNamespacedConfigMap({
        namespace: other,
        body: { metadata: { name: "tagged", labels: { rt: ns1 } } },
      });
      await waitUntil("both scoped objects", async () => scoped.get(ns1, "one") && scoped.get(ns2, "two"));
      await waitUntil("the labelled object", async () => labelled.get(other, "tagged"));
      expect(scoped.get(other, "three")).toBeUndefined();
      expect(labelled.list().map((o) => o.metadata?.name)).toEqual(["tagged"]);
    } finally {
      await Promise.all([scoped.stop(), labelled.stop()]);
    }
  });

  it("resumes after the connection is cut, without losing the events made meanwhile", async () => {
    const ns = await createTestNamespace(kc, "rt-cut");
    const proxy = await TcpProxy.start(new URL(kc.getCurrentCluster()!.server));
    const viaProxy = new KubeConfig();
    viaProxy.loadFromString(kc.exportConfig());
    viaProxy.clusters = viaProxy.clusters.map((c) => ({ ...c, server: proxy.url }));
    const informer = new Informer(new KubeHttp(viaProxy), {
      resource: CoreResources.configMaps,
      namespaces: [ns],
      backoff: { initialMs: 1_000, maxMs: 2_000 },
    });
    const events = recorder(informer);
    informer.start();
    try {
      expect(await informer.waitForSync(10_000)).toBe(true);
      await cm(ns, "before");
      await waitUntil("add before", async () => events.includes("add before"));
      proxy.cutAll();
      // made while the informer is down (it waits ≥ 750 ms before reconnecting)
      await cm(ns, "during-1");
      await cm(ns, "during-2");
      await core.deleteNamespacedConfigMap({ namespace: ns, name: "before" });
      await waitUntil(
        "events made during the outage",
        async () => events.includes("delete before") && events.includes("add during-2"),
      );
      expect(events.filter((e) => !e.startsWith("list"))).toEqual([
        "add before",
        "add during-1",
        "add during-2",
        "delete before",
      ]);
      expect(informer.stats.errorRestarts).toBeGreaterThanOrEqual(1);
      // resumed from its resourceVersion: no relist was needed
      expect(informer.stats.lists).toBe(1);
    } finally {
      await informer.stop();
      await proxy.close();
    }
  });

  it("honours bookmarks: the resourceVersion advances while nothing in scope changes", async () => {
    const ns = await createTestNamespace(kc, "rt-bm");
    const elsewhere = await createTestNamespace(kc, "rt-bm");
    // a 5 s server timeout makes the API server send a bookmark ~2 s before it ends the watch
    const informer = new Informer(new KubeHttp(kc), {
      resource: CoreResources.configMaps,
      namespaces: [ns],
      watchTimeoutSeconds: [5, 5],
    });
    const events = recorder(informer);
    informer.start();
    try {
      expect(await informer.waitForSync(10_000)).toBe(true);
      const listed = BigInt(informer.resourceVersion());
      const created = await cm(elsewhere, "not-watched");
      const elsewhereRv = BigInt(created.metadata!.resourceVersion!);
      await waitUntil(
        "a bookmark carrying a newer resourceVersion",
        async () => informer.stats.bookmarks > 0 && BigInt(informer.resourceVersion()) >= elsewhereRv,
        20_000,
      );
      expect(BigInt(informer.resourceVersion())).toBeGreaterThan(listed);
      expect(events.filter((e) => !e.startsWith("list"))).toEqual([]);
      // the watch was re-opened from the bookmark's resourceVersion when the server ended it
      await waitUntil("a second watch", async () => informer.stats.watches >= 2, 15_000);
      expect(informer.stats.errorRestarts).toBe(0);
      expect(informer.stats.lists).toBe(1);
    } finally {
      await informer.stop();
    }
  });
});

/** A TCP proxy to the API server whose connections the test can cut (a forced network error). */
class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: URL): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        proxy.#sockets.add(s);
        s.on("close", () => proxy.#sockets.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    const address = this.#server.address();
    if (!address || typeof address === "string") throw new Error("proxy not listening");
    return `https://127.0.0.1:${address.port}`;
  }

  cutAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
