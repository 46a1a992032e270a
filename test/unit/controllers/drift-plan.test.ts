import { describe, expect, it } from "vitest";
import { type DriftInput, planDrift } from "../../../src/controllers/drift-plan.ts";
import type { ObservedObject } from "../../../src/controllers/ports.ts";

const object = (vendorRef: string, marker?: string, action = "pass"): ObservedObject =>
  marker === undefined
    ? { vendorRef, normalized: { action } }
    : { vendorRef, marker, normalized: { action } };

const rule = (key: string, marker: string, vendorRef: string, wantAction = "pass") => ({
  key,
  marker,
  vendorRef,
  differences: (o: ObservedObject) => (o.normalized.action === wantAction ? [] : ["action"]),
});

const cases: Array<[string, DriftInput, ReturnType<typeof planDrift>]> = [
  [
    "steady state: nothing drifted, nothing orphaned",
    { rules: [rule("ns/a", "u1", "10")], knownMarkers: new Set(["u1"]), objects: [object("10", "u1")] },
    { drifted: [], orphans: [], unmanaged: 0, unmanagedObjects: [] },
  ],
  [
    "object deleted on the appliance",
    { rules: [rule("ns/a", "u1", "10")], knownMarkers: new Set(["u1"]), objects: [] },
    { drifted: [{ key: "ns/a", fields: ["missing"] }], orphans: [], unmanaged: 0, unmanagedObjects: [] },
  ],
  [
    "object edited on the appliance",
    {
      rules: [rule("ns/a", "u1", "10")],
      knownMarkers: new Set(["u1"]),
      objects: [object("10", "u1", "block")],
    },
    {
      drifted: [{ key: "ns/a", fields: ["action"], vendorRef: "10" }],
      orphans: [],
      unmanaged: 0,
      unmanagedObjects: [],
    },
  ],
  [
    "object recreated by hand under another vendorRef: found by marker",
    { rules: [rule("ns/a", "u1", "10")], knownMarkers: new Set(["u1"]), objects: [object("11", "u1")] },
    {
      drifted: [{ key: "ns/a", fields: ["vendorRef"], vendorRef: "11" }],
      orphans: [],
      unmanaged: 0,
      unmanagedObjects: [],
    },
  ],
  [
    "our marker without a resource is an orphan; unmarked objects are unmanaged",
    {
      rules: [rule("ns/a", "u1", "10")],
      knownMarkers: new Set(["u1"]),
      objects: [object("10", "u1"), object("12", "gone"), object("13"), object("14")],
    },
    {
      drifted: [],
      orphans: [object("12", "gone")],
      unmanaged: 2,
      unmanagedObjects: [object("13"), object("14")],
    },
  ],
  [
    "a disowned marker (deletionPolicy Orphan) is unmanaged, never an orphan to remove",
    { rules: [], knownMarkers: new Set(), objects: [object("15", "orphaned.u7"), object("16", "u8")] },
    {
      drifted: [],
      orphans: [object("16", "u8")],
      unmanaged: 1,
      unmanagedObjects: [object("15", "orphaned.u7")],
    },
  ],
  [
    "a marker known elsewhere (another device, or a rule mid-apply) is never an orphan",
    { rules: [], knownMarkers: new Set(["u9"]), objects: [object("20", "u9")] },
    { drifted: [], orphans: [], unmanaged: 0, unmanagedObjects: [] },
  ],
];

describe("planDrift", () => {
  it.each(cases)("%s", (_name, input, expected) => {
    expect(planDrift(input)).toEqual(expected);
  });
});
