// Each status field and condition type has one owner: two controllers applying the same field would
// take it from each other on every write (server-side apply with force).
import { describe, expect, it } from "vitest";
import { readCrds } from "../../../hack/gen-crd-types.ts";
import {
  DEVICE_CONTROLLER_STATUS,
  DRIFT_CONTROLLER_DEVICE_STATUS,
  DRIFT_CONTROLLER_RULE_STATUS,
  FieldManager,
  ORDER_CONTROLLER_RULE_STATUS,
  RULE_CONTROLLER_STATUS,
  statusOwnershipComplete,
} from "../../../src/controllers/status-ownership.ts";
import type { StatusOwnership } from "../../../src/runtime/status-writer.ts";

const owners: Array<[string, Record<string, StatusOwnership>]> = [
  [
    "VnfFirewallRule",
    {
      rule: RULE_CONTROLLER_STATUS,
      drift: DRIFT_CONTROLLER_RULE_STATUS,
      order: ORDER_CONTROLLER_RULE_STATUS,
    },
  ],
  [
    "VnfNatRule",
    {
      rule: RULE_CONTROLLER_STATUS,
      drift: DRIFT_CONTROLLER_RULE_STATUS,
      order: ORDER_CONTROLLER_RULE_STATUS,
    },
  ],
  ["VnfDevice", { device: DEVICE_CONTROLLER_STATUS, drift: DRIFT_CONTROLLER_DEVICE_STATUS }],
];

describe("status ownership", () => {
  it.each(owners)("%s: every status field of the CRD has exactly one owner", (kind, byController) => {
    const crd = readCrds().find((c) => c.kind === kind);
    const fields = Object.keys(crd?.schema.properties?.status?.properties ?? {}).filter(
      (f) => f !== "conditions",
    );
    const owned = Object.values(byController).flatMap((o) => [...o.fields]);
    expect([...owned].sort()).toEqual([...fields].sort());
    const conditions = Object.values(byController).flatMap((o) => [...(o.conditions ?? [])]);
    expect(new Set(conditions).size).toBe(conditions.length);
  });

  it("conditions are a list-map keyed by type in every CRD (per-condition ownership)", () => {
    for (const crd of readCrds()) {
      const conditions = crd.schema.properties?.status?.properties?.conditions as Record<string, unknown>;
      expect(conditions["x-kubernetes-list-type"], crd.kind).toBe("map");
      expect(conditions["x-kubernetes-list-map-keys"], crd.kind).toEqual(["type"]);
    }
  });

  it("one field manager per controller", () => {
    expect(new Set(Object.values(FieldManager)).size).toBe(Object.keys(FieldManager).length);
    expect(statusOwnershipComplete).toBe(true);
  });
});
