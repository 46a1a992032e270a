// Two (then three) operator instances with leader election on one Lease (short timings): only the
// leader talks to the appliance and writes to the API server; the followers keep warm caches and
// write nothing. When the leader is killed (SIGKILL: the lease is not released) a follower takes over
// once the lease expires; when the leader stops gracefully (lease released) a follower takes over at
// once. Each new leader reconciles what changed meanwhile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operator } from "../../src/operator.ts";
import { kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import {
  FIREWALL,
  type OperatorEnv,
  objectsContaining,
  ruleManifest,
  ruleMarkerText,
  sleep,
  startOperatorEnv,
  startTestOperator,
} from "../support/operator-env.ts";
import { type OperatorChild, spawnOperator } from "../support/operator-process.ts";

let env: OperatorEnv;
const device = "pfsense-dev";
const lease = {
  name: "vnf-operator-test",
  leaseDurationMs: 3_000,
  renewDeadlineMs: 2_000,
  retryPeriodMs: 500,
};
const started: Operator[] = [];
let killed: OperatorChild | undefined;

/** What an in-process instance sent: API writes (anything but GET) and appliance operations. */
interface Traffic {
  apiWrites: number;
}

function instance(identity: string): Promise<{ operator: Operator; traffic: Traffic }> {
  const traffic: Traffic = { apiWrites: 0 };
  const kc = testKubeConfig(); // its own client, so its requests are its own
  return startTestOperator(kc, env.namespace, {
    leaderElection: { namespace: env.namespace, identity, ...lease },
    instance: identity,
    healthIntervalMs: 2_000,
  }).then((operator) => {
    started.push(operator);
    operator.manager.http.observe((r) => {
      if (r.method !== "GET") traffic.apiWrites++;
    });
    return { operator, traffic };
  });
}

async function applianceOperations(operator: Operator): Promise<number> {
  const metric = await operator.manager.metrics.registry
    .getSingleMetric("vnf_appliance_requests_total")
    ?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

const rule = (name: string, port: string) =>
  ruleManifest(FIREWALL, name, device, {
    interface: "wan",
    action: "allow",
    protocol: "tcp",
    destination: { cidr: "10.0.10.10", port },
    description: `${name} rule`,
  });

async function onAppliance(name: string): Promise<number> {
  const obj = await env.get(FIREWALL.plural, name);
  return (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(obj.metadata.uid), "running"))
    .length;
}

beforeAll(async () => {
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "op-leader", startOperator: false });
});

afterAll(async () => {
  await killed?.kill();
  for (const operator of started) await operator.stop();
  await env?.stop();
});

describe("leader election between operator instances", () => {
  it("only the leader writes; a SIGKILLed leader is replaced once its lease expires; a stopped one at once", async () => {
    // 1. Leader: a child process. Follower: in-process b.
    const a = await spawnOperator({
      kubeconfig: kubeconfigPath(),
      namespaces: [env.namespace],
      identity: "a",
      healthIntervalMs: 2_000,
      leaderElection: { namespace: env.namespace, ...lease },
    });
    killed = a;
    await a.waitFor("leading");
    const b = await instance("b");
    await env.waitReady("vnfdevices", device);
    await env.apply(rule("first", "443"));
    await env.waitReady(FIREWALL.plural, "first");
    expect(await onAppliance("first")).toBe(1);
    await sleep(1_000); // a few renewals and health checks more
    expect(b.operator.manager.isLeader()).toBe(false);
    expect(b.operator.sessions.any({ namespace: env.namespace, name: device })).toBeUndefined();
    expect(await applianceOperations(b.operator)).toBe(0);
    expect(b.traffic.apiWrites).toBe(0);

    // 2. The leader dies without releasing the lease: b takes over after it expires.
    await a.kill();
    const killedAt = Date.now();
    await env.apply(rule("second", "444"));
    await b.operator.manager.elected();
    const takeoverMs = Date.now() - killedAt;
    await env.waitReady(FIREWALL.plural, "second");
    expect(await onAppliance("second")).toBe(1);
    expect(b.traffic.apiWrites).toBeGreaterThan(0);
    expect(await applianceOperations(b.operator)).toBeGreaterThan(0);

    // 3. A third instance follows; b stops gracefully (lease released): c takes over at once.
    const c = await instance("c");
    await sleep(1_000);
    expect(c.operator.manager.isLeader()).toBe(false);
    expect(c.traffic.apiWrites).toBe(0);
    expect(await applianceOperations(c.operator)).toBe(0);
    await b.operator.stop();
    const stoppedAt = Date.now();
    const bWritesAfterStop = b.traffic.apiWrites;
    const bOpsAfterStop = await applianceOperations(b.operator);
    await c.operator.manager.elected();
    const handoverMs = Date.now() - stoppedAt;
    await env.apply(rule("third", "445"));
    await env.waitReady(FIREWALL.plural, "third");
    expect(await onAppliance("third")).toBe(1);
    expect(b.traffic.apiWrites).toBe(bWritesAfterStop);
    expect(await applianceOperations(b.operator)).toBe(bOpsAfterStop);
    console.log(
      `takeover after SIGKILL of the leader: ${takeoverMs} ms (lease ${lease.leaseDurationMs} ms); after a graceful stop: ${handoverMs} ms`,
    );
    // A killed leader's lease must run out first (its last renewal is at most a retry period old);
    // a released one is taken at the follower's next try.
    expect(takeoverMs).toBeGreaterThanOrEqual(lease.leaseDurationMs - 2 * lease.retryPeriodMs);
    expect(handoverMs).toBeLessThan(lease.leaseDurationMs - 2 * lease.retryPeriodMs);
    await waitUntil("every rule Ready", async () =>
      (await Promise.all(["first", "second", "third"].map((n) => onAppliance(n)))).every((n) => n === 1)
        ? true
        : undefined,
    );
  });
});
