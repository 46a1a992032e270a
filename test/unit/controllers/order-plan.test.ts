import { describe, expect, it } from "vitest";
import { numberForNewRule, placeNewRule } from "../../../src/controllers/order-new-rule.ts";
import {
  compareRules,
  fitNumbers,
  longestIncreasing,
  type OrderMove,
  type OrderObject,
  type Placement,
  planOrder,
} from "../../../src/controllers/order-plan.ts";

const TOP: Placement = { at: "Top" };

/** Managed object `name` (key ns/name) with a priority, or unmanaged `U…` (no rule). */
function obj(name: string, priority?: number, extra: Partial<OrderObject> = {}): OrderObject {
  const managed = !name.startsWith("U");
  return {
    vendorRef: name,
    scope: "",
    ...(managed ? { rule: { key: `ns/${name}`, priority } } : {}),
    ...extra,
  };
}

/** Runs moves the way an appliance does (relative: splice next to the pivot; numbered: sort). */
function run(objects: OrderObject[], moves: OrderMove[], numbered = false): string[] {
  if (numbered) {
    const numbers = new Map(objects.map((o) => [o.vendorRef, o.number ?? 0]));
    for (const move of moves) numbers.set(move.vendorRef, move.number as number);
    return objects
      .map((o, i) => ({ ref: o.vendorRef, n: numbers.get(o.vendorRef) as number, i }))
      .sort((a, b) => a.n - b.n || a.i - b.i)
      .map((x) => x.ref);
  }
  const out = objects.map((o) => o.vendorRef);
  for (const move of moves) {
    out.splice(out.indexOf(move.vendorRef), 1);
    const at = out.indexOf(move.pivot);
    expect(at, `pivot ${move.pivot} of ${move.vendorRef} exists`).toBeGreaterThanOrEqual(0);
    out.splice(move.where === "before" ? at : at + 1, 0, move.vendorRef);
  }
  return out;
}

/** Minimal moves, computed independently: n − longest increasing subsequence (O(n²) DP). */
function minimalMoves(ranks: number[]): number {
  const best = ranks.map(() => 1);
  for (let i = 0; i < ranks.length; i++)
    for (let j = 0; j < i; j++)
      if ((ranks[j] as number) < (ranks[i] as number))
        best[i] = Math.max(best[i] as number, (best[j] as number) + 1);
  return ranks.length - Math.max(0, ...best);
}

/** A seeded generator, so a failure is reproducible. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("compareRules: the order of managed rules", () => {
  const cases: Array<[string, string[], Array<[string, number | undefined]>]> = [
    [
      "lower priority first",
      ["a", "b"],
      [
        ["b", 20],
        ["a", 10],
      ],
    ],
    [
      "no priority after every priority",
      ["b", "a"],
      [
        ["a", undefined],
        ["b", 99999],
      ],
    ],
    [
      "ties by namespace/name",
      ["a", "b", "c"],
      [
        ["c", 5],
        ["a", 5],
        ["b", 5],
      ],
    ],
    [
      "no priority: equal (a stable sort keeps the order it was given: the appliance's)",
      ["b", "a"],
      [
        ["b", undefined],
        ["a", undefined],
      ],
    ],
    [
      "priority 0 is a priority",
      ["z", "a"],
      [
        ["a", undefined],
        ["z", 0],
      ],
    ],
  ];
  it.each(cases)("%s", (_name, expected, rules) => {
    const sorted = rules.map(([key, priority]) => ({ key, priority })).sort(compareRules);
    expect(sorted.map((r) => r.key)).toEqual(expected);
  });
});

describe("longestIncreasing", () => {
  it.each([
    [[], 0],
    [[1], 1],
    [[3, 1, 2], 2],
    [[5, 4, 3, 2, 1], 1],
    [[1, 2, 3, 4], 4],
    [[2, 6, 3, 4, 1, 5], 4],
  ])("%j → length %i, increasing", (input, length) => {
    const out = longestIncreasing(input, (x) => x);
    expect(out).toHaveLength(length);
    expect([...out].sort((a, b) => a - b)).toEqual(out);
    expect(out.every((x) => input.includes(x))).toBe(true);
  });
});

describe("planOrder: relative moves (FortiOS, PAN-OS, pfSense)", () => {
  const cases: Array<[string, OrderObject[], Placement, string[], number]> = [
    ["already in order: nothing moves", [obj("a", 1), obj("b", 2), obj("c", 3)], TOP, ["a", "b", "c"], 0],
    ["one rule out of place: one move", [obj("b", 2), obj("c", 3), obj("a", 1)], TOP, ["a", "b", "c"], 1],
    ["reversed three: two moves", [obj("c", 3), obj("b", 2), obj("a", 1)], TOP, ["a", "b", "c"], 2],
    [
      "top: managed rules go above the unmanaged ones",
      [obj("U1"), obj("a", 1), obj("b", 2)],
      TOP,
      ["a", "b", "U1"],
      2,
    ],
    [
      "top: the block already above an unmanaged rule stays",
      [obj("a", 1), obj("U1"), obj("b", 2)],
      TOP,
      ["a", "b", "U1"],
      1,
    ],
    [
      "bottom: managed rules go below every unmanaged one",
      [obj("a", 1), obj("U1"), obj("b", 2), obj("U2")],
      { at: "Bottom" },
      ["U1", "U2", "a", "b"],
      2,
    ],
    [
      "after an anchor: directly after it, before the next unmanaged rule",
      [obj("U1"), obj("b", 2), obj("U2", undefined, { anchor: true }), obj("U3"), obj("a", 1)],
      { at: "After", anchor: "U2" },
      ["U1", "U2", "a", "b", "U3"],
      2,
    ],
    [
      "after an anchor missing from the scope: top",
      [obj("U1"), obj("a", 1)],
      { at: "After", anchor: "nowhere" },
      ["a", "U1"],
      1,
    ],
    [
      "ignored objects (ours, rule being deleted) neither move nor count as in the way",
      [obj("b", 2), obj("x", 0, { ignored: true }), obj("a", 1)],
      TOP,
      ["a", "b", "x"],
      1,
    ],
    [
      "rules without a priority after those with one, in the appliance's order (never moved among themselves)",
      [obj("n2"), obj("n1"), obj("p", 50)],
      TOP,
      ["p", "n2", "n1"],
      1,
    ],
  ];
  it.each(cases)("%s", (_name, objects, placement, expected, moves) => {
    const plan = planOrder({ objects, placement });
    const after = run(objects, plan.moves).filter(
      (ref) => !objects.find((o) => o.vendorRef === ref)?.ignored,
    );
    expect(after).toEqual(expected.filter((ref) => !objects.find((o) => o.vendorRef === ref)?.ignored));
    expect(plan.moves).toHaveLength(moves);
    expect(plan.problems).toEqual([]);
  });

  it("scopes are ordered independently, and positions are per scope", () => {
    const objects = [
      obj("b", 2, { scope: "wan" }),
      obj("d", 4, { scope: "lan" }),
      obj("a", 1, { scope: "wan" }),
      obj("c", 3, { scope: "lan" }),
    ];
    const plan = planOrder({ objects, placement: TOP });
    expect(plan.moves.map((m) => m.scope)).toEqual(["wan", "lan"]);
    const after = run(objects, plan.moves);
    const scopeOf = (ref: string) => objects.find((o) => o.vendorRef === ref)?.scope;
    expect(after.filter((ref) => scopeOf(ref) === "wan")).toEqual(["a", "b"]);
    expect(after.filter((ref) => scopeOf(ref) === "lan")).toEqual(["c", "d"]);
    expect(Object.fromEntries(plan.positions)).toEqual({ "ns/a": 1, "ns/b": 2, "ns/c": 1, "ns/d": 2 });
  });

  it("a priority change on one rule moves that rule only", () => {
    const objects = ["a", "b", "c", "d", "e"].map((n, i) => obj(n, (i + 1) * 10));
    (objects[1] as OrderObject).rule = { key: "ns/b", priority: 45 };
    const plan = planOrder({ objects, placement: TOP });
    expect(plan.moves).toEqual([{ rule: "ns/b", vendorRef: "b", scope: "", where: "after", pivot: "d" }]);
  });

  it("random orders with unmanaged rules: always the desired block, in exactly the minimal number of moves", () => {
    const next = random(13);
    for (let round = 0; round < 300; round++) {
      const count = 1 + Math.floor(next() * 30);
      const objects: OrderObject[] = [];
      for (let i = 0; i < count; i++) {
        const priority = next() < 0.2 ? undefined : Math.floor(next() * 40);
        objects.push(obj(`r${i}`, priority));
      }
      const unmanaged = Math.floor(next() * 4);
      for (let i = 0; i < unmanaged; i++) objects.push(obj(`U${i}`));
      objects.sort(() => next() - 0.5);
      const placements: Placement[] = [TOP, { at: "Bottom" }];
      const placement = placements[round % 2] as Placement;
      const plan = planOrder({ objects, placement });
      const after = run(objects, plan.moves);
      const desired = objects
        .filter((o) => o.rule)
        .sort((a, b) => compareRules(a.rule as never, b.rule as never))
        .map((o) => o.vendorRef);
      const others = after.filter((ref) => ref.startsWith("U"));
      expect(after).toEqual(placement.at === "Top" ? [...desired, ...others] : [...others, ...desired]);
      // Minimal: only the managed rules inside the zone can stay; they must be increasing.
      const firstU = objects.findIndex((o) => !o.rule);
      const lastU = objects.findLastIndex((o) => !o.rule);
      const zone = objects.filter(
        (o, i) => o.rule && (placement.at === "Top" ? firstU < 0 || i < firstU : lastU < 0 || i > lastU),
      );
      const rank = (o: OrderObject) => desired.indexOf(o.vendorRef);
      const minimal = count - zone.length + minimalMoves(zone.map(rank));
      expect(plan.moves.length, `round ${round}`).toBe(minimal);
    }
  });
});

describe("planOrder: Keep (the default), managed rules ordered among themselves in place", () => {
  const KEEP: Placement = { at: "Keep" };
  it("interleaved with rules nobody manages and already in order: nothing moves (an imported rulebase)", () => {
    const objects = [obj("U1"), obj("a", 10), obj("U2"), obj("b", 20), obj("c", 30), obj("U3")];
    expect(planOrder({ objects, placement: KEEP }).moves).toEqual([]);
  });

  it("one rule out of order moves next to its managed neighbour; no rule crosses into a block elsewhere", () => {
    const objects = [obj("U1"), obj("a", 10), obj("U2"), obj("b", 40), obj("c", 30), obj("U3")];
    const plan = planOrder({ objects, placement: KEEP });
    expect(plan.moves).toHaveLength(1);
    const after = run(objects, plan.moves);
    expect(after.filter((n) => !n.startsWith("U"))).toEqual(["a", "c", "b"]);
    // The unmanaged rules keep their relative order and places around the rules that did not move.
    expect(after.filter((n) => n.startsWith("U"))).toEqual(["U1", "U2", "U3"]);
    expect(after.indexOf("U1")).toBeLessThan(after.indexOf("a"));
  });

  it("random interleavings: the managed rules end in priority order with exactly n − LIS moves", () => {
    const next = random(77);
    for (let round = 0; round < 50; round++) {
      const objects = Array.from({ length: 12 }, (_, i) =>
        next() < 0.3 ? obj(`U${i}`) : obj(`r${i}`, Math.floor(next() * 100)),
      );
      const plan = planOrder({ objects, placement: KEEP });
      const managed = objects.filter((o) => o.rule !== undefined);
      const desired = [...managed].sort((x, y) => compareRules(x.rule as never, y.rule as never));
      const ranks = managed.map((o) => desired.indexOf(o));
      expect(plan.moves).toHaveLength(minimalMoves(ranks));
      const after = run(objects, plan.moves);
      expect(after.filter((n) => !n.startsWith("U"))).toEqual(desired.map((o) => o.vendorRef));
      expect(after.filter((n) => n.startsWith("U"))).toEqual(
        objects.filter((o) => o.rule === undefined).map((o) => o.vendorRef),
      );
    }
  });
});

describe("planOrder: numbered ordering (OPNsense sequence, VyOS rule numbers)", () => {
  const numbers = { min: 1000, max: 999999, step: 10 };
  const n = (name: string, priority: number | undefined, number: number, extra: Partial<OrderObject> = {}) =>
    obj(name, priority, { number, ...extra });

  it("reads the order by number, not by list position", () => {
    const objects = [n("b", 2, 1020), n("a", 1, 1010)];
    expect(planOrder({ objects, placement: TOP, numbers }).moves).toEqual([]);
  });

  it("a rule out of place gets a free number between its new neighbours", () => {
    const objects = [n("a", 1, 1010), n("b", 2, 1020), n("c", 3, 1030), n("x", 0, 1040)];
    const plan = planOrder({ objects, placement: TOP, numbers });
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0]).toMatchObject({ vendorRef: "x", where: "before", pivot: "a" });
    const number = plan.moves[0]?.number as number;
    expect(number).toBeGreaterThanOrEqual(1000);
    expect(number).toBeLessThan(1010);
    expect(run(objects, plan.moves, true)).toEqual(["x", "a", "b", "c"]);
  });

  it("no room between two neighbours: a neighbour is renumbered too", () => {
    const objects = [n("a", 1, 1000), n("b", 3, 1001), n("c", 4, 1002), n("x", 2, 1003)];
    const plan = planOrder({ objects, placement: TOP, numbers });
    expect(plan.problems).toEqual([]);
    expect(plan.moves.length).toBeGreaterThan(1);
    expect(run(objects, plan.moves, true)).toEqual(["a", "x", "b", "c"]);
  });

  it("no room made the plan renumber rules in place: the whole block is spread once, marked room", () => {
    const objects = [n("a", 1, 1000), n("b", 3, 1001), n("c", 4, 1002), n("x", 2, 1003)];
    const plan = planOrder({ objects, placement: TOP, numbers });
    // Every managed rule gets a new number, `step` apart (room below the first one too).
    expect(plan.moves.map((m) => m.rule).sort()).toEqual(["ns/a", "ns/b", "ns/c", "ns/x"]);
    const after = run(objects, plan.moves, true);
    expect(after).toEqual(["a", "x", "b", "c"]);
    const numbered = new Map(plan.moves.map((m) => [m.vendorRef, m.number as number]));
    const sorted = after.map((ref) => numbered.get(ref) as number);
    for (let i = 1; i < sorted.length; i++)
      expect((sorted[i] as number) - (sorted[i - 1] as number)).toBe(10);
    expect(sorted[0]).toBeGreaterThan(1000);
    // Only x was out of order: the others move to make room, which a drift check does not report.
    expect(plan.moves.filter((m) => !m.room).map((m) => m.rule)).toEqual(["ns/x"]);
    // Then a priority change costs one move again.
    const spread = objects.map((o) => ({ ...o, number: numbered.get(o.vendorRef) as number }));
    (spread[2] as OrderObject).rule = { key: "ns/c", priority: 0 };
    const next = planOrder({ objects: spread, placement: TOP, numbers });
    expect(next.moves.map((m) => m.rule)).toEqual(["ns/c"]);
  });

  it("unmanaged rules numbered below the range come first whatever the placement", () => {
    const objects = [n("U1", undefined, 10), n("b", 2, 1000), n("a", 1, 1010)];
    const plan = planOrder({ objects, placement: TOP, numbers });
    expect(run(objects, plan.moves, true)).toEqual(["U1", "a", "b"]);
    expect(plan.moves).toHaveLength(1);
  });

  it("new numbers avoid numbers taken elsewhere (another rule set of the device)", () => {
    const objects = [n("a", 1, 1000), n("b", 2, 1100), n("x", 0, 1200)];
    const taken = new Set([1001, 1002, 1003, 1004, 1005]);
    const plan = planOrder({ objects, placement: TOP, numbers: { ...numbers, taken } });
    for (const move of plan.moves) expect(taken.has(move.number as number)).toBe(false);
    expect(run(objects, plan.moves, true)).toEqual(["x", "a", "b"]);
  });

  it("no room at all: the scope is reported, nothing moves", () => {
    const small = { min: 1, max: 3, step: 1 };
    const objects = [n("U1", undefined, 1), n("U2", undefined, 2), n("U3", undefined, 3), n("a", 1, 3)];
    const plan = planOrder({ objects, placement: TOP, numbers: small });
    expect(plan.moves).toEqual([]);
    expect(plan.problems[0]).toMatch(/no free number/);
  });

  it("random numbered scopes end in the desired order", () => {
    const next = random(7);
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(next() * 30);
      const used = new Set<number>();
      const objects: OrderObject[] = [];
      for (let i = 0; i < count; i++) {
        let number: number;
        do number = 1000 + Math.floor(next() * (next() < 0.5 ? 40 : 4000));
        while (used.has(number));
        used.add(number);
        objects.push(n(`r${i}`, next() < 0.2 ? undefined : Math.floor(next() * 40), number));
      }
      const plan = planOrder({ objects, placement: TOP, numbers });
      expect(plan.problems).toEqual([]);
      // The appliance's order is the numbers' order: rules without a priority keep it.
      const desired = [...objects]
        .sort((a, b) => (a.number ?? 0) - (b.number ?? 0))
        .filter((o) => o.rule)
        .sort((a, b) => compareRules(a.rule as never, b.rule as never))
        .map((o) => o.vendorRef);
      expect(run(objects, plan.moves, true), `round ${round}`).toEqual(desired);
      const numbersAfter = objects.map(
        (o) => plan.moves.find((m) => m.vendorRef === o.vendorRef)?.number ?? o.number,
      );
      expect(new Set(numbersAfter).size).toBe(count);
    }
  });
});

describe("placing a new rule", () => {
  const peers = [
    { key: "ns/a", priority: 10, vendorRef: "A" },
    { key: "ns/c", priority: 30, vendorRef: "C" },
    { key: "ns/d", priority: 40 },
  ];
  it.each([
    [
      "between two applied rules: after its predecessor, before the next",
      20,
      { where: "after", pivot: "A", next: "C" },
    ],
    ["first: before its successor", 5, { where: "before", pivot: "A" }],
    ["after a rule not yet created: after the nearest applied one", 50, { where: "after", pivot: "C" }],
  ])("%s", (_name, priority, expected) => {
    expect(placeNewRule({ key: "ns/b", priority }, peers)).toEqual(expected);
  });
  it("without a priority: no position — a create puts it last, after every rule with one", () => {
    expect(placeNewRule({ key: "ns/b" }, peers)).toBeUndefined();
    expect(placeNewRule({ key: "ns/0" }, [...peers, { key: "ns/z", vendorRef: "Z" }])).toBeUndefined();
  });
  it("nothing applied yet: no position (the ordering step places the block)", () => {
    expect(placeNewRule({ key: "ns/b", priority: 1 }, [{ key: "ns/x", priority: 2 }])).toBeUndefined();
  });
});

describe("numbering a new rule (VyOS)", () => {
  const numbers = { min: 1000, max: 999999, step: 10 };
  it("between its neighbours' numbers", () => {
    const number = numberForNewRule(
      { key: "ns/b", priority: 20 },
      [
        { key: "ns/a", priority: 10, number: 2000 },
        { key: "ns/c", priority: 30, number: 3000 },
      ],
      numbers,
    ) as number;
    expect(number).toBeGreaterThan(2000);
    expect(number).toBeLessThan(3000);
  });
  it("after the last: one step further", () => {
    expect(
      numberForNewRule({ key: "ns/z", priority: 99 }, [{ key: "ns/a", priority: 1, number: 2000 }], numbers),
    ).toBe(2010);
  });
  it("without a priority: after the highest number of its peers, whatever their names", () => {
    const peers = [
      { key: "ns/a", priority: 10, number: 2000 },
      { key: "ns/z", number: 5000 },
      { key: "ns/m", number: 3000 },
    ];
    expect(numberForNewRule({ key: "ns/b" }, peers, numbers)).toBe(5010);
  });
  it("the first rule starts well inside the range, leaving room before it", () => {
    const first = numberForNewRule({ key: "ns/a", priority: 1 }, [], numbers) as number;
    expect(first).toBeGreaterThan(5000);
  });
  it("no room: undefined (any free number, renumbered later)", () => {
    expect(
      numberForNewRule(
        { key: "ns/b", priority: 20 },
        [
          { key: "ns/a", priority: 10, number: 1000 },
          { key: "ns/c", priority: 30, number: 1001 },
        ],
        numbers,
      ),
    ).toBeUndefined();
  });
  it("skips taken numbers", () => {
    expect(
      numberForNewRule({ key: "ns/z", priority: 99 }, [{ key: "ns/a", priority: 1, number: 2000 }], {
        ...numbers,
        taken: new Set([2010]),
      }),
    ).toBe(2020);
  });
});

describe("fitNumbers", () => {
  const numbers = { min: 1, max: 100, step: 10 };
  it.each([
    [1, 10, 20, [15]],
    [2, 10, 40, [20, 30]],
    [1, 10, 11, undefined],
    [2, 10, 12, undefined],
    [1, 10, 12, [11]],
    [2, 90, undefined, [94, 97]],
    [1, undefined, undefined, [10]],
  ])("%i between %s and %s → %j", (count, lo, hi, expected) => {
    expect(fitNumbers(count, lo, hi, numbers, new Set())).toEqual(expected);
  });
});
