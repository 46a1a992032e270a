// Rule order end to end (real API server, operator, dictionaries, HTTPS to the simulators): rules
// applied out of priority order end up in priority order on the appliance, each with a priority with
// its status.position (a rule without one last, with none);
// a priority change moves that rule only; on pfSense (Repair drift) an order changed by hand is put
// back. pfSense orders by index (`move` operations), VyOS by rule number (a move is a renumbering
// update journaled by the rule controller), so both ways of ordering run through the real operator.
import type { Counter } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimulatorVendor, VendorObject } from "../simulators/index.ts";
import { waitUntil } from "../support/kube.ts";
import {
  FIREWALL,
  type KubeObj,
  type OperatorEnv,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

/** Names and priorities, applied in this (shuffled) order; unset priority sorts last. */
const RULES: Array<[string, number | undefined]> = [
  ["web", 300],
  ["ssh", 100],
  ["late", undefined],
  ["dns", 200],
  ["mail", 500],
  ["ntp", 400],
];

interface VendorCase {
  vendor: SimulatorVendor;
  interface: string;
  /** The simulator's firewall rules in the appliance's evaluation order. */
  order(objects: VendorObject[]): VendorObject[];
  description(object: VendorObject): string;
}

const CASES: VendorCase[] = [
  {
    vendor: "pfsense",
    interface: "wan",
    order: (objects) => objects,
    description: (o) => String(o.descr ?? ""),
  },
  {
    vendor: "vyos",
    interface: "eth0",
    order: (objects) =>
      objects
        .filter((o) => /^firewall ipv4 name \S+ rule \d+$/.test(String(o.path)))
        .sort((a, b) => Number(String(a.path).split(" ").at(-1)) - Number(String(b.path).split(" ").at(-1))),
    description: (o) => String(o.description ?? ""),
  },
];

describe.each(CASES)("operator: rule order on $vendor", (c) => {
  let env: OperatorEnv;
  const uids = new Map<string, string>();

  const manifest = (name: string, priority: number | undefined, port: string) =>
    ruleManifest(FIREWALL, name, `${c.vendor}-dev`, {
      interface: c.interface,
      action: "allow",
      protocol: "tcp",
      destination: { cidr: "10.0.10.10", port },
      description: `order ${name}`,
      ...(priority === undefined ? {} : { priority }),
    });

  /** Our rules' names in the appliance's running order. */
  async function applianceOrder(): Promise<string[]> {
    const running = c.order((await env.sim.control.objects("firewallRule")).running);
    return running.flatMap((o) => {
      const text = c.description(o);
      const found = [...uids].find(([, uid]) => text.includes(ruleMarkerText(uid)));
      return found ? [found[0]] : [];
    });
  }

  function desired(priorities: Map<string, number | undefined>): string[] {
    return [...priorities]
      .sort(
        ([a, pa], [b, pb]) =>
          (pa ?? Number.POSITIVE_INFINITY) - (pb ?? Number.POSITIVE_INFINITY) || (a < b ? -1 : 1),
      )
      .map(([n]) => n);
  }

  async function waitInOrder(priorities: Map<string, number | undefined>): Promise<KubeObj[]> {
    const want = desired(priorities);
    await waitUntil(
      `${c.vendor}: the appliance runs ${want.join(", ")}`,
      async () => (JSON.stringify(await applianceOrder()) === JSON.stringify(want) ? true : undefined),
      60_000,
    );
    // status.position follows: 1..n in the same order (nothing unmanaged on this device), for the rules
    // with a priority; a rule without one asked for no place and has none.
    return waitUntil(
      "every position recorded",
      async () => {
        const rules = await Promise.all(want.map((n) => env.get(FIREWALL.plural, n)));
        const expected = (i: number) => (priorities.get(want[i] ?? "") === undefined ? undefined : i + 1);
        return rules.every((r, i) => statusOf(r).position === expected(i)) ? rules : undefined;
      },
      60_000,
    );
  }

  const moves = async () => {
    const metric = env.operator.manager.metrics.registry.getSingleMetric("vnf_rule_moves_total") as Counter;
    return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
  };

  beforeAll(async () => {
    env = await startOperatorEnv({
      vendor: c.vendor,
      prefix: `op-order-${c.vendor}`,
      device: { driftDetection: { interval: "10s", mode: "Repair", unmanaged: "Ignore" } },
    });
    await env.waitReady("vnfdevices", env.deviceName);
  });

  afterAll(async () => {
    await env?.stop();
  });

  it("rules applied out of priority order run in priority order, each with its position", async () => {
    for (const [i, [name, priority]] of RULES.entries()) {
      await env.apply(manifest(name, priority, String(8000 + i)));
    }
    for (const [name] of RULES) {
      const ready = await env.waitReady(FIREWALL.plural, name);
      uids.set(name, String(ready.metadata.uid));
    }
    const rules = await waitInOrder(new Map(RULES));
    expect(rules.map((r) => r.metadata.name)).toEqual(["ssh", "dns", "web", "ntp", "mail", "late"]);
  });

  it("a priority change moves that rule only", async () => {
    const before = await moves();
    const web = await env.get(FIREWALL.plural, "web");
    await env.apply({ ...manifest("web", 50, "8000"), spec: { ...(web.spec as object), priority: 50 } });
    const priorities = new Map(RULES);
    priorities.set("web", 50);
    await waitInOrder(priorities);
    // A moving rule is one move (pfSense: one PATCH with a placement; VyOS: one renumbering update).
    await waitUntil("the move counted", async () => ((await moves()) - before >= 1 ? true : undefined));
    expect((await moves()) - before).toBe(1);
    expect(statusOf(await env.get(FIREWALL.plural, "web")).position).toBe(1);
  });

  // pfSense: the administrator's drag and drop keeps the rule's identity (its tracker).
  if (c.vendor === "pfsense")
    it("an order changed by hand on the appliance is drift: the next check puts it back", async () => {
      // The administrator drags `ssh` (second) to the bottom of the WAN rules.
      const objects = (await env.sim.control.objects("firewallRule")).candidate;
      const ssh = objects.find((o) => c.description(o).includes(ruleMarkerText(uids.get("ssh") ?? "?")));
      expect(ssh).toBeDefined();
      const { id: _index, ...record } = ssh as VendorObject;
      await env.sim.control.deleteObject("firewallRule", String(record.tracker), { apply: false });
      await env.sim.control.putObject("firewallRule", record, { apply: true });
      expect((await applianceOrder()).at(-1)).toBe("ssh");
      await env.checkDrift();
      const priorities = new Map(RULES);
      priorities.set("web", 50);
      await waitInOrder(priorities);
    });

  it("a rule whose priority is removed keeps its place (no move) and loses its status.position", async () => {
    // The move counter is incremented once a step's moves are activated, which can be after the
    // previous test saw its order: take the count once it has not moved for 2 s.
    let before = await moves();
    await waitUntil(
      "the move count settled",
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const now = await moves();
        const settled = now === before;
        before = now;
        return settled ? true : undefined;
      },
      30_000,
    );
    const mail = await env.get(FIREWALL.plural, "mail");
    expect(statusOf(mail).position).toBe(5);
    const { priority: _removed, ...spec } = mail.spec as Record<string, unknown>;
    await env.apply({ ...manifest("mail", undefined, "8000"), spec });
    await waitUntil("mail's position removed", async () =>
      statusOf(await env.get(FIREWALL.plural, "mail")).position === undefined ? true : undefined,
    );
    // Already after every rule with a priority, and before `late` as the appliance holds them.
    expect(await applianceOrder()).toEqual(["web", "ssh", "dns", "ntp", "mail", "late"]);
    expect((await moves()) - before).toBe(0);
  });
});
