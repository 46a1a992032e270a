// A leader that loses its lease in the middle of a batch stops talking to the appliance: the lost
// lease aborts every reconcile's signal, which reaches every appliance call and wait (a create in
// flight, the Batched activation window), so no appliance write starts after the loss plus a small
// bound. The writes it made stay with their intents; the next leader verifies them (no duplicate) and
// activates them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operator } from "../../src/operator.ts";
import { CoreResources, objectPath } from "../../src/runtime/resource.ts";
import { waitUntil } from "../support/kube.ts";
import {
  FIREWALL,
  isReadyNow,
  type OperatorEnv,
  objectsContaining,
  ruleManifest,
  ruleMarkerText,
  sleep,
  startOperatorEnv,
  startTestOperator,
} from "../support/operator-env.ts";

const COUNT = 20;
/** How long after the loss an appliance request may still arrive (sent before it, or racing it). */
const BOUND_MS = 1_000;
const WINDOW_S = 8;
const lease = { name: "vnf-lease-loss", leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

let env: OperatorEnv;
const operators: Operator[] = [];

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "op-lease-loss",
    // A long window: the activation is still pending when the lease is lost.
    device: { activation: { mode: "Batched", batchWindow: `${WINDOW_S}s` } },
    startOperator: false,
  });
});

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  await env?.stop();
});

async function leader(identity: string): Promise<Operator> {
  const operator = await startTestOperator(env.kc, env.namespace, {
    leaderElection: { namespace: env.namespace, identity, ...lease },
    instance: identity,
  });
  operators.push(operator);
  await operator.manager.elected();
  return operator;
}

/** Another replica takes the lease over (as it may once our renewals stall); it never renews. */
async function stealLease(): Promise<void> {
  const http = operators[0]?.manager.http;
  if (!http) throw new Error("no operator");
  const path = objectPath(CoreResources.leases, { namespace: env.namespace, name: lease.name });
  const current = await http.request<{ spec: Record<string, unknown> }>({ method: "GET", path });
  const now = new Date().toISOString().replace("Z", "000Z");
  await http.request({
    method: "PUT",
    path,
    body: {
      ...current,
      spec: { ...current.spec, holderIdentity: "intruder", acquireTime: now, renewTime: now },
    },
  });
}

describe("leadership lost mid-batch", () => {
  it(`no appliance write starts later than ${BOUND_MS} ms after the loss; the next leader finishes the batch`, async () => {
    const a = await leader("a");
    await env.waitReady("vnfdevices", env.deviceName);
    await env.sim.control.clearRequests();
    const rules = Array.from({ length: COUNT }, (_, i) =>
      ruleManifest(FIREWALL, `lease-${i}`, env.deviceName, {
        interface: "wan",
        action: "allow",
        protocol: "tcp",
        destination: { cidr: `10.2.0.${i + 1}`, port: "443" },
        description: `lease rule ${i}`,
      }),
    );
    await env.apply({ apiVersion: "v1", kind: "List", items: rules });
    const creates = async () =>
      (await env.sim.control.requests()).filter(
        (r) => r.method === "POST" && r.path === "/api/v2/firewall/rule",
      );
    await waitUntil("creates reach the appliance", async () =>
      (await creates()).length >= 3 ? true : undefined,
    );

    await stealLease();
    const lostAt = await waitUntil(
      "the leader notices the loss",
      async () => (a.manager.isLeader() ? undefined : Date.now()),
      10_000,
      10,
    );
    // Past the activation window the old leader's batch would have closed in.
    await sleep((WINDOW_S + 2) * 1000);
    const log = await env.sim.control.requests();
    const late = log.filter((r) => r.method !== "GET" && Date.parse(r.time) > lostAt + BOUND_MS);
    const applies = log.filter((r) => r.method === "POST" && r.path === "/api/v2/firewall/apply");
    console.log(
      `lease lost after ${(await creates()).length} creates; appliance writes after the loss + ${BOUND_MS} ms: ${late.length}; applies: ${applies.length}`,
    );
    expect(late.map((r) => `${r.method} ${r.path} at ${r.time}`)).toEqual([]);
    // The scenario had something to stop: the batch had not been activated when the lease was lost.
    expect(applies).toEqual([]);

    // The next leader (once the intruder's lease expires) verifies what was written and activates it.
    const b = await leader("b");
    expect(b.manager.isLeader()).toBe(true);
    const all = await waitUntil(
      `${COUNT} rules Ready under the new leader`,
      async () => {
        const list = (await env.custom.listNamespacedCustomObject({
          group: "vnf-operator.io",
          version: "v1alpha1",
          namespace: env.namespace,
          plural: FIREWALL.plural,
        })) as { items: Array<Record<string, unknown> & { metadata: { uid: string } }> };
        return list.items.length === COUNT && list.items.every(isReadyNow) ? list.items : undefined;
      },
      60_000,
      250,
    );
    for (const rule of all) {
      expect(
        await objectsContaining(env.sim, "firewallRule", ruleMarkerText(rule.metadata.uid), "running"),
      ).toHaveLength(1);
    }
  });
});
