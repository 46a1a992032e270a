import { describe, expect, it } from "vitest";
import { mergePatch, statusPatch } from "../../../src/controllers/status-patch.ts";

const cases: Array<[string, unknown, unknown, unknown]> = [
  ["identical objects: no patch", { a: 1, b: { c: "x" } }, { a: 1, b: { c: "x" } }, undefined],
  ["key order is irrelevant", { a: 1, b: 2 }, { b: 2, a: 1 }, undefined],
  ["changed leaf", { a: 1 }, { a: 2 }, { a: 2 }],
  ["removed key becomes null", { a: 1, errorCode: "VNF_TIMEOUT" }, { a: 1 }, { errorCode: null }],
  ["undefined value counts as removed", { a: 1, b: 2 }, { a: 1, b: undefined }, { b: null }],
  [
    "nested object diffed, so a stale nested key is removed",
    { pendingOperation: { operation: "update", vendorRef: "7", attempt: 1 } },
    { pendingOperation: { operation: "create", attempt: 1 } },
    { pendingOperation: { operation: "create", vendorRef: null } },
  ],
  [
    "arrays replaced whole",
    { conditions: [{ type: "Ready", status: "False" }] },
    { conditions: [{ type: "Ready", status: "True" }] },
    { conditions: [{ type: "Ready", status: "True" }] },
  ],
  ["new nested object", {}, { drift: { fields: ["action"] } }, { drift: { fields: ["action"] } }],
];

describe("mergePatch", () => {
  it.each(cases)("%s", (_name, current, next, expected) => {
    expect(mergePatch(current, next)).toEqual(expected);
  });

  it("statusPatch treats a missing status as empty", () => {
    expect(statusPatch(undefined, { observedGeneration: 1 })).toEqual({ observedGeneration: 1 });
    expect(statusPatch(undefined, {})).toBeUndefined();
  });
});
