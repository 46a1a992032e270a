import { describe, expect, it } from "vitest";
import { type DriftInput, planDrift } from "../../../src/controllers/drift-plan.ts";
import {
  adoptableMarkers,
  devicePart,
  disownedMarker,
  installationPart,
  type MarkerOwner,
  ownershipOf,
  ruleMarker,
  rulePart,
} from "../../../src/controllers/markers.ts";
import type { ObservedObject } from "../../../src/controllers/ports.ts";

const us: MarkerOwner = { installationId: "cluster-a/vnf/vnf-operator", deviceUid: "dev-1" };
const otherInstall: MarkerOwner = { installationId: "cluster-b/vnf/vnf-operator", deviceUid: "dev-1" };
const otherDevice: MarkerOwner = { installationId: us.installationId, deviceUid: "dev-2" };

const U1 = "0f0e0d0c-0000-4000-8000-000000000001";
const GONE = "0f0e0d0c-0000-4000-8000-0000000000ff";

const object = (vendorRef: string, marker?: string, action = "pass"): ObservedObject =>
  marker === undefined
    ? { vendorRef, normalized: { action } }
    : { vendorRef, marker, normalized: { action } };

const rule = (key: string, uid: string, vendorRef: string, wantAction = "pass") => ({
  key,
  markers: adoptableMarkers(us, uid),
  vendorRef,
  differences: (o: ObservedObject) => (o.normalized.action === wantAction ? [] : ["action"]),
});

const known = (...uids: string[]) => new Set(uids.flatMap((uid) => [uid, rulePart(uid)]));
const input = (partial: Omit<DriftInput, "ownership">): DriftInput => ({
  ...partial,
  ownership: (marker) => ownershipOf(us, marker),
});
const mine = (uid: string) => ruleMarker(us, uid);

/** Our installation and device parts, a rule part of its own choosing, and a made-up check. */
const forged = `${installationPart(us.installationId)}.${devicePart(us.deviceUid)}.${rulePart(GONE)}.00000000`;

/** What the plan says, with the unmanaged objects listed (the plan also counts them). */
type Expected = Omit<ReturnType<typeof planDrift>, "unmanaged" | "unmanagedObjects"> & {
  unmanaged: ObservedObject[];
};

const cases: Array<[string, DriftInput, Expected]> = [
  [
    "steady state: nothing drifted, nothing orphaned",
    input({ rules: [rule("ns/a", U1, "10")], knownRules: known(U1), objects: [object("10", mine(U1))] }),
    { drifted: [], orphans: [], unmanaged: [] },
  ],
  [
    "object deleted on the appliance",
    input({ rules: [rule("ns/a", U1, "10")], knownRules: known(U1), objects: [] }),
    { drifted: [{ key: "ns/a", fields: ["missing"] }], orphans: [], unmanaged: [] },
  ],
  [
    "object edited on the appliance",
    input({
      rules: [rule("ns/a", U1, "10")],
      knownRules: known(U1),
      objects: [object("10", mine(U1), "block")],
    }),
    { drifted: [{ key: "ns/a", fields: ["action"], vendorRef: "10" }], orphans: [], unmanaged: [] },
  ],
  [
    "object recreated by hand under another vendorRef: found by marker",
    input({ rules: [rule("ns/a", U1, "10")], knownRules: known(U1), objects: [object("11", mine(U1))] }),
    { drifted: [{ key: "ns/a", fields: ["vendorRef"], vendorRef: "11" }], orphans: [], unmanaged: [] },
  ],
  [
    "an object still carrying the old-form marker (the rule's uid) is the rule's",
    input({ rules: [rule("ns/a", U1, "10")], knownRules: known(U1), objects: [object("10", U1)] }),
    { drifted: [], orphans: [], unmanaged: [] },
  ],
  [
    "our marker (this installation, this device) without a resource is an orphan; unmarked objects are unmanaged",
    input({
      rules: [rule("ns/a", U1, "10")],
      knownRules: known(U1),
      objects: [object("10", mine(U1)), object("12", mine(GONE)), object("13"), object("14")],
    }),
    { drifted: [], orphans: [object("12", mine(GONE))], unmanaged: [object("13"), object("14")] },
  ],
  [
    "another installation's marker for a rule we do not know: unmanaged, never an orphan",
    input({ rules: [], knownRules: known(), objects: [object("30", ruleMarker(otherInstall, GONE))] }),
    { drifted: [], orphans: [], unmanaged: [object("30", ruleMarker(otherInstall, GONE))] },
  ],
  [
    "our installation's marker for another device on the same appliance: unmanaged",
    input({ rules: [], knownRules: known(), objects: [object("31", ruleMarker(otherDevice, GONE))] }),
    { drifted: [], orphans: [], unmanaged: [object("31", ruleMarker(otherDevice, GONE))] },
  ],
  [
    "a marker written by hand in our form, with a check that does not verify: unmanaged",
    input({ rules: [], knownRules: known(), objects: [object("32", forged)] }),
    { drifted: [], orphans: [], unmanaged: [object("32", forged)] },
  ],
  [
    "an old-form marker of a rule nobody knows: unmanaged (it names no installation)",
    input({ rules: [], knownRules: known(), objects: [object("33", GONE)] }),
    { drifted: [], orphans: [], unmanaged: [object("33", GONE)] },
  ],
  [
    "a disowned marker (deletionPolicy Orphan) is unmanaged, never an orphan to remove",
    input({ rules: [], knownRules: known(), objects: [object("15", disownedMarker(U1))] }),
    { drifted: [], orphans: [], unmanaged: [object("15", disownedMarker(U1))] },
  ],
  [
    "a rule known elsewhere (another device's cache, a rule mid-apply) is never an orphan",
    input({ rules: [], knownRules: known(GONE), objects: [object("20", mine(GONE)), object("21", GONE)] }),
    { drifted: [], orphans: [], unmanaged: [] },
  ],
];

describe("planDrift", () => {
  it.each(cases)("%s", (_name, driftInput, expected) => {
    expect(planDrift(driftInput)).toEqual({
      ...expected,
      unmanaged: expected.unmanaged.length,
      unmanagedObjects: expected.unmanaged,
    });
  });
});
