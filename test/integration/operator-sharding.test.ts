// Sharding beyond one replica (--shards): three `vnf-operator run` processes split six FortiOS devices
// between them through per-shard Leases, and rules follow their device. While 120 rules converge, one
// replica is killed (SIGKILL: its Leases are not released) and another one joins. Every rule converges,
// exactly one policy per rule exists, and each device's appliance writes came from one replica at a
// time: the simulators log every request with the replica's User-Agent, and a write by another replica
// never starts before the previous one's last write on that device has been answered.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OperatorProcess, startOperator } from "../../bench/scale/operator.ts";
import { aliasObject, deviceManifest, ruleSpec } from "../../bench/scale/rules.ts";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import { KubeHttp } from "../../src/runtime/kube-http.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { installCrds } from "../support/crd-install.ts";
import { kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import { GROUP, ruleMarkerText, VERSION } from "../support/operator-env.ts";

const DEVICES = 6;
const RULES_PER_DEVICE = 20;
const LEASE_SECONDS = 3;
const namespace = `shards-${randomBytes(3).toString("hex")}`;
const sims: SimulatorHandle[] = [];
const replicas = new Map<string, OperatorProcess>();
let http: KubeHttp;

interface Rule {
  metadata: { name: string; uid: string; generation?: number };
  spec: { deviceRef: { name: string } };
  status?: { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> };
}

async function replica(name: string): Promise<OperatorProcess> {
  const child = await startOperator({
    kubeconfigPath: kubeconfigPath(),
    namespaces: [namespace],
    metricsAddress: "0",
    fromSource: true,
    nodeArgs: [],
    extraArgs: [
      "--shards",
      String(DEVICES),
      "--shard-lease-namespace",
      namespace,
      "--shard-group",
      "test",
      "--shard-lease-duration",
      String(LEASE_SECONDS),
      "--health-interval",
      "5",
    ],
    env: { POD_NAME: name, VNF_LOG_LEVEL: process.env.VNF_TEST_LOG_LEVEL ?? "warn" },
  });
  replicas.set(name, child);
  return child;
}

async function rules(): Promise<Rule[]> {
  const list = await http.request<{ items: Rule[] }>({
    method: "GET",
    path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/vnffirewallrules`,
  });
  return list.items;
}

const ready = (r: Rule) =>
  r.status?.conditions?.some(
    (c) =>
      c.type === "Ready" &&
      c.status === "True" &&
      (c.observedGeneration ?? 0) >= (r.metadata.generation ?? 0),
  ) ?? false;

async function shardHolders(): Promise<Map<string, string>> {
  const list = await http.request<{
    items: Array<{ metadata: { name: string }; spec?: { holderIdentity?: string } }>;
  }>({
    method: "GET",
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
  });
  return new Map(
    list.items
      .filter((l) => l.metadata.name.startsWith("test-shard-"))
      .map((l) => [l.metadata.name, l.spec?.holderIdentity ?? ""]),
  );
}

beforeAll(async () => {
  const kc = testKubeConfig();
  await installCrds(kc);
  http = KubeHttp.for(kc);
  await http.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: namespace } } });
  for (let d = 0; d < DEVICES; d++) {
    const sim = await startSimulator("fortios", { maxConcurrentRequests: 1000 });
    sims.push(sim);
    for (let k = 0; k < 20; k++) await sim.control.putObject("address", aliasObject(k));
    for (const [suffix, data] of [
      ["credentials", sim.credentials],
      ["ca", { "ca.crt": sim.caPem }],
    ] as const) {
      await http.request({
        method: "POST",
        path: `/api/v1/namespaces/${namespace}/secrets`,
        body: {
          metadata: { name: `fgt-${d}-${suffix}`, labels: { [CREDENTIALS_LABEL]: "true" } },
          stringData: data,
        },
      });
    }
    const device = deviceManifest(d, sim.url, "set", 600) as { spec: Record<string, unknown> };
    device.spec.limits = { maxConcurrentRequests: 4, requestsPerSecond: 20 };
    await http.request({
      method: "POST",
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/vnfdevices`,
      body: device,
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([...replicas.values()].map((r) => r.stop()));
  await Promise.all(sims.map((s) => s.stop()));
  await http?.request({ method: "DELETE", path: `/api/v1/namespaces/${namespace}` }).catch(() => undefined);
});

describe("sharding: three replicas, one killed and one added while rules converge", () => {
  it("converges every rule once, each device written by one replica at a time", async () => {
    await Promise.all(["replica-a", "replica-b", "replica-c"].map((name) => replica(name)));
    // The replicas share the six shards out, two each, before the rules come.
    await waitUntil(
      "two shards owned by each replica",
      async () => {
        const holders = [...(await shardHolders()).values()];
        return ["replica-a", "replica-b", "replica-c"].every(
          (r) => holders.filter((h) => h === r).length === 2,
        );
      },
      90_000,
      200,
    );
    const total = DEVICES * RULES_PER_DEVICE;
    let takeover: Promise<void> | undefined;
    for (let i = 0; i < total; i++) {
      await http.request({
        method: "POST",
        path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/vnffirewallrules`,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: "VnfFirewallRule",
          metadata: { name: `rule-${i}` },
          spec: ruleSpec(i, DEVICES),
        },
      });
      if (i === total / 3) {
        // Mid-way: replica-a dies without releasing anything, replica-d joins.
        const before = await shardHolders();
        const ofA = [...before].filter(([, h]) => h === "replica-a").map(([shard]) => shard);
        await replicas.get("replica-a")?.kill();
        replicas.delete("replica-a");
        const killedAt = Date.now();
        await replica("replica-d");
        takeover = waitUntil(
          "replica-a's shards taken over",
          async () => {
            const now = await shardHolders();
            return ofA.every((shard) => now.get(shard) !== "replica-a" && now.get(shard) !== "");
          },
          60_000,
          100,
        ).then(() =>
          console.log(
            `takeover of ${ofA.length} shard(s) after SIGKILL: ${Date.now() - killedAt} ms (lease ${LEASE_SECONDS} s)`,
          ),
        );
        takeover.catch(() => undefined); // awaited below; handled here so an early failure is not unhandled
      }
    }

    await waitUntil(
      "all rules Ready",
      async () => (await rules()).filter(ready).length === total,
      240_000,
      500,
    );

    // Exactly one policy per rule (no duplicate from two replicas writing the same device).
    const all = await rules();
    for (let d = 0; d < DEVICES; d++) {
      const policies = (await sims[d]!.control.objects("firewallRule")).candidate.map((p) =>
        JSON.stringify(p),
      );
      const ofDevice = all.filter((r) => r.spec.deviceRef.name === `fgt-${d}`);
      if (policies.length !== ofDevice.length) {
        // What went wrong, for whoever reads the failure: the rules without a policy, and the
        // device's request log (who sent what, and what came back).
        for (const r of ofDevice.filter(
          (r) => !policies.some((p) => p.includes(ruleMarkerText(r.metadata.uid))),
        ))
          console.log(`fgt-${d}: ${r.metadata.name} has no policy; status ${JSON.stringify(r.status)}`);
        for (const q of await sims[d]!.control.requests())
          console.log(
            `fgt-${d} #${q.seq} ${q.time} ${q.headers["user-agent"]} ${q.method} ${q.path} → ${q.status} ${q.outcome} ${q.method === "GET" ? "" : q.body.slice(0, 160)}`,
          );
      }
      expect(policies).toHaveLength(ofDevice.length);
      for (const r of ofDevice) {
        expect(policies.filter((p) => p.includes(ruleMarkerText(r.metadata.uid)))).toHaveLength(1);
      }
    }

    // Per device: writes (anything but GET) by replica, and one replica at a time.
    const table: string[] = [];
    for (let d = 0; d < DEVICES; d++) {
      const writes = (await sims[d]!.control.requests())
        .filter((r) => r.method !== "GET")
        .sort((a, b) => a.seq - b.seq);
      const by = new Map<string, number>();
      for (const w of writes) {
        const who = /vnf-operator \(([^)]+)\)/.exec(w.headers["user-agent"] ?? "")?.[1] ?? "?";
        by.set(who, (by.get(who) ?? 0) + 1);
      }
      expect(by.has("?")).toBe(false);
      table.push(`fgt-${d}: ${[...by].map(([who, n]) => `${who} ${n}`).join(", ")}`);
      // Another replica's write starts only after the previous replica's last write was answered.
      const lastEnd = new Map<string, number>();
      let previous: string | undefined;
      for (const w of writes) {
        const who = /vnf-operator \(([^)]+)\)/.exec(w.headers["user-agent"] ?? "")?.[1] ?? "?";
        const start = Date.parse(w.time);
        if (previous !== undefined && who !== previous) {
          expect(start, `fgt-${d}: ${who} wrote while ${previous} was still writing`).toBeGreaterThanOrEqual(
            lastEnd.get(previous) ?? 0,
          );
        }
        lastEnd.set(who, Math.max(lastEnd.get(who) ?? 0, start + w.durationMs));
        previous = who;
      }
    }
    console.log(`appliance writes per device per replica:\n  ${table.join("\n  ")}`);
    // The killed replica's shards went to the live ones (within the lease duration, which may end
    // after the rules converged: a shard without devices): nothing is held by replica-a any more.
    expect(takeover).toBeDefined();
    await takeover;
    expect([...(await shardHolders()).values()]).not.toContain("replica-a");
  }, 420_000);

  it("a device deleted while its rules remain stays until they are gone: no replica but its owner decides", async () => {
    // Every replica watches every device, but only the owner caches the device's rules: another
    // replica deciding would see no rule holding the device and let it go with its rules' objects.
    const device = "fgt-0";
    const devicePath = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/vnfdevices/${device}`;
    const mine = (await rules()).filter((r) => r.spec.deviceRef.name === device);
    expect(mine.length).toBeGreaterThan(0);
    await http.request({ method: "DELETE", path: devicePath });
    // Several protection reconciles on every replica (each device event queues one): it stays.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const held = await http.request<{ metadata: { deletionTimestamp?: string; finalizers?: string[] } }>({
      method: "GET",
      path: devicePath,
    });
    expect(held.metadata.deletionTimestamp).toBeDefined();
    expect(held.metadata.finalizers).toContain(`${GROUP}/rules-first`);
    for (const r of mine) {
      await http.request({
        method: "DELETE",
        path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/vnffirewallrules/${r.metadata.name}`,
      });
    }
    await waitUntil(
      `${device} gone once its ${mine.length} rules are`,
      async () =>
        (await http.request({ method: "GET", path: devicePath }).then(
          () => false,
          () => true,
        ))
          ? true
          : undefined,
      90_000,
    );
    // Their policies were removed through it first.
    const policies = (await sims[0]!.control.objects("firewallRule")).candidate.map((p) =>
      String(p.comments),
    );
    for (const r of mine)
      expect(policies.filter((p) => p.includes(ruleMarkerText(r.metadata.uid)))).toEqual([]);
  }, 120_000);
});
