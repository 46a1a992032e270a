// Benchmark: moves per priority change, on every vendor's simulator through the operator's ordering
// code (create placement, order step: one list, the fewest moves) and the session the operator builds.
// 100 firewall rules with random priorities are created in random order; then single priority changes,
// each followed by one order step, whose moves are counted (a move is a `move` call, or on VyOS a
// renumbering update).
//   node bench/order-moves.ts [--rules 100] [--changes 20]
import { parseArgs } from "node:util";
import type { VnfRule } from "../src/api/types.ts";
import { engineSessionFactory } from "../src/controllers/engine-session.ts";
import { numberForNewRule, placeNewRule } from "../src/controllers/order-new-rule.ts";
import type { OrderedRule } from "../src/controllers/order-plan.ts";
import { performOrder, planDeviceOrder } from "../src/controllers/order-step.ts";
import type { OrderingFacts } from "../src/controllers/ports.ts";
import { requestFor } from "../src/controllers/rule-request.ts";
import { loadDictionaryFile } from "../src/dictionary/loader.ts";
import { VENDORS } from "../test/engine/vendors.ts";
import { startSimulator } from "../test/simulators/index.ts";

const { values } = parseArgs({ options: { rules: { type: "string" }, changes: { type: "string" } } });
const count = Number(values.rules ?? 100);
const changes = Number(values.changes ?? 20);
const KIND = "firewallRule" as const;

let seed = 20261203;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const ordered = (rule: VnfRule): OrderedRule => ({
  key: `${rule.metadata.namespace}/${rule.metadata.name}`,
  priority: rule.spec.priority,
});

const seen = new Set<string>();
for (const row of VENDORS) {
  if (seen.has(row.vendor)) continue;
  seen.add(row.vendor);
  const dictionary = await loadDictionaryFile(row.dictionary);
  const sim = await startSimulator(row.vendor, row.simulator as never);
  const session = engineSessionFactory({ dictionary: () => dictionary })({
    device: { namespace: "bench", name: "edge" },
    vendor: row.vendor,
    dictionary: dictionary.name,
    endpoint: sim.url,
    credentials: sim.credentials,
    tls: { caPem: sim.caPem },
    parameters: row.parameters ?? {},
    limits: { requestsPerSecond: 1000 },
    activation: { mode: "Immediate", batchWindowMs: 0 },
    epoch: "1/1",
  });
  try {
    const ordering = session.ordering?.(KIND) as OrderingFacts;
    const rules: VnfRule[] = Array.from({ length: count }, (_, i) => ({
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfFirewallRule",
      metadata: { namespace: "bench", name: `r${i}`, uid: `bench-order-${i}`, generation: 1 },
      spec: {
        ...(row.firewallRule.create as object),
        description: `bench ${i}`,
        deviceRef: { name: "edge" },
        priority: Math.floor(random() * 10_000),
      },
    })) as unknown as VnfRule[];
    // Created in random order, each placed as the rule controller places it.
    for (const rule of [...rules].sort(() => random() - 0.5)) {
      const peers = rules.filter((p) => p !== rule && p.status?.vendorRef !== undefined);
      const request = requestFor(rule, { installationId: "bench", deviceUid: "bench" });
      if (ordering.movable) {
        const position = placeNewRule(
          ordered(rule),
          peers.map((p) => ({ ...ordered(p), vendorRef: p.status?.vendorRef })),
        );
        const { vendorRef } = await session.create(KIND, position ? { ...request, position } : request);
        rule.status = { vendorRef };
      } else {
        const numbers = ordering.numbers as NonNullable<OrderingFacts["numbers"]>;
        const taken = new Set(peers.map((p) => p.status?.ruleNumber as number));
        const ruleNumber =
          numberForNewRule(
            ordered(rule),
            peers.map((p) => ({ ...ordered(p), number: p.status?.ruleNumber })),
            { ...numbers, taken },
          ) ?? Math.max(numbers.min, ...taken) + 1;
        const { vendorRef } = await session.create(KIND, { ...request, ruleNumber });
        rule.status = { vendorRef, ruleNumber };
      }
    }
    await session.activate();
    const step = async (): Promise<number> => {
      const { plan, rulesByKey } = planDeviceOrder({
        kind: KIND,
        owner: { installationId: "bench", deviceUid: "bench" },
        ordering,
        objects: await session.list(KIND),
        rules,
        placement: { at: "Top" },
        reservedNumbers: new Set(
          rules.flatMap((r) => (r.status?.ruleNumber === undefined ? [] : [r.status.ruleNumber])),
        ),
      });
      const renumbers: Array<[VnfRule, number]> = [];
      const moves = await performOrder(session, KIND, ordering, plan, rulesByKey, undefined, {
        renumber: (r, number) => renumbers.push([r, number]),
      });
      for (const [r, number] of renumbers) {
        const at = plan.moves.find((m) => m.rule === ordered(r).key)?.vendorRef as string;
        const updated = await session.update(KIND, at, {
          ...requestFor(r, { installationId: "bench", deviceUid: "bench" }),
          ruleNumber: number,
        });
        r.status = { vendorRef: updated?.vendorRef ?? at, ruleNumber: number };
      }
      if (moves > 0) await session.activate();
      return moves;
    };
    const initial = await step();
    const perChange: number[] = [];
    for (let c = 0; c < changes; c++) {
      const rule = rules[Math.floor(random() * rules.length)] as VnfRule;
      rule.spec.priority = Math.floor(random() * 10_000);
      perChange.push(await step());
    }
    const total = perChange.reduce((a, b) => a + b, 0);
    console.log(
      `${row.vendor.padEnd(9)} ${count} rules created in random order: ${initial} move(s) after creation; ` +
        `${changes} single priority changes: ${total} move(s), ${(total / changes).toFixed(2)} per change (max ${Math.max(...perChange)})`,
    );
  } finally {
    await session.close();
    await sim.stop();
  }
}
