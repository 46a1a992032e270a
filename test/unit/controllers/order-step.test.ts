// Which appliance objects the order step takes for our rules (planDeviceOrder): only objects whose marker
// is ours for this device, and one per rule — the one its status records. Everything else is someone
// else's: never moved, and (placement Keep) never crossed.
import { describe, expect, it } from "vitest";
import type { VnfRule } from "../../../src/api/types.ts";
import {
  devicePart,
  installationPart,
  type MarkerOwner,
  ruleMarker,
  rulePart,
} from "../../../src/controllers/markers.ts";
import type { Placement } from "../../../src/controllers/order-plan.ts";
import { orderingNeeded, planDeviceOrder } from "../../../src/controllers/order-step.ts";
import type { ObservedObject } from "../../../src/controllers/ports.ts";

const us: MarkerOwner = { installationId: "cluster-a/vnf/vnf-operator", deviceUid: "dev-1" };
const them: MarkerOwner = { installationId: "cluster-b/vnf/vnf-operator", deviceUid: "dev-9" };

function rule(name: string, priority: number, vendorRef: string): VnfRule {
  return {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind: "VnfFirewallRule",
    metadata: { namespace: "ns", name, uid: `uid-${name}` },
    spec: { deviceRef: { name: "dev" }, priority },
    status: { vendorRef },
  } as unknown as VnfRule;
}

const object = (vendorRef: string, marker?: string): ObservedObject => ({
  vendorRef,
  ...(marker === undefined ? {} : { marker }),
  normalized: {},
  scope: "wan/in",
});

function plan(rules: VnfRule[], objects: ObservedObject[]) {
  return planDeviceOrder({
    kind: "firewallRule",
    owner: us,
    ordering: { movable: true },
    objects,
    rules,
    placement: { at: "Keep" },
  }).plan;
}

describe("planDeviceOrder: only our objects are our rules", () => {
  const first = rule("first", 10, "101");
  const second = rule("second", 20, "102");

  it("moves our rule out of order, next to its managed neighbour", () => {
    const moves = plan(
      [first, second],
      [object("102", ruleMarker(us, "uid-second")), object("101", ruleMarker(us, "uid-first"))],
    ).moves;
    expect(moves).toHaveLength(1);
    expect(["101", "102"]).toContain(moves[0]?.vendorRef);
  });

  it("a marker typed by hand in our form (the check does not verify) is not the rule's: never moved", () => {
    const forged = `${installationPart(us.installationId)}.${devicePart(us.deviceUid)}.${rulePart("uid-first")}.00000000`;
    // The forged copy of `first` sits after `second`: were it taken for `first`, it would be moved.
    const { moves, positions } = plan(
      [first, second],
      [
        object("101", ruleMarker(us, "uid-first")),
        object("102", ruleMarker(us, "uid-second")),
        object("900", forged),
      ],
    );
    expect(moves).toEqual([]);
    expect(positions.get("ns/first")).toBe(1);
  });

  it("a verbatim copy of a rule's marker: the object the status records is the rule's, the copy is never moved", () => {
    const copy = object("900", ruleMarker(us, "uid-first"));
    // The copy is listed first, where `first` belongs; the recorded 101 is after `second`: out of order.
    // Taking the copy for `first` would see nothing to do (and would move the copy when it is the one out of place).
    const { moves } = plan(
      [first, second],
      [copy, object("102", ruleMarker(us, "uid-second")), object("101", ruleMarker(us, "uid-first"))],
    );
    expect(moves).toHaveLength(1);
    expect(moves[0]?.vendorRef).not.toBe("900");
  });

  it("another installation's objects are unmanaged: never moved, even one naming a rule part of ours", () => {
    const theirs = object("500", ruleMarker(them, "uid-first"));
    const { moves } = plan(
      [first, second],
      [object("102", ruleMarker(us, "uid-second")), theirs, object("101", ruleMarker(us, "uid-first"))],
    );
    expect(moves.map((m) => m.vendorRef)).not.toContain("500");
  });
});

describe("orderingNeeded: when the order step reads the appliance at all", () => {
  const loose = (name: string, status: Record<string, unknown> = {}) =>
    ({
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfFirewallRule",
      metadata: { namespace: "ns", name, uid: `uid-${name}` },
      spec: { deviceRef: { name: "dev" } },
      status,
    }) as unknown as VnfRule;
  it.each([
    ["Keep, no rule with a priority: nothing can move", { at: "Keep" }, [loose("a"), loose("b")], false],
    ["Keep, one rule with a priority", { at: "Keep" }, [loose("a"), rule("p", 10, "1")], true],
    [
      "Keep, a place left from a priority since removed (to clear)",
      { at: "Keep" },
      [loose("a", { position: 3 })],
      true,
    ],
    ["Top: the block's place matters without priorities", { at: "Top" }, [loose("a")], true],
    ["Bottom", { at: "Bottom" }, [loose("a")], true],
    ["After an anchor", { at: "After", anchor: "x" }, [loose("a")], true],
  ] as const)("%s → %s", (_name, placement, rules, expected) => {
    expect(orderingNeeded(placement as Placement, rules as unknown as VnfRule[])).toBe(expected);
  });
});
