// Rule order on every vendor, against its simulator: the operator's ordering code (the create placement
// of the rule controller, the order step's plan and moves, the renumber a VyOS move is) driving the
// engine session exactly as the operator builds it (engineSessionFactory), over real HTTPS. The
// appliance's order is read from the simulator's own configuration (its control API), never through
// the dictionary, and the minimal number of moves is computed here independently (n − LIS, O(n²)).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { VnfRule } from "../../src/api/types.ts";
import { engineSessionFactory } from "../../src/controllers/engine-session.ts";
import { numberForNewRule, placeNewRule } from "../../src/controllers/order-new-rule.ts";
import { compareRules, type OrderedRule } from "../../src/controllers/order-plan.ts";
import { performOrder, planDeviceOrder } from "../../src/controllers/order-step.ts";
import type { OrderingFacts } from "../../src/controllers/ports.ts";
import { requestFor } from "../../src/controllers/rule-request.ts";
import type { ManagedSession } from "../../src/controllers/session-registry.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type SimulatorHandle, startSimulator, type VendorObject } from "../simulators/index.ts";
import { VENDORS, type VendorRow } from "./vendors.ts";

/** Whose markers the rules here carry. */
const OWNER = { installationId: "ordering-test", deviceUid: "device" };

const KIND = "firewallRule" as const;
const RULES = 30;

/** The simulator's own order of its firewall rules (OPNsense by sequence, VyOS by rule number). */
const APPLIANCE_ORDER: Record<string, (objects: VendorObject[]) => VendorObject[]> = {
  opnsense: (objects) =>
    objects
      .map((o, i) => ({ o, i }))
      .sort((a, b) => Number(a.o.sequence) - Number(b.o.sequence) || a.i - b.i)
      .map((x) => x.o),
  vyos: (objects) =>
    objects
      .filter((o) => String(o.path).startsWith("firewall ipv4 name WAN_IN rule "))
      .sort((a, b) => ruleNumberOf(a) - ruleNumberOf(b)),
};

function ruleNumberOf(o: VendorObject): number {
  return Number(String(o.path).split(" ").at(-1));
}

/** A seeded generator: the same "random" priorities and shuffles on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** n − longest increasing subsequence, by dynamic programming: the fewest moves, independently. */
function minimalMoves(ranks: number[]): number {
  const best = ranks.map(() => 1);
  for (let i = 0; i < ranks.length; i++)
    for (let j = 0; j < i; j++)
      if ((ranks[j] as number) < (ranks[i] as number))
        best[i] = Math.max(best[i] as number, (best[j] as number) + 1);
  return ranks.length - Math.max(0, ...best);
}

const ordered = (rule: VnfRule): OrderedRule => ({
  key: `${rule.metadata.namespace}/${rule.metadata.name}`,
  priority: rule.spec.priority,
});

describe.each(VENDORS)("rule order on $vendor", (row: VendorRow) => {
  let sim: SimulatorHandle;
  let dictionary: CompiledDictionary;
  let session: ManagedSession;
  let ordering: OrderingFacts;
  let rules: VnfRule[];

  function rule(i: number, priority: number | undefined): VnfRule {
    const name = `r${String(i).padStart(2, "0")}`;
    return {
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfFirewallRule",
      metadata: { namespace: "ns", name, uid: `order-${name}`, generation: 1 },
      spec: {
        ...(row.firewallRule.create as object),
        description: `order ${name}`,
        deviceRef: { name: "edge" },
        ...(priority === undefined ? {} : { priority }),
      },
    } as unknown as VnfRule;
  }

  /** What the rule controller does for a create: next to its applied neighbour, or between numbers. */
  async function create(target: VnfRule): Promise<void> {
    const peers = rules.filter((r) => r !== target && r.status?.vendorRef !== undefined);
    const request = requestFor(target, OWNER);
    if (ordering.movable) {
      const position = placeNewRule(
        ordered(target),
        peers.map((p) => ({ ...ordered(p), vendorRef: p.status?.vendorRef })),
      );
      const { vendorRef } = await session.create(KIND, position ? { ...request, position } : request);
      target.status = { vendorRef };
      return;
    }
    const numbers = ordering.numbers as NonNullable<OrderingFacts["numbers"]>;
    const taken = new Set(peers.map((p) => p.status?.ruleNumber as number));
    const ruleNumber =
      numberForNewRule(
        ordered(target),
        peers.map((p) => ({ ...ordered(p), number: p.status?.ruleNumber })),
        { ...numbers, taken },
      ) ?? Math.max(numbers.min, ...taken) + 1;
    const { vendorRef } = await session.create(KIND, { ...request, ruleNumber });
    target.status = { vendorRef, ruleNumber };
  }

  /** One order step (the order controller), then the renumbers it hands the rule controller. */
  async function orderStep(): Promise<{ moves: number; outOfOrder: string[] }> {
    const objects = await session.list(KIND);
    const reserved = new Set(
      rules.flatMap((r) => (r.status?.ruleNumber === undefined ? [] : [r.status.ruleNumber])),
    );
    const { plan, rulesByKey } = planDeviceOrder({
      kind: KIND,
      owner: OWNER,
      ordering,
      objects,
      rules,
      placement: { at: "Top" },
      reservedNumbers: reserved,
    });
    expect(plan.problems).toEqual([]);
    const renumbers: Array<[VnfRule, number]> = [];
    const moves = await performOrder(session, KIND, ordering, plan, rulesByKey, undefined, {
      renumber: (r, number) => renumbers.push([r, number]),
    });
    for (const [r, number] of renumbers) {
      const at = plan.moves.find((m) => m.rule === ordered(r).key)?.vendorRef as string;
      const updated = await session.update(KIND, at, { ...requestFor(r, OWNER), ruleNumber: number });
      r.status = { vendorRef: updated?.vendorRef ?? at, ruleNumber: number };
    }
    if (moves > 0) await session.activate();
    return { moves, outOfOrder: plan.moves.map((m) => m.rule) };
  }

  /** The managed rules in the appliance's order (names), and what else is there ("U"). */
  async function applianceOrder(view: "candidate" | "running" = "candidate"): Promise<string[]> {
    const objects = (await sim.control.objects(row.firewallRule.stored.controlKind))[view];
    const sorted = APPLIANCE_ORDER[row.vendor]?.(objects) ?? objects;
    const byUid = new Map(rules.map((r) => [requestFor(r, OWNER).marker, r.metadata.name]));
    return sorted.map((o) => {
      const marker = /\[vnf:([^\]]+)\]/.exec(String(row.firewallRule.stored.description(o) ?? ""))?.[1];
      return (marker !== undefined && byUid.get(marker)) || "U";
    });
  }

  /** Names in the order they were created. */
  let created: string[] = [];

  /**
   * Lower priority first; rules without a priority after them, in the order they were created (a
   * create puts one last, and nothing ever moves them among themselves).
   */
  function desired(): string[] {
    const creation = (r: VnfRule) => created.indexOf(r.metadata.name ?? "");
    const withPriority = rules.filter((r) => r.spec.priority !== undefined);
    const without = rules.filter((r) => r.spec.priority === undefined);
    return [
      ...withPriority.sort((a, b) => compareRules(ordered(a), ordered(b))),
      ...without.sort((a, b) => creation(a) - creation(b)),
    ].map((r) => r.metadata.name ?? "");
  }

  async function expectInOrder(): Promise<void> {
    const want = desired();
    const managedFirst = (names: string[]) => {
      // Top: the managed block first, every other rule of the scope after it. VyOS: the administrator's
      // rules numbered below the dictionary's range (1000) come first, the block is the range.
      const others = row.vendor === "vyos" ? 3 : 0;
      expect(names.slice(0, others).every((n) => n === "U")).toBe(true);
      expect(names.slice(others, others + want.length)).toEqual(want);
      expect(names.slice(others + want.length).every((n) => n === "U")).toBe(true);
    };
    managedFirst(await applianceOrder("candidate"));
    if (row.activation === "staged" && row.vendor !== "vyos") managedFirst(await applianceOrder("running"));
  }

  /** Rules nobody manages, there before the operator: a disowned marker, or (VyOS) numbers below 1000. */
  async function addUnmanaged(): Promise<void> {
    for (const n of [10, 20, 30]) {
      if (row.vendor === "vyos") {
        await sim.control.putObject("firewallRule", {
          path: `firewall ipv4 name WAN_IN rule ${n}`,
          action: "accept",
          description: `admin rule ${n}`,
        });
      } else {
        await session.create(KIND, {
          spec: { ...(row.firewallRule.create as object), description: `admin rule ${n}` },
          marker: `orphaned.admin-${n}`,
        });
      }
    }
    await session.activate();
  }

  /** An administrator moves the rule to the very end by hand. */
  async function moveByHand(target: VnfRule): Promise<void> {
    const ref = target.status?.vendorRef as string;
    if (row.vendor === "opnsense") {
      await sim.control.updateObject("firewallRule", ref, { sequence: "999000" });
    } else if (row.vendor === "vyos") {
      const objects = (await sim.control.objects("firewallRule")).candidate;
      const path = `firewall ipv4 name WAN_IN rule ${ref}`;
      const { path: _path, ...config } = objects.find((o) => o.path === path) as VendorObject;
      await sim.control.deleteObject("firewallRule", path);
      await sim.control.putObject("firewallRule", {
        path: "firewall ipv4 name WAN_IN rule 999000",
        ...config,
      });
    } else {
      const objects = await session.list(KIND);
      await session.move?.(KIND, ref, { where: "after", pivot: objects.at(-1)?.vendorRef as string });
      await session.activate();
    }
  }

  beforeAll(async () => {
    dictionary = await loadDictionaryFile(row.dictionary);
    sim = await startSimulator(row.vendor, row.simulator as never);
    session = engineSessionFactory({ dictionary: () => dictionary })({
      device: { namespace: "ns", name: "edge" },
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
    ordering = session.ordering?.(KIND) as OrderingFacts;
  });

  beforeEach(async () => {
    await sim.control.reset();
  });

  afterAll(async () => {
    await session?.close();
    await sim?.stop();
  });

  it(`${RULES} rules with random priorities, created shuffled among unmanaged rules: the appliance holds them in priority order; 3 priority changes cost exactly the minimal moves; a hand-made reorder is put back`, {
    timeout: 180_000,
  }, async () => {
    expect(ordering, "the dictionary orders firewall rules").toBeDefined();
    const next = random(row.vendor.length * 7919);
    rules = Array.from({ length: RULES }, (_, i) =>
      rule(i, next() < 0.15 ? undefined : 100 + Math.floor(next() * 800)),
    );
    await addUnmanaged();
    const byName = (name: string) => rules.find((r) => r.metadata.name === name) as VnfRule;

    const shuffled = [...rules].sort(() => next() - 0.5);
    created = shuffled.map((r) => r.metadata.name ?? "");
    for (const r of shuffled) await create(r);
    await session.activate();
    // Each create with a priority went next to its nearest neighbour: those rules are already in order
    // among themselves; the order step only has to put the block where it belongs (and the rules
    // without a priority, appended last, behind them). Where the place is a number, two neighbours a few
    // numbers apart leave no room for a third: the order step renumbers.
    if (!ordering.numbers) {
      const prioritized = new Set(desired().filter((n) => byName(n).spec.priority !== undefined));
      expect((await applianceOrder()).filter((n) => prioritized.has(n))).toEqual(
        desired().filter((n) => prioritized.has(n)),
      );
    }
    const first = await orderStep();
    await expectInOrder();
    expect((await orderStep()).moves, "an ordered device needs no move").toBe(0);

    // Three priority changes that each take a rule far from where it is.
    const now = desired();
    const changes: Array<[string, number]> = [
      [now[10] as string, 1],
      [now[5] as string, 99_999],
      [now[20] as string, 2],
    ];
    for (const [name, priority] of changes) byName(name).spec.priority = priority;
    const after = desired();
    const ranks = now.map((name) => after.indexOf(name));
    const minimal = minimalMoves(ranks);
    expect(minimal, "the three changes each need their own move").toBe(3);
    const second = await orderStep();
    expect(second.moves).toBe(minimal);
    expect(new Set(second.outOfOrder)).toEqual(new Set(changes.map(([n]) => `ns/${n}`)));
    await expectInOrder();

    // By hand: a rule of the block goes to the very end. The plan (what the drift check reports as
    // drift "order") names exactly that rule, and one move puts it back.
    const victim = byName(after[3] as string);
    await moveByHand(victim);
    const drifted = await orderStep();
    expect(drifted.outOfOrder).toEqual([`ns/${victim.metadata.name}`]);
    expect(drifted.moves).toBe(1);
    await expectInOrder();
    console.log(
      `[ordering] ${row.vendor}: ${RULES} rules created shuffled → ${first.moves} move(s) after creation; 3 priority changes → ${second.moves} move(s) (minimal ${minimal}); hand-made reorder → ${drifted.moves}`,
    );
  });
});
