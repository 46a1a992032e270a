// Batched activation: 50 firewall rules applied at once on one Batched pfSense device become Ready
// with one apply (pfSense's POST /firewall/apply) — at most two, whatever the timing — and nothing is
// lost although pfSense takes one write at a time; the device's status shows the writes waiting
// (pendingActivations) and then the activation that covered them (lastActivation). The appliance calls are printed by method and path
// (the closing note of issue #6 quotes them).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import {
  FIREWALL,
  GROUP,
  isReadyNow,
  type OperatorEnv,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
  VERSION,
} from "../support/operator-env.ts";

const COUNT = 50;

interface DeviceStatusView {
  status?: { pendingActivations?: number; lastActivation?: { result: string; changes?: number } };
}
let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "op-batch",
    device: { activation: { mode: "Batched", batchWindow: "2s" } },
  });
  await env.waitReady("vnfdevices", env.deviceName);
});

afterAll(async () => {
  await env?.stop();
});

describe("Batched activation on pfSense", () => {
  it(`${COUNT} rules at once: all Ready, one apply (at most two), no duplicate, nothing lost`, async () => {
    await env.sim.control.clearRequests();
    const statsBefore = await env.sim.control.stats();
    const rules = Array.from({ length: COUNT }, (_, i) =>
      ruleManifest(FIREWALL, `batch-${i}`, env.deviceName, {
        interface: "wan",
        action: "allow",
        protocol: "tcp",
        destination: { cidr: `10.1.0.${i + 1}`, port: "443" },
        description: `batch rule ${i}`,
      }),
    );
    const started = Date.now();
    await env.apply({ apiVersion: "v1", kind: "List", items: rules });
    // The device's status shows the writes waiting for the window while the rules converge.
    let maxPending = 0;
    const all = await waitUntil(
      `${COUNT} rules Ready`,
      async () => {
        const device = await env.get<DeviceStatusView>("vnfdevices", env.deviceName);
        maxPending = Math.max(maxPending, device.status?.pendingActivations ?? 0);
        const list = (await env.custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: env.namespace,
          plural: FIREWALL.plural,
        })) as { items: Array<Record<string, unknown> & { metadata: { uid: string } }> };
        return list.items.length === COUNT && list.items.every(isReadyNow) ? list.items : undefined;
      },
      60_000,
      250,
    );
    const elapsedMs = Date.now() - started;
    // Then the activation that covered them, and nothing waiting any more.
    const device = await env.waitCondition(
      "vnfdevices",
      env.deviceName,
      (d) => {
        const status = (d as DeviceStatusView).status;
        return status?.lastActivation?.result === "Succeeded" && status.pendingActivations === 0;
      },
      "lastActivation Succeeded, pendingActivations 0",
      30_000,
    );
    const lastActivation = (device as DeviceStatusView).status?.lastActivation;

    const requests = await env.sim.control.requests();
    const stats = await env.sim.control.stats();
    const byRoute = new Map<string, number>();
    for (const r of requests)
      byRoute.set(`${r.method} ${r.path}`, (byRoute.get(`${r.method} ${r.path}`) ?? 0) + 1);
    const applies = stats.applyCount - statsBefore.applyCount;
    console.log(
      `${COUNT} rules on one Batched pfSense device (window 2 s): all Ready in ${(elapsedMs / 1000).toFixed(1)} s, ` +
        `${requests.length} appliance calls, ${applies} apply(ies): ${JSON.stringify(Object.fromEntries(byRoute))}; ` +
        `device status: up to ${maxPending} pendingActivations, lastActivation ${JSON.stringify(lastActivation)}`,
    );
    // The batch holds the 50 creates and, since rule order is enforced, the order step's moves (PATCHes
    // placing rules created out of name order); each is one pending write at most, none counted twice.
    const orderMoves = byRoute.get("PATCH /api/v2/firewall/rule") ?? 0;
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(COUNT + orderMoves);
    expect(lastActivation?.changes).toBeGreaterThanOrEqual(1);
    if (applies === 1) {
      expect(lastActivation?.changes).toBeGreaterThanOrEqual(COUNT);
      expect(lastActivation?.changes).toBeLessThanOrEqual(COUNT + orderMoves);
    }

    expect(applies).toBeGreaterThanOrEqual(1);
    expect(applies).toBeLessThanOrEqual(2);
    expect(byRoute.get("POST /api/v2/firewall/apply")).toBe(applies);
    expect(byRoute.get("POST /api/v2/firewall/rule")).toBe(COUNT);
    expect(stats.lostWrites).toBe(0);
    // The device's health check runs on its interval (60 s here), not after each of its own status
    // writes or activations: none while the rules converge, or one if the interval ran out meanwhile.
    const healthChecks = byRoute.get("GET /api/v2/status/system") ?? 0;
    expect(healthChecks).toBeLessThanOrEqual(Math.ceil(elapsedMs / 60_000));
    const running = (await env.sim.control.objects("firewallRule")).running;
    for (const rule of all) {
      expect(running.filter((o) => String(o.descr).includes(ruleMarkerText(rule.metadata.uid)))).toHaveLength(
        1,
      );
    }
  });
});
