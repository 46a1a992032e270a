// Manager + Controller end to end on ConfigMaps against the real API server: keys reach reconcile, a
// change during a reconcile re-queues exactly once, requeueAfter and retries are honoured; probes and
// metrics are served with controller-runtime's names; graceful shutdown drains and releases the lease.
import { EventEmitter } from "node:events";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TerminalError } from "../../src/runtime/controller.ts";
import { KubeHttp } from "../../src/runtime/kube-http.ts";
import { Manager } from "../../src/runtime/manager.ts";
import { CoreResources, type ObjectKey, objectPath } from "../../src/runtime/resource.ts";
import { runUntilSignal } from "../../src/runtime/shutdown.ts";
import { createTestNamespace, testKubeConfig, waitUntil } from "../support/kube.ts";

let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(() => {
  kc = testKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
});

function touch(namespace: string, name: string, value: string) {
  return core.replaceNamespacedConfigMap({
    namespace,
    name,
    body: { metadata: { name }, data: { v: value } },
  });
}

describe("Controller on ConfigMaps through a Manager", () => {
  let ns: string;
  let mgr: Manager;
  const calls: Array<{ key: ObjectKey; at: number; id: string }> = [];
  let releaseSlow!: () => void;
  const slowGate = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });
  let flakyFailures = 2;
  const count = (name: string) => calls.filter((c) => c.key.name === name).length;

  beforeAll(async () => {
    ns = await createTestNamespace(kc, "rt-ctrl");
    mgr = new Manager({
      kubeConfig: kc,
      namespaces: [ns],
      probeAddress: "127.0.0.1:0",
      metricsAddress: "127.0.0.1:0",
    });
    const configMaps = mgr.informer(CoreResources.configMaps);
    mgr.addController({
      name: "configmaps",
      for: configMaps,
      maxConcurrentReconciles: 2,
      reconcile: async (key, ctx) => {
        calls.push({ key, at: Date.now(), id: ctx.reconcileID });
        if (key.name === "slow" && count("slow") === 1) await slowGate;
        if (key.name === "periodic") return { requeueAfterMs: 300 };
        if (key.name === "flaky" && flakyFailures-- > 0) throw new Error("appliance timed out");
        if (key.name === "terminal") throw new TerminalError("spec can never work");
        return undefined;
      },
    });
    await mgr.start();
  });

  afterAll(async () => {
    releaseSlow();
    await mgr.stop();
  });

  it("reconciles keys, not events: namespace/name of each object", async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "plain" } } });
    await waitUntil("plain reconciled", async () => count("plain") > 0);
    expect(calls.find((c) => c.key.name === "plain")?.key).toEqual({ namespace: ns, name: "plain" });
  });

  it("a change during a reconcile re-queues the key exactly once", async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "slow" } } });
    await waitUntil("slow started", async () => count("slow") === 1);
    let last = "";
    for (const v of ["1", "2", "3"]) last = (await touch(ns, "slow", v)).metadata!.resourceVersion!;
    const informer = mgr.informer(CoreResources.configMaps);
    await waitUntil(
      "the cache has the last change",
      async () => informer.get(ns, "slow")?.metadata?.resourceVersion === last,
    );
    expect(count("slow")).toBe(1);
    releaseSlow();
    await waitUntil("the second pass", async () => count("slow") === 2);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(count("slow")).toBe(2);
    const ids = calls.filter((c) => c.key.name === "slow").map((c) => c.id);
    expect(new Set(ids).size).toBe(2);
  });

  it("honours requeueAfter", async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "periodic" } } });
    await waitUntil("four periodic reconciles", async () => count("periodic") >= 4, 10_000);
    const times = calls.filter((c) => c.key.name === "periodic").map((c) => c.at);
    for (let i = 1; i < 4; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(290);
  });

  it("retries errors with backoff until success, and never retries a TerminalError", async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "flaky" } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "terminal" } } });
    await waitUntil("flaky succeeded", async () => count("flaky") === 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(count("flaky")).toBe(3);
    expect(count("terminal")).toBe(1);
  });

  it("serves /healthz, /readyz (verbose, per check, exclude) and /metrics with controller-runtime names", async () => {
    const probe = mgr.probes.probeUrl!;
    const metricsUrl = mgr.probes.metricsUrl!;
    expect(probe).not.toBe(metricsUrl);
    const healthz = await fetch(`${probe}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, "ok"]);
    const verbose = await (await fetch(`${probe}/readyz?verbose`)).text();
    expect(verbose).toContain("[+]informers-synced ok");
    expect(verbose).toContain("readyz check passed");
    expect(await (await fetch(`${probe}/readyz/informers-synced`)).text()).toBe("ok");
    expect((await fetch(`${probe}/readyz?exclude=informers-synced&verbose`)).status).toBe(200);
    expect((await fetch(`${probe}/metrics`)).status).toBe(404);

    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    for (const result of ["success", "error", "requeue", "requeue_after"]) {
      expect(text).toMatch(
        new RegExp(`controller_runtime_reconcile_total\\{controller="configmaps",result="${result}"\\} \\d+`),
      );
    }
    const value = (pattern: string) => Number(new RegExp(`${pattern} (\\d+(?:\\.\\d+)?)`).exec(text)?.[1]);
    expect(
      value('controller_runtime_reconcile_errors_total\\{controller="configmaps"\\}'),
    ).toBeGreaterThanOrEqual(3);
    expect(value('controller_runtime_terminal_reconcile_errors_total\\{controller="configmaps"\\}')).toBe(1);
    expect(value('controller_runtime_max_concurrent_reconciles\\{controller="configmaps"\\}')).toBe(2);
    expect(
      value('workqueue_retries_total\\{name="configmaps",controller="configmaps"\\}'),
    ).toBeGreaterThanOrEqual(2);
    for (const name of [
      "controller_runtime_reconcile_panics_total",
      "controller_runtime_reconcile_time_seconds_bucket",
      "controller_runtime_active_workers",
      "workqueue_depth",
      "workqueue_adds_total",
      "workqueue_queue_duration_seconds_bucket",
      "workqueue_work_duration_seconds_bucket",
      "workqueue_unfinished_work_seconds",
      "workqueue_longest_running_processor_seconds",
    ]) {
      expect(text).toContain(`${name}{`);
    }
    const host = new URL(kc.getCurrentCluster()!.server).host;
    expect(text).toContain(`rest_client_requests_total{code="200",method="GET",host="${host}"}`);
  });
});

describe("graceful shutdown", () => {
  it("drains an in-flight reconcile, releases the lease, and closes the probe server last", async () => {
    const ns = await createTestNamespace(kc, "rt-stop");
    const mgr = new Manager({
      kubeConfig: kc,
      namespaces: [ns],
      probeAddress: "127.0.0.1:0",
      metricsAddress: "127.0.0.1:0",
      leaderElection: {
        namespace: ns,
        name: "rt-stop",
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 500,
      },
    });
    let started = false;
    let finished = false;
    let abortedSignal = false;
    mgr.addController({
      name: "drain",
      for: mgr.informer(CoreResources.configMaps),
      reconcile: async (key, ctx) => {
        if (key.name !== "inflight") return undefined;
        started = true;
        await new Promise((r) => setTimeout(r, 1_500));
        abortedSignal = ctx.signal.aborted;
        finished = true;
        return undefined;
      },
    });
    await mgr.start();
    await mgr.elected();
    const metricsText = await (await fetch(`${mgr.probes.metricsUrl}/metrics`)).text();
    expect(metricsText).toContain('leader_election_master_status{name="rt-stop"} 1');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "inflight" } } });
    await waitUntil("reconcile in flight", async () => started);
    const probe = mgr.probes.probeUrl!;
    const stopping = mgr.stop("test");
    // still serving probes while draining
    expect((await fetch(`${probe}/healthz`)).status).toBe(200);
    expect(finished).toBe(false);
    const exit = await stopping;
    expect(exit).toEqual({ exitCode: 0, reason: "test" });
    expect(finished).toBe(true);
    expect(abortedSignal).toBe(false);
    const lease = await new KubeHttp(kc).request<{
      spec: { holderIdentity?: string; leaseDurationSeconds: number };
    }>({
      method: "GET",
      path: objectPath(CoreResources.leases, { namespace: ns, name: "rt-stop" }),
    });
    expect(lease.spec.holderIdentity ?? "").toBe("");
    expect(lease.spec.leaseDurationSeconds).toBe(1);
    await expect(fetch(`${probe}/healthz`)).rejects.toThrow();
  });

  it("aborts reconciles that outlive the graceful timeout; SIGTERM stops, a second signal aborts", async () => {
    const ns = await createTestNamespace(kc, "rt-sig");
    const mgr = new Manager({
      kubeConfig: kc,
      namespaces: [ns],
      probeAddress: "0",
      metricsAddress: "0",
      gracefulShutdownTimeoutMs: 300,
    });
    let sawAbort = false;
    let started = false;
    mgr.addController({
      name: "stuck",
      for: mgr.informer(CoreResources.configMaps),
      reconcile: async (key, ctx) => {
        if (key.name !== "stuck") return undefined;
        started = true;
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        sawAbort = true;
        return undefined;
      },
    });
    const signals = new EventEmitter();
    const exitCode = runUntilSignal(mgr, {
      source: signals as unknown as Pick<NodeJS.Process, "on" | "off">,
    });
    await mgr.elected();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "stuck" } } });
    await waitUntil("stuck reconcile started", async () => started);
    signals.emit("SIGTERM", "SIGTERM");
    expect(await exitCode).toBe(0);
    expect(sawAbort).toBe(true);

    // a second signal aborts at once
    const mgr2 = new Manager({ kubeConfig: kc, namespaces: [ns], probeAddress: "0", metricsAddress: "0" });
    const signals2 = new EventEmitter();
    const exit2 = runUntilSignal(mgr2, { source: signals2 as unknown as Pick<NodeJS.Process, "on" | "off"> });
    await mgr2.elected();
    signals2.emit("SIGTERM", "SIGTERM");
    signals2.emit("SIGINT", "SIGINT");
    expect(await exit2).toBe(1);
    await mgr2.done;
  });
});
