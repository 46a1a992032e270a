// One scale scenario, end to end: D FortiOS simulators (latency and limits as asked), the bound on
// them, then N rules converged by the operator running as a child process (so its RSS and CPU are
// its own), one drift cycle in steady state, a restart, and delete-all. Every figure comes from an
// outside observer: the API server's own request counters, the simulators' request counters, /proc,
// and the bench's own watch of the rules.
import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { Informer } from "../../src/runtime/informer.ts";
import type { KubeHttp } from "../../src/runtime/kube-http.ts";
import type { KubeObject, ResourceType } from "../../src/runtime/resource.ts";
import { shardOf } from "../../src/runtime/shards.ts";
import type { SimulatorHandle } from "../../test/simulators/common/types.ts";
import { freePorts } from "../../test/support/controlplane.ts";
import { operatorWrites, scrapeWrites, type WriteCounts, writesBetween } from "./apiserver.ts";
import { runBound } from "./bound.ts";
import { buildOperator, type OperatorProcess, shippedLaunch, startOperator } from "./operator.ts";
import { busyShare, cores, cpuSecondsOf, mib, sampleMachine, sampleProcess } from "./proc.ts";
import { type Samples, scrape, sum } from "./prom.ts";
import {
  ALIASES,
  aliasObject,
  deviceLimits,
  deviceManifest,
  deviceName,
  GROUP,
  type Limits,
  ruleName,
  ruleSpec,
  VERSION,
} from "./rules.ts";
import { startSimulatorProcess } from "./simulators.ts";

export interface ScenarioConfig {
  rules: number;
  devices: number;
  latencyMs: number;
  limits: Limits;
  /** Drift interval of every device; one cycle is measured in steady state. */
  driftIntervalSeconds: number;
  /** The operator's workers per rule kind (its default when absent). */
  concurrency?: number;
  /** Write a heap snapshot of the settled operator into this directory. */
  heapSnapshotDir?: string;
  /** Skip the bound (the CI smoke run only checks the operator). */
  skipBound?: boolean;
  /** Node/V8 flags of the operator process; default the image's ENTRYPOINT flags and the chart's NODE_OPTIONS. */
  nodeArgs?: string[];
  /** MALLOC_ARENA_MAX of the operator process; default the image's; "" leaves glibc's default. */
  mallocArenaMax?: string;
  /** Run the operator from its TypeScript sources (type stripping) instead of the compiled build. */
  fromSource?: boolean;
  /** Operator processes; more than one run sharded (--shards), and the restart becomes a takeover. */
  replicas?: number;
  /** Shards when replicas > 1; default 4 per replica. */
  shards?: number;
}

export interface ScenarioEnv {
  kubeconfigPath: string;
  http: KubeHttp;
  dictionary: CompiledDictionary;
  progress: (message: string) => void;
  /** The control plane's processes (API server, etcd, controller manager), when the bench started it. */
  controlPlanePids?: number[];
}

export interface ScenarioResult {
  config: ScenarioConfig;
  converged: number;
  convergeSeconds: number;
  boundCreateSeconds?: number;
  boundDeleteSeconds?: number;
  callsPerRule: number;
  apiWritesPerRule: number;
  convergeWrites: WriteCounts;
  peakRssMiB: number;
  settledRssMiB: number;
  settledAnonRssMiB: number;
  /** Settled RSS of each replica (sharded runs). */
  replicaRssMiB: number[];
  cpuSeconds: number;
  /** The machine during convergence: busy share of its cores, and what the rest of the run used. */
  machine: { cores: number; busyShare: number; controlPlaneCpuSeconds?: number; simulatorCpuSeconds: number };
  restartSeconds: number;
  /** Every rule reconciled (in sync) by the restarted operator before the timeout. */
  reverified: boolean;
  restartApplianceWrites: number;
  restartApiWrites: number;
  restartWrites: WriteCounts;
  driftCycleCalls: number;
  driftCycleApplianceWrites: number;
  driftCycleApiWrites: number;
  deleteSeconds: number;
  deleted: number;
  deleteCallsPerRule: number;
  deleteApiWritesPerRule: number;
  deleteWrites: WriteCounts;
  heapSnapshot?: string;
}

const RULES: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: "vnffirewallrules",
  kind: "VnfFirewallRule",
  namespaced: true,
};

interface RuleObject extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> };
}

function isReady(rule: RuleObject): boolean {
  const ready = rule.status?.conditions?.find((c) => c.type === "Ready");
  return ready?.status === "True" && (ready.observedGeneration ?? -1) >= (rule.metadata?.generation ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runScenario(env: ScenarioEnv, config: ScenarioConfig): Promise<ScenarioResult> {
  const { http, progress } = env;
  const label = `${config.rules} rules / ${config.devices} devices / ${config.latencyMs} ms / limits ${config.limits}`;
  const namespace = `scale-${randomBytes(3).toString("hex")}`;
  if (!config.fromSource) await buildOperator(progress);
  const limits = deviceLimits(config.limits);
  progress(`${label}: starting ${config.devices} simulators`);
  const sims: Array<SimulatorHandle & { pid: number }> = [];
  let children: OperatorProcess[] = [];
  const replicas = config.replicas ?? 1;
  const sharded = replicas > 1;
  let watcher: Informer<RuleObject> | undefined;
  try {
    for (let d = 0; d < config.devices; d++) {
      sims.push(
        await startSimulatorProcess("fortios", {
          latencyMs: config.latencyMs,
          // The appliance's own overload threshold stays above the device limit.
          maxConcurrentRequests: config.limits === "set" ? 10 : 10_000,
        }),
      );
    }
    const seed = async () => {
      for (const sim of sims)
        for (let k = 0; k < ALIASES; k++) await sim.control.putObject("address", aliasObject(k));
    };
    await seed();
    const rulesByDevice = sims.map(() => [] as number[]);
    for (let i = 0; i < config.rules; i++) rulesByDevice[i % config.devices]!.push(i);

    // ---- the bound, on the same simulators, before the operator touches them ----
    let bound: { createSeconds: number; deleteSeconds: number } | undefined;
    if (!config.skipBound) {
      progress(`${label}: bound (direct client, same limits)`);
      bound = await runBound(
        env.dictionary,
        sims.map((sim) => ({ url: sim.url, caPem: sim.caPem, credentials: sim.credentials, ...limits })),
        rulesByDevice.map((list) =>
          list.map((i) => ({ spec: ruleSpec(i, config.devices), marker: randomUUID() })),
        ),
      );
      progress(
        `${label}: bound create ${bound.createSeconds.toFixed(1)} s, delete ${bound.deleteSeconds.toFixed(1)} s`,
      );
    }

    // ---- the cluster side: namespace, Secrets, devices, rules (the operator is not running yet) ----
    await http.request({
      method: "POST",
      path: "/api/v1/namespaces",
      body: { metadata: { name: namespace } },
    });
    const nsPath = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}`;
    for (const [d, sim] of sims.entries()) {
      const name = deviceName(d);
      for (const [suffix, data] of [
        ["credentials", sim.credentials],
        ["ca", { "ca.crt": sim.caPem }],
      ] as const) {
        await http.request({
          method: "POST",
          path: `/api/v1/namespaces/${namespace}/secrets`,
          body: {
            metadata: { name: `${name}-${suffix}`, labels: { [CREDENTIALS_LABEL]: "true" } },
            stringData: data,
          },
        });
      }
      await http.request({
        method: "POST",
        path: `${nsPath}/vnfdevices`,
        body: deviceManifest(d, sim.url, config.limits, config.driftIntervalSeconds),
      });
    }
    progress(`${label}: creating ${config.rules} rules`);
    await inParallel(config.rules, 16, (i) =>
      http.request({
        method: "POST",
        path: `${nsPath}/vnffirewallrules`,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: "VnfFirewallRule",
          metadata: { name: ruleName(i) },
          spec: ruleSpec(i, config.devices),
        },
      }),
    );
    watcher = new Informer<RuleObject>(http, { resource: RULES, namespaces: [namespace] });
    watcher.start();
    await watcher.waitForSync(120_000);
    for (const sim of sims) await sim.control.clearRequests();

    // ---- convergence ----
    const simRequests = async () => {
      let n = 0;
      for (const sim of sims) n += (await sim.control.stats()).requests;
      return n;
    };
    const applianceWrites = async () => {
      let n = 0;
      for (const sim of sims) n += (await sim.control.requests()).filter((r) => r.method !== "GET").length;
      return n;
    };
    const metricsPorts = await freePorts(replicas);
    const metricsUrls = metricsPorts.map((port) => `http://127.0.0.1:${port}/metrics`);
    /** A metric summed over every replica's /metrics (a replica not answering counts 0). */
    const total = async (name: string, labels: Record<string, string> = {}) => {
      let n = 0;
      for (const url of metricsUrls) n += sum(await scrape(url).catch(() => [] as Samples), name, labels);
      return n;
    };
    const start = (i: number): Promise<OperatorProcess> =>
      startOperator({
        kubeconfigPath: env.kubeconfigPath,
        namespaces: [namespace],
        metricsAddress: `127.0.0.1:${metricsPorts[i]}`,
        env: { POD_NAME: `replica-${i}` },
        ...(sharded
          ? {
              extraArgs: [
                "--shards",
                String(config.shards ?? replicas * 4),
                "--shard-lease-namespace",
                namespace,
                "--shard-group",
                "bench",
              ],
            }
          : {}),
        ...(config.fromSource ? { fromSource: true } : {}),
        nodeArgs: [
          ...(config.nodeArgs ?? shippedLaunch().nodeArgs),
          ...(config.heapSnapshotDir
            ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${config.heapSnapshotDir}`]
            : []),
        ],
        ...(config.concurrency !== undefined ? { concurrency: config.concurrency } : {}),
        ...(config.mallocArenaMax !== undefined ? { mallocArenaMax: config.mallocArenaMax } : {}),
      });
    const writesBefore = await scrapeWrites(env.kubeconfigPath);
    const callsBefore = await simRequests();
    progress(`${label}: operator started; converging`);
    const machineBefore = sampleMachine();
    const simPids = sims.map((sim) => sim.pid);
    const planeCpuBefore = env.controlPlanePids && cpuSecondsOf(env.controlPlanePids);
    const simCpuBefore = cpuSecondsOf(simPids);
    const convergeStart = Date.now();
    children = await Promise.all(Array.from({ length: replicas }, (_, i) => start(i)));
    const timeoutMs = Math.max(600_000, (config.rules / config.devices / limits.requestsPerSecond) * 5_000);
    const converged = await waitFor(
      () => watcher!.list().filter(isReady).length,
      config.rules,
      timeoutMs,
      (n) => progress(`${label}: ${n}/${config.rules} Ready after ${secondsSince(convergeStart)} s`),
    );
    const convergeSeconds = (Date.now() - convergeStart) / 1000;
    const cpuSeconds = children.reduce((t, c) => t + (sampleProcess(c.pid)?.cpuSeconds ?? Number.NaN), 0);
    const machine = {
      cores: cores(),
      busyShare: busyShare(machineBefore, sampleMachine()),
      ...(env.controlPlanePids && planeCpuBefore !== undefined
        ? { controlPlaneCpuSeconds: cpuSecondsOf(env.controlPlanePids) - planeCpuBefore }
        : {}),
      simulatorCpuSeconds: cpuSecondsOf(simPids) - simCpuBefore,
    };
    const convergeWrites = writesBetween(writesBefore, await scrapeWrites(env.kubeconfigPath));
    const calls = (await simRequests()) - callsBefore;
    progress(`${label}: ${converged} Ready in ${convergeSeconds.toFixed(1)} s`);

    // ---- steady state: one drift cycle (every device checked once) ----
    const checks = () => total("vnf_drift_checks_total");
    const cycleTimeout = config.driftIntervalSeconds * 3_000 + 60_000;
    const base = await checks();
    await waitFor(checks, base + 1, cycleTimeout);
    for (const sim of sims) await sim.control.clearRequests();
    const cycleCallsBefore = await simRequests();
    const cycleWritesBefore = await scrapeWrites(env.kubeconfigPath);
    await waitFor(checks, base + 1 + config.devices, cycleTimeout);
    const driftCycleCalls = (await simRequests()) - cycleCallsBefore;
    const driftCycleApplianceWrites = await applianceWrites();
    const driftCycleApiWrites = operatorWrites(
      writesBetween(cycleWritesBefore, await scrapeWrites(env.kubeconfigPath)),
    );
    const samples = children.map((c) => sampleProcess(c.pid));
    const settled = samples.reduce((a, b) => ((b?.rssBytes ?? 0) > (a?.rssBytes ?? 0) ? b : a), samples[0]);
    const replicaRssMiB = samples.map((p) => mib(p?.rssBytes ?? Number.NaN));
    let heapSnapshot: string | undefined;
    if (config.heapSnapshotDir && children[0])
      heapSnapshot = await writeHeapSnapshot(children[0].pid, config.heapSnapshotDir);

    // ---- restart: a new process must re-verify every rule without writing. Sharded: one replica is
    // killed (no release) and the others must take its shards over and re-verify its rules. ----
    for (const sim of sims) await sim.control.clearRequests();
    const restartWritesBefore = await scrapeWrites(env.kubeconfigPath);
    const rule = { controller: "vnffirewallrule" };
    const successes = () => total("controller_runtime_reconcile_total", { ...rule, result: "success" });
    let before = 0;
    let restartStart: number;
    /** The rules the restarted (or surviving) replicas must re-verify. */
    let toVerify = config.rules;
    if (sharded) {
      progress(`${label}: killing replica-0 (its shards must be taken over)`);
      const lostShards = new Set(
        (await shardHolders(http, namespace))
          .filter(([, holder]) => holder === "replica-0")
          .map(([name]) => Number(name.slice(name.lastIndexOf("-") + 1))),
      );
      const shards = config.shards ?? replicas * 4;
      toVerify = 0;
      for (let i = 0; i < config.rules; i++) {
        if (lostShards.has(shardOf(`${namespace}/${deviceName(i % config.devices)}`, shards))) toVerify++;
      }
      const lost = lostShards.size;
      // The survivors' count before the kill: replica-0's /metrics leaves the sum with it.
      metricsUrls.shift();
      before = await successes();
      await children[0]?.kill();
      restartStart = Date.now();
      children = children.slice(1);
      // Taken over: no shard held by the dead replica, and its rules reconciled again by the others.
      await waitFor(
        async () =>
          (await shardHolders(http, namespace)).some(([, h]) => h === "replica-0" || h === "") ? 0 : 1,
        1,
        timeoutMs,
      );
      progress(`${label}: ${lost} shard(s) taken over after ${secondsSince(restartStart)} s`);
    } else {
      await children[0]?.stop();
      progress(`${label}: restarting the operator`);
      restartStart = Date.now();
      children = [await start(0)];
    }
    const reverified = async () => {
      const idle =
        (await total("workqueue_depth", rule)) === 0 &&
        (await total("controller_runtime_active_workers", rule)) === 0;
      return idle ? (await successes()) - before : 0;
    };
    // Sharded, only the dead replica's rules are reconciled again.
    const reverifiedRules = await waitFor(reverified, toVerify, timeoutMs);
    const restartSeconds = (Date.now() - restartStart) / 1000;
    const restartWrites = writesBetween(restartWritesBefore, await scrapeWrites(env.kubeconfigPath));
    const restartApplianceWrites = await applianceWrites();

    // ---- delete-all ----
    const deleteWritesBefore = await scrapeWrites(env.kubeconfigPath);
    const deleteCallsBefore = await simRequests();
    progress(`${label}: deleting every rule`);
    const deleteStart = Date.now();
    // One DELETE per rule, 16 at a time (as `kubectl delete --all` or a GitOps prune sends them).
    await inParallel(config.rules, 16, (i) =>
      http.request({ method: "DELETE", path: `${nsPath}/vnffirewallrules/${ruleName(i)}` }),
    );
    await waitFor(
      () => config.rules - watcher!.list().length,
      config.rules,
      timeoutMs,
      (n) => progress(`${label}: ${n}/${config.rules} deleted after ${secondsSince(deleteStart)} s`),
    );
    const deleted = config.rules - watcher.list().length;
    const deleteSeconds = (Date.now() - deleteStart) / 1000;
    const deleteWrites = writesBetween(deleteWritesBefore, await scrapeWrites(env.kubeconfigPath));
    const deleteCalls = (await simRequests()) - deleteCallsBefore;

    return {
      config,
      converged,
      convergeSeconds,
      ...(bound ? { boundCreateSeconds: bound.createSeconds, boundDeleteSeconds: bound.deleteSeconds } : {}),
      callsPerRule: calls / config.rules,
      apiWritesPerRule: operatorWrites(convergeWrites) / config.rules,
      convergeWrites,
      peakRssMiB: mib(settled?.peakRssBytes ?? Number.NaN),
      settledRssMiB: mib(settled?.rssBytes ?? Number.NaN),
      settledAnonRssMiB: mib(settled?.anonRssBytes ?? Number.NaN),
      replicaRssMiB,
      cpuSeconds,
      machine,
      restartSeconds,
      reverified: reverifiedRules >= toVerify,
      restartApplianceWrites,
      restartApiWrites: operatorWrites(restartWrites),
      restartWrites,
      driftCycleCalls,
      driftCycleApplianceWrites,
      driftCycleApiWrites,
      deleteSeconds,
      deleted,
      deleteCallsPerRule: deleteCalls / config.rules,
      // The bench's own DELETEs are not the operator's.
      deleteApiWritesPerRule: (operatorWrites(deleteWrites) - config.rules) / config.rules,
      deleteWrites,
      ...(heapSnapshot ? { heapSnapshot } : {}),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await watcher?.stop();
    // The devices' finalizer (rules-first) is the operator's to release, and the operator is gone:
    // take it off, or the namespace stays Terminating and the namespace controller's DELETEs (one per
    // resource type, retried) land in the next scenario's API-server write counts.
    for (let d = 0; d < config.devices; d++) {
      await http
        .request({
          method: "PATCH",
          path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/vnfdevices/${deviceName(d)}`,
          body: { metadata: { finalizers: null } },
          contentType: "application/merge-patch+json",
        })
        .catch(() => undefined);
    }
    await http.request({ method: "DELETE", path: `/api/v1/namespaces/${namespace}` }).catch(() => undefined);
    await Promise.all(sims.map((sim) => sim.stop()));
    await namespaceGone(http, namespace);
  }
}

async function namespaceGone(http: KubeHttp, namespace: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const found = await http
      .request({ method: "GET", path: `/api/v1/namespaces/${namespace}` })
      .then(() => true)
      .catch(() => false);
    if (!found) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Runs task(0..count-1) with at most `width` in flight. */
async function inParallel(
  count: number,
  width: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Polls until value() >= target (returns the last value), reporting progress every 10 s. */
async function waitFor(
  value: () => number | Promise<number>,
  target: number,
  timeoutMs: number,
  report?: (n: number) => void,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    const n = await value();
    if (n >= target) return n;
    if (Date.now() > deadline) return n;
    if (report && Date.now() - lastReport >= 10_000) {
      report(n);
      lastReport = Date.now();
    }
    await sleep(200);
  }
}

function secondsSince(t: number): string {
  return ((Date.now() - t) / 1000).toFixed(0);
}

/** Signals the child (started with --heapsnapshot-signal) and waits until its snapshot is complete. */
async function writeHeapSnapshot(pid: number, dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  process.kill(pid, "SIGUSR2");
  const deadline = Date.now() + 600_000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await sleep(2000);
    const file = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (!file) continue;
    const full = path.join(dir, file);
    // The snapshot is one JSON document: complete once it ends with its closing brace.
    const size = statSync(full).size;
    const growing = size !== lastSize;
    lastSize = size;
    if (size === 0 || growing) continue;
    const tail = Buffer.alloc(1);
    const fd = openSync(full, "r");
    readSync(fd, tail, 0, 1, size - 1);
    closeSync(fd);
    if (tail.toString() === "}") return full;
  }
  return undefined;
}

/** [shard Lease name, holder] of the bench's shard group. */
async function shardHolders(http: KubeHttp, namespace: string): Promise<Array<[string, string]>> {
  const list = await http.request<{
    items?: Array<{ metadata: { name: string }; spec?: { holderIdentity?: string } }>;
  }>({
    method: "GET",
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
    query: { labelSelector: "vnf-operator.io/shard-role=shard" },
  });
  return (list.items ?? []).map((l) => [l.metadata.name, l.spec?.holderIdentity ?? ""]);
}
