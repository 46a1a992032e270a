// Fault paths the real API server won't produce on demand: 410 Gone (HTTP and watch ERROR event),
// a silently stalled watch, 403/500 on a list, a dropped connection.
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Informer, type InformerOptions } from "../../src/runtime/informer.ts";
import { KubeHttp } from "../../src/runtime/kube-http.ts";
import { createLogger } from "../../src/runtime/logging.ts";
import { CoreResources } from "../../src/runtime/resource.ts";
import { configMapList, FakeApiServer, status } from "../support/fake-apiserver.ts";
import { waitUntil } from "../support/kube.ts";

let server: FakeApiServer;
let informer: Informer | undefined;

beforeEach(async () => {
  server = await FakeApiServer.start();
});

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await server.close();
});

function start(options: Partial<InformerOptions> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "debug",
    destination: new Writable({
      write(chunk, _e, cb) {
        lines.push(JSON.parse(chunk.toString()));
        cb();
      },
    }),
  });
  const events: string[] = [];
  informer = new Informer(new KubeHttp(server.kubeConfig()), {
    resource: CoreResources.configMaps,
    namespaces: ["ns"],
    logger,
    resyncPeriodMs: 0,
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  informer.addEventHandler({
    onAdd: (o) => events.push(`add ${o.metadata?.name}`),
    onUpdate: (_o, n) => events.push(`update ${n.metadata?.name}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  informer.start();
  return { informer, events, lines };
}

describe("informer against a scripted API server", () => {
  it("relists after an HTTP 410 on the watch, then watches from the new resourceVersion", async () => {
    let listRv = 10;
    server.onRequest = () => ({
      status: 200,
      body: configMapList(String(listRv), listRv === 10 ? ["a"] : ["a", "b"]),
    });
    server.onWatch = (watch) => {
      if (server.watches.length === 1) {
        listRv = 20;
        watch.fail(410, "Expired", "too old resource version: 10 (15)");
      } else watch.open();
    };
    const { informer, events } = start();
    const second = await server.waitForWatch(2);
    expect(server.watches[0]!.request.query.get("resourceVersion")).toBe("10");
    expect(second.request.query.get("resourceVersion")).toBe("20");
    expect(server.lists()).toHaveLength(2);
    expect(informer.stats.relists).toBe(1);
    expect(events).toEqual(["add a", "add b"]);
    expect(informer.get("ns", "b")?.metadata?.managedFields).toBeUndefined();
  });

  it("relists after a 410 ERROR event inside the stream", async () => {
    let listRv = 10;
    server.onRequest = () => ({
      status: 200,
      body: configMapList(String(listRv), listRv === 10 ? ["a", "b"] : ["b"]),
    });
    const { informer, events } = start();
    const first = await server.waitForWatch(1);
    first.send("ADDED", { metadata: { name: "c", namespace: "ns", resourceVersion: "11" } });
    listRv = 30;
    first.send("ERROR", status(410, "Expired", "The resourceVersion for the provided watch is too old."));
    const second = await server.waitForWatch(2);
    expect(second.request.query.get("resourceVersion")).toBe("30");
    // a and c vanished while we were out of date: both reported deleted; b unchanged
    await waitUntil("delete events", async () => events.length >= 5);
    expect(events.sort()).toEqual(["add a", "add b", "add c", "delete a", "delete c"]);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["b"]);
  });

  it("restarts a watch that went silent (idle watchdog) and closes the stalled connection", async () => {
    server.onRequest = () => ({ status: 200, body: configMapList("10", ["a"]) });
    const { informer, lines } = start({ idleTimeoutMs: 1_000 });
    const first = await server.waitForWatch(1);
    first.open(); // headers, then nothing at all: a half-open connection
    const second = await server.waitForWatch(2);
    await first.closed;
    expect(second.request.query.get("resourceVersion")).toBe("10");
    expect(informer.stats.watchdogRestarts).toBe(1);
    expect(server.lists()).toHaveLength(1);
    expect(lines.some((l) => String(l.error ?? "").includes("sent nothing"))).toBe(true);
  });

  it("keeps a watch alive while bookmarks arrive, and adopts their resourceVersion", async () => {
    server.onRequest = () => ({ status: 200, body: configMapList("10", []) });
    const { informer } = start({ idleTimeoutMs: 1_000 });
    const first = await server.waitForWatch(1);
    for (let i = 1; i <= 4; i++) {
      await new Promise((r) => setTimeout(r, 400));
      first.send("BOOKMARK", {
        kind: "ConfigMap",
        apiVersion: "v1",
        metadata: { resourceVersion: String(100 + i) },
      });
    }
    await waitUntil("bookmark rv", async () => informer.resourceVersion() === "104");
    expect(server.watches).toHaveLength(1);
    expect(informer.stats.watchdogRestarts).toBe(0);
    first.destroy();
    const second = await server.waitForWatch(2);
    expect(second.request.query.get("resourceVersion")).toBe("104");
  });

  it("warns clearly on 403, keeps retrying with backoff, and syncs once allowed", async () => {
    let allowed = false;
    server.onRequest = () =>
      allowed
        ? { status: 200, body: configMapList("10", ["a"]) }
        : { status: 403, body: status(403, "Forbidden", 'configmaps is forbidden: User "x" cannot list') };
    const { informer, lines } = start();
    await waitUntil("three failed lists", async () => server.lists().length >= 3);
    expect(informer.hasSynced()).toBe(false);
    const warning = lines.find((l) => l.level === "warn" && String(l.msg).includes("RBAC"));
    expect(warning).toMatchObject({ status: 403 });
    allowed = true;
    expect(await informer.waitForSync(5_000)).toBe(true);
  });

  it("restarts after a dropped connection and a 500 on the watch", async () => {
    server.onRequest = () => ({ status: 200, body: configMapList("10", []) });
    server.onWatch = (watch) => {
      const n = server.watches.length;
      if (n === 2) watch.fail(500, "InternalError");
      else watch.open();
    };
    const { informer, events } = start();
    const first = await server.waitForWatch(1);
    first.send("ADDED", { metadata: { name: "x", namespace: "ns", resourceVersion: "11" } });
    await waitUntil("add x", async () => events.includes("add x"));
    first.destroy();
    const third = await server.waitForWatch(3);
    expect(third.request.query.get("resourceVersion")).toBe("11");
    expect(informer.stats.errorRestarts).toBe(2);
    expect(server.lists()).toHaveLength(1);
  });
});
