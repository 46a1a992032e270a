// Deleting a VnfDevice while rules with deletionPolicy Delete still reference it (issue #12, "device
// gone"): the device waits (its finalizer vnf-operator.io/rules-first) and says which rules it waits
// for; the rules' deletions remove their appliance objects through it; then it goes. Real API server,
// the operator as `vnf-operator run` assembles it, the pfSense simulator.
import { EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import {
  FIREWALL,
  type OperatorEnv,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "devdel", simulator: { writeLatencyMs: 0 } });
});

afterAll(async () => {
  await env?.stop();
});

describe("a VnfDevice deleted before its Delete-policy rules", () => {
  it("waits, naming the rules; their deletions clean the appliance through it; then it goes", {
    timeout: 90_000,
  }, async () => {
    const spec = (port: string, extra: Record<string, unknown> = {}) => ({
      interface: "wan",
      action: "allow",
      protocol: "tcp",
      destination: { cidr: "198.51.100.7", port },
      description: `kept until cleaned ${port}`,
      ...extra,
    });
    await env.apply(ruleManifest(FIREWALL, "holds", env.deviceName, spec("443")));
    await env.apply(
      ruleManifest(FIREWALL, "leaves", env.deviceName, spec("444", { deletionPolicy: "Orphan" })),
    );
    const holds = await env.waitReady(FIREWALL.plural, "holds");
    await env.waitReady(FIREWALL.plural, "leaves");
    const onAppliance = async () =>
      (await env.sim.control.objects("firewallRule")).candidate.filter((o) =>
        String(o.descr).includes(ruleMarkerText(holds.metadata.uid)),
      );
    expect(await onAppliance()).toHaveLength(1);

    const deleted = await env.kubectl(["delete", `vnfdevices/${env.deviceName}`, "--wait=false"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const waiting = await waitUntil("the device's Event naming the rule it waits for", async () => {
      const events = await env.kc
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: env.namespace });
      return events.items.find((e) => e.reason === "DeletionWaitsForRules");
    });
    expect(String(waiting.note)).toContain("VnfFirewallRule holds");
    // The Orphan-policy rule does not hold it.
    expect(String(waiting.note)).not.toContain("leaves");
    const device = await env.get("vnfdevices", env.deviceName);
    expect((device.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeDefined();
    expect(await onAppliance()).toHaveLength(1);

    await env.kubectl(["delete", "vnffw/holds", "vnffw/leaves", "--wait=false"]);
    await env.waitGone(FIREWALL.plural, "holds");
    expect(await onAppliance()).toEqual([]);
    await env.waitGone("vnfdevices", env.deviceName);
    await env.waitGone(FIREWALL.plural, "leaves");
    expect(statusOf(holds).vendorRef).toBeDefined();
  });
});
