// Failure isolation end to end (real API server, operator, PAN-OS dictionary, HTTPS to the simulator):
// fifty firewall rules applied at once on a Batched PAN-OS device, one naming a zone the firewall does
// not have (PAN-OS accepts the `set`, refuses the commit). The commit's failure names that rule: it is
// withdrawn from the candidate and Stalled with the appliance's reason; the forty-nine others are
// committed and Ready. The number of commits is printed (the figure issue #13 asks for).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  GROUP,
  type KubeObj,
  type OperatorEnv,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
  statusOf,
  VERSION,
} from "../support/operator-env.ts";

const COUNT = 50;
const BAD = 17;
let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "panos",
    prefix: "op-isolation",
    device: { activation: { mode: "Batched", batchWindow: "2s" } },
  });
  await env.waitReady("vnfdevices", env.deviceName);
});

afterAll(async () => {
  await env?.stop();
});

describe("failure isolation on a Batched PAN-OS device", () => {
  it(`1 bad rule among ${COUNT}: ${COUNT - 1} Ready, 1 Stalled saying why, the commits printed`, async () => {
    const before = (await env.sim.control.stats()).applyCount;
    const rules = Array.from({ length: COUNT }, (_, i) =>
      ruleManifest(FIREWALL, `iso-${i}`, env.deviceName, {
        interface: i === BAD ? "nowhere" : "untrust",
        action: "allow",
        protocol: "tcp",
        destination: { cidr: `10.2.0.${i + 1}`, port: "443" },
        description: `isolation rule ${i}`,
      }),
    );
    const started = Date.now();
    await env.apply({ apiVersion: "v1", kind: "List", items: rules });
    const settled = await waitUntil(
      `${COUNT - 1} rules Ready and 1 Stalled`,
      async () => {
        const list = (await env.custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: env.namespace,
          plural: FIREWALL.plural,
        })) as { items: KubeObj[] };
        const ready = list.items.filter((o) => conditionOf(o, "Ready")?.status === "True");
        const stalled = list.items.filter((o) => conditionOf(o, "Stalled")?.status === "True");
        return ready.length + stalled.length === COUNT ? { ready, stalled } : undefined;
      },
      120_000,
      250,
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const commits = (await env.sim.control.stats()).applyCount - before;
    console.log(
      `[isolation] ${COUNT} rules, 1 bad, one Batched PAN-OS device: ${settled.ready.length} Ready, ${settled.stalled.length} Stalled after ${commits} commit(s), ${seconds} s`,
    );
    expect(settled.ready).toHaveLength(COUNT - 1);
    expect(settled.stalled.map((o) => o.metadata.name)).toEqual([`iso-${BAD}`]);
    const bad = settled.stalled[0] as KubeObj;
    expect(statusOf(bad).errorCode).toBe("VNF_INVALID");
    expect(commits).toBeLessThanOrEqual(3);

    // The 49 are running; the bad rule is neither running nor left in the candidate.
    const objects = await env.sim.control.objects("firewallRule");
    const carrying = (list: typeof objects.running, uid: string) =>
      list.filter((o) => String(o.description ?? "").includes(ruleMarkerText(uid)));
    for (const rule of settled.ready) expect(carrying(objects.running, rule.metadata.uid)).toHaveLength(1);
    expect(carrying(objects.running, bad.metadata.uid)).toHaveLength(0);
    expect(carrying(objects.candidate, bad.metadata.uid)).toHaveLength(0);
  });
});
