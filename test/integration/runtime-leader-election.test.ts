// Leader election with two managers against the real API server: one leader at a time; the follower
// takes over fast after a released lease, and only after expiry when the leader is killed.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubeHttp } from "../../src/runtime/kube-http.ts";
import { Manager } from "../../src/runtime/manager.ts";
import { CoreResources, objectPath } from "../../src/runtime/resource.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";

const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

let kc: KubeConfig;
const cleanups: Array<() => Promise<unknown> | undefined> = [];

beforeAll(() => {
  kc = testKubeConfig();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function candidate(ns: string, lease: string, identity: string) {
  const reconciled: string[] = [];
  const mgr = new Manager({
    kubeConfig: kc,
    namespaces: [ns],
    probeAddress: "0",
    metricsAddress: "0",
    leaderElection: { namespace: ns, name: lease, identity, ...TIMINGS },
  });
  mgr.addController({
    name: `cm-${identity}`,
    for: mgr.informer(CoreResources.configMaps),
    reconcile: async (key) => {
      reconciled.push(key.name);
      return undefined;
    },
  });
  cleanups.push(() => mgr.stop());
  return { mgr, reconciled };
}

async function holder(ns: string, lease: string): Promise<string> {
  const obj = await new KubeHttp(kc).request<{ spec?: { holderIdentity?: string } }>({
    method: "GET",
    path: objectPath(CoreResources.leases, { namespace: ns, name: lease }),
  });
  return obj.spec?.holderIdentity ?? "";
}

describe("leader election between two managers", () => {
  it("only one leads; the follower takes over quickly after the leader releases on shutdown", async () => {
    const ns = await createTestNamespace(kc, "rt-le");
    const a = candidate(ns, "vnf-operator", "a");
    const b = candidate(ns, "vnf-operator", "b");
    await a.mgr.start();
    await a.mgr.elected();
    await b.mgr.start();
    expect(await holder(ns, "vnf-operator")).toBe("a");

    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "work" } } });
    await waitUntil("the leader reconciles", async () => a.reconciled.includes("work"));
    // watch both for 3 s (six retry periods): never two leaders, the follower never reconciles
    for (let i = 0; i < 60; i++) {
      expect(a.mgr.isLeader() && b.mgr.isLeader()).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(b.mgr.isLeader()).toBe(false);
    expect(b.reconciled).toEqual([]);
    // the follower's cache is warm all the same
    expect(b.mgr.informer(CoreResources.configMaps).get(ns, "work")).toBeDefined();

    const stoppedAt = Date.now();
    expect((await a.mgr.stop("rolling update")).exitCode).toBe(0);
    await b.mgr.elected();
    const takeoverMs = Date.now() - stoppedAt;
    process.stderr.write(`[leader election] takeover after a released lease: ${takeoverMs} ms\n`);
    // released: the follower acquires at its next retry (≤ 500 ms × 2.2), far below the 3 s lease
    expect(takeoverMs).toBeLessThan(2_500);
    expect(await holder(ns, "vnf-operator")).toBe("b");
    await waitUntil("the new leader reconciles existing objects", async () => b.reconciled.includes("work"));
    const metrics = await b.mgr.metrics.registry.getSingleMetricAsString("leader_election_master_status");
    expect(metrics).toContain('leader_election_master_status{name="vnf-operator"} 1');
  });

  it("a killed leader (no release) is replaced only after its lease expires", async () => {
    const ns = await createTestNamespace(kc, "rt-kill");
    const child = spawnLeader(ns, "vnf-operator", "doomed");
    cleanups.push(async () => {
      child.process.kill("SIGKILL");
    });
    await waitUntil("the child process leads", async () => child.output().includes("LEADING"), 20_000);
    expect(await holder(ns, "vnf-operator")).toBe("doomed");

    const b = candidate(ns, "vnf-operator", "survivor");
    await b.mgr.start();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.mgr.isLeader()).toBe(false);

    const killedAt = Date.now();
    child.process.kill("SIGKILL");
    await b.mgr.elected();
    const takeoverMs = Date.now() - killedAt;
    process.stderr.write(`[leader election] takeover after a killed leader: ${takeoverMs} ms\n`);
    // it had to wait for the lease (3 s from its last observed renewal) to run out
    expect(takeoverMs).toBeGreaterThan(1_500);
    expect(takeoverMs).toBeLessThan(8_000);
    expect(await holder(ns, "vnf-operator")).toBe("survivor");
  }, 60_000);
});

describe("losing the lease", () => {
  it("stops the controllers at once (in-flight reconciles aborted) and exits non-zero, without releasing", async () => {
    const ns = await createTestNamespace(kc, "rt-lost");
    const mgr = new Manager({
      kubeConfig: kc,
      namespaces: [ns],
      probeAddress: "0",
      metricsAddress: "0",
      gracefulShutdownTimeoutMs: 30_000,
      leaderElection: { namespace: ns, name: "vnf-operator", identity: "victim", ...TIMINGS },
    });
    cleanups.push(() => mgr.stop());
    let inFlight: AbortSignal | undefined;
    mgr.addController({
      name: "victim",
      for: mgr.informer(CoreResources.configMaps),
      reconcile: async (key, ctx) => {
        if (key.name !== "long") return undefined;
        inFlight = ctx.signal;
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        return undefined;
      },
    });
    await mgr.start();
    await mgr.elected();
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "long" } } });
    await waitUntil("the long reconcile is in flight", async () => inFlight !== undefined);

    // another replica takes the Lease over (as after a partition); our next renewal sees it
    const http = new KubeHttp(kc);
    const path = objectPath(CoreResources.leases, { namespace: ns, name: "vnf-operator" });
    const lease = await http.request<{ metadata: Record<string, unknown>; spec: Record<string, unknown> }>({
      method: "GET",
      path,
    });
    const now = new Date().toISOString().replace("Z", "000Z");
    await http.request({
      method: "PUT",
      path,
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "usurper", renewTime: now, acquireTime: now },
      },
    });
    const lostAt = Date.now();
    const exit = await mgr.done;
    expect(exit).toEqual({ exitCode: 1, reason: "leader election lost" });
    // well below the 30 s graceful timeout: the in-flight reconcile was aborted, not drained
    expect(Date.now() - lostAt).toBeLessThan(5_000);
    expect(inFlight?.aborted).toBe(true);
    expect(await holder(ns, "vnf-operator")).toBe("usurper");
  });
});

/** Runs a manager with leader election in a separate Node process that the test can SIGKILL. */
function spawnLeader(ns: string, lease: string, identity: string) {
  const runtimeUrl = pathToFileURL(path.resolve("src/runtime/index.ts")).href;
  const script = `
    const { Manager } = await import(${JSON.stringify(runtimeUrl)});
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    kc.loadFromFile(process.env.TEST_KUBECONFIG);
    const mgr = new Manager({
      kubeConfig: kc, namespaces: [${JSON.stringify(ns)}], probeAddress: "0", metricsAddress: "0",
      leaderElection: { namespace: ${JSON.stringify(ns)}, name: ${JSON.stringify(lease)}, identity: ${JSON.stringify(identity)},
        leaseDurationMs: ${TIMINGS.leaseDurationMs}, renewDeadlineMs: ${TIMINGS.renewDeadlineMs}, retryPeriodMs: ${TIMINGS.retryPeriodMs} },
    });
    await mgr.start();
    await mgr.elected();
    console.log("LEADING");
    setInterval(() => {}, 1000);
  `;
  let out = "";
  const proc: ChildProcess = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: process.cwd(),
    env: { ...process.env, TEST_KUBECONFIG: kubeconfigPath() },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return { process: proc, output: () => out };
}
