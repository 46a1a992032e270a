import { describe, expect, it } from "vitest";
import {
  type DeviceProtectionFacts,
  type DeviceProtectionPlan,
  planDeviceProtection,
} from "../../../src/controllers/device-protection.ts";

const cases: Array<[string, DeviceProtectionFacts, DeviceProtectionPlan]> = [
  [
    "a live device gets the finalizer",
    { deleting: false, hasFinalizer: false, holdingRules: [] },
    { step: "addFinalizer" },
  ],
  [
    "a live device that has it: nothing (rules referencing it do not matter yet)",
    { deleting: false, hasFinalizer: true, holdingRules: ["VnfFirewallRule web"] },
    { step: "none" },
  ],
  [
    "deleted with Delete-policy rules still holding their finalizer: wait, naming them",
    { deleting: true, hasFinalizer: true, holdingRules: ["VnfFirewallRule web", "VnfNatRule fwd"] },
    { step: "wait", rules: ["VnfFirewallRule web", "VnfNatRule fwd"] },
  ],
  [
    "deleted, no such rule left: release",
    { deleting: true, hasFinalizer: true, holdingRules: [] },
    { step: "release" },
  ],
  [
    "deleted without our finalizer (removed by hand): nothing to do",
    { deleting: true, hasFinalizer: false, holdingRules: ["VnfFirewallRule web"] },
    { step: "none" },
  ],
];

describe("planDeviceProtection", () => {
  it.each(cases)("%s", (_name, facts, expected) => {
    expect(planDeviceProtection(facts)).toEqual(expected);
  });
});
