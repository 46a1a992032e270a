// planImport as a table: names (readable, DNS labels, unique without depending on the list's order),
// priorities (the appliance's order, every object counted), the adopt annotation, and what is left
// out and why.
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import {
  ADOPT_ANNOTATION,
  type ListedObject,
  planImport,
  priorityStep,
  slug,
} from "../../../src/import/plan.ts";
import { manifestsText, reportText } from "../../../src/import/print.ts";

const device = { namespace: "edge", name: "fw1" };

function ok(vendorRef: string, nameHint: string, spec: Record<string, unknown> = {}): ListedObject {
  return {
    vendorRef,
    reversed: { ok: true, nameHint, spec: { interface: "lan", action: "allow", ...spec } },
    normalized: {},
  };
}

function refused(vendorRef: string, nameHint: string, reason: string): ListedObject {
  return {
    vendorRef,
    reversed: { ok: false, nameHint, reason },
    normalized: { interface: "lan", action: "allow", $error: "x" },
  };
}

describe("slug", () => {
  it.each([
    ["Allow web servers", "allow-web-servers"],
    ["  Über  Größe!! ", "uber-gro-e"],
    ["--a__b--", "a-b"],
    ["日本", ""],
  ])("%j → %j", (text, expected) => {
    expect(slug(text, 40)).toBe(expected);
  });

  it("cuts to the room left, never ending on a dash", () => {
    expect(slug("aaaa bbbb", 5)).toBe("aaaa");
  });
});

describe("priorityStep", () => {
  it.each([
    [1, 10],
    [9999, 10],
    [10_000, 9],
    [99_999, 1],
  ])("%d objects → %d apart", (count, step) => {
    expect(priorityStep(count)).toBe(step);
    expect(count * step).toBeLessThanOrEqual(99_999);
  });
});

describe("planImport", () => {
  it("one manifest per expressible object, in the appliance's order, adopting its object", () => {
    const plan = planImport({
      device,
      lists: { firewallRule: [ok("7", "Web servers"), ok("3", "DNS"), ok("9", "")] },
      recorded: new Set(),
    });
    expect(plan.manifests.map((m) => [m.metadata.name, m.spec.priority, m.metadata.annotations])).toEqual([
      ["web-servers", 10, { [ADOPT_ANNOTATION]: "7" }],
      ["dns", 20, { [ADOPT_ANNOTATION]: "3" }],
      ["fw-9", 30, { [ADOPT_ANNOTATION]: "9" }],
    ]);
    expect(plan.manifests[0]).toMatchObject({
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfFirewallRule",
      metadata: { namespace: "edge" },
      spec: { deviceRef: { name: "fw1" }, interface: "lan", action: "allow" },
    });
  });

  it("a shared name hint gets a hash of each vendorRef: the same names whatever the order", () => {
    const a = planImport({
      device,
      lists: { firewallRule: [ok("1", "allow"), ok("2", "allow"), ok("3", "other")] },
      recorded: new Set(),
    });
    const b = planImport({
      device,
      lists: { firewallRule: [ok("3", "other"), ok("2", "allow"), ok("1", "allow")] },
      recorded: new Set(),
    });
    const names = (p: typeof a) =>
      Object.fromEntries(p.manifests.map((m) => [m.metadata.annotations[ADOPT_ANNOTATION], m.metadata.name]));
    expect(names(a)).toEqual(names(b));
    expect(names(a)["3"]).toBe("other");
    expect(names(a)["1"]).toMatch(/^allow-[0-9a-f]{5}$/);
    expect(names(a)["1"]).not.toBe(names(a)["2"]);
  });

  it("names are unique across kinds, prefixed, and at most 63 characters", () => {
    const long = "x".repeat(100);
    const plan = planImport({
      device,
      lists: { firewallRule: [ok("1", "web"), ok("2", long)], natRule: [ok("a", "web")] },
      recorded: new Set(),
      namePrefix: "FW1",
    });
    const names = plan.manifests.map((m) => m.metadata.name);
    expect(new Set(names).size).toBe(3);
    for (const name of names) {
      expect(name).toMatch(/^fw1-[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(plan.manifests[2]?.kind).toBe("VnfNatRule");
    expect(plan.manifests[2]?.spec.priority).toBe(10);
  });

  it("leaves out managed, recorded and unexpressible objects, saying why, and keeps their places", () => {
    const managed: ListedObject = { ...ok("5", "ours"), managedBy: "carries the ownership marker" };
    const plan = planImport({
      device,
      lists: {
        firewallRule: [
          managed,
          refused("6", "floating", "a floating rule"),
          ok("8", "recorded"),
          ok("9", "new"),
        ],
      },
      recorded: new Set(["firewallRule/8"]),
    });
    expect(plan.manifests.map((m) => [m.metadata.name, m.spec.priority])).toEqual([["new", 40]]);
    expect(plan.unsupported).toEqual([
      expect.objectContaining({ vendorRef: "6", name: "floating", reason: "a floating rule" }),
    ]);
    expect(plan.managed.map((m) => [m.vendorRef, m.reason])).toEqual([
      ["5", "carries the ownership marker"],
      ["8", "a rule in the cluster records it as its appliance object"],
    ]);
    // The draft of an unexpressible object carries what was read, never an engine field.
    expect(plan.unsupported[0]?.draft?.spec).toEqual({
      deviceRef: { name: "fw1" },
      priority: 20,
      interface: "lan",
      action: "allow",
    });
  });
});

describe("order warnings", () => {
  const mixed = (): ListedObject[] => [
    refused("1", "factory", "x"),
    ok("2", "a"),
    refused("3", "floating", "x"),
    { ...ok("4", "ours"), managedBy: "marker" },
    ok("5", "b"),
    refused("6", "trailing", "x"),
  ];

  it("placement Keep (the default): none, whatever stays unmanaged", () => {
    const plan = planImport({ device, lists: { firewallRule: mixed() }, recorded: new Set() });
    expect(plan.orderWarnings).toEqual([]);
  });

  it.each([
    ["Top", "(1, 3)"],
    ["After", "(3)"],
    ["Bottom", "(3, 6)"],
  ] as const)("placement %s: names the unmanaged objects the block would cross %s", (placement, refs) => {
    const plan = planImport({ device, lists: { firewallRule: mixed() }, recorded: new Set(), placement });
    expect(plan.orderWarnings).toEqual([
      `firewallRule: with the device's spec.ruleOrder placement ${placement} the managed rules of a scope form one block, so applying moves imported rules past 2 object(s) that stay unmanaged ${refs}; placement Keep (the default) keeps the appliance's order`.replace(
        "past 2",
        `past ${refs.split(",").length}`,
      ),
    ]);
    expect(reportText(plan, "edge/fw1")).toContain(
      `order: firewallRule: with the device's spec.ruleOrder placement ${placement}`,
    );
  });

  it("per scope: an unmanaged rule on another interface is not in the way", () => {
    const on = (o: ListedObject, scope: string): ListedObject => ({ ...o, scope });
    const plan = planImport({
      device,
      lists: {
        firewallRule: [
          on(ok("1", "a"), "lan"),
          on(refused("2", "wan-only", "x"), "wan"),
          on(ok("3", "b"), "lan"),
        ],
      },
      recorded: new Set(),
      placement: "After",
    });
    expect(plan.orderWarnings).toEqual([]);
  });

  it("numbered appliances: priorities follow the numbers, not the list", () => {
    const numbered = (o: ListedObject, number: number): ListedObject => ({ ...o, number });
    const plan = planImport({
      device,
      lists: {
        firewallRule: [
          numbered(ok("a", "third"), 300),
          numbered(ok("b", "first"), 100),
          numbered(ok("c", "second"), 200),
        ],
      },
      recorded: new Set(),
    });
    expect(plan.manifests.map((m) => [m.metadata.name, m.spec.priority])).toEqual([
      ["first", 10],
      ["second", 20],
      ["third", 30],
    ]);
  });
});

describe("printing", () => {
  const plan = planImport({
    device,
    lists: { firewallRule: [ok("7", "web"), refused("6", "floating", "a floating rule")] },
    recorded: new Set(),
  });

  it("yaml: one document per manifest; unsupported ones only as comments", () => {
    const text = manifestsText(plan, "yaml", true);
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    expect(docs.filter((d) => d !== null).map((d) => d.metadata.name)).toEqual(["web"]);
    expect(text).toContain(
      "# NOT IMPORTED firewallRule 6: a floating rule\n# apiVersion: vnf-operator.io/v1alpha1",
    );
    expect(manifestsText(plan, "yaml", false)).not.toContain("NOT IMPORTED");
  });

  it("json: a List", () => {
    const list = parse(manifestsText(plan, "json", false));
    expect(list.kind).toBe("List");
    expect(list.items.map((m: { metadata: { name: string } }) => m.metadata.name)).toEqual(["web"]);
  });

  it("the report names every object left out and counts", () => {
    const text = reportText(plan, "edge/fw1");
    expect(text).toContain("not imported: firewallRule 6 (floating): a floating rule");
    expect(text).toContain("edge/fw1: 1 manifests (1 VnfFirewallRule, 0 VnfNatRule); 1 objects");
  });
});
