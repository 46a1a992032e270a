import { describe, expect, it } from "vitest";
import type { Condition, VnfRuleStatus } from "../../../src/api/types.ts";
import { nextRuleStatus } from "../../../src/controllers/rule-status.ts";

const earlier = "2026-01-01T00:00:00Z";
const now = new Date("2026-01-02T00:00:00Z");

const cond = (type: string, status: "True" | "False", reason: string, observedGeneration = 2): Condition => ({
  type,
  status,
  reason,
  message: "",
  observedGeneration,
  lastTransitionTime: earlier,
});

const applied: VnfRuleStatus = {
  vendorRef: "17",
  opHash: "h",
  observedGeneration: 2,
  conditions: [cond("Ready", "True", "Applied")],
};

interface Expectation {
  ready: { status: string; reason: string; observedGeneration: number };
  types: string[];
  errorCode?: string;
}

const inSyncCases: Array<[string, VnfRuleStatus, number, boolean, Expectation | "unchanged"]> = [
  ["steady state: the very same status (no write)", applied, 2, false, "unchanged"],
  [
    "a spec change rendering the same request: only observedGeneration moves",
    applied,
    3,
    true,
    { ready: { status: "True", reason: "Applied", observedGeneration: 3 }, types: ["Ready"] },
  ],
  [
    "back from waiting for the device: Ready again, no appliance call",
    { ...applied, conditions: [cond("Ready", "False", "DeviceNotReady")] },
    2,
    false,
    { ready: { status: "True", reason: "Applied", observedGeneration: 2 }, types: ["Ready"] },
  ],
  [
    "stalled on a spec that was reverted to the applied one: Ready, Stalled and errorCode gone",
    {
      ...applied,
      errorCode: "BROKER_INVALID_REQUEST",
      conditions: [
        cond("Ready", "False", "BROKER_INVALID_REQUEST", 3),
        cond("Stalled", "True", "BROKER_INVALID_REQUEST", 3),
      ],
    },
    4,
    true,
    { ready: { status: "True", reason: "Applied", observedGeneration: 4 }, types: ["Ready"] },
  ],
];

describe("nextRuleStatus: inSync", () => {
  it.each(inSyncCases)("%s", (_name, current, generation, recordGeneration, expected) => {
    const next = nextRuleStatus(current, generation, { type: "inSync", recordGeneration }, now);
    if (expected === "unchanged") {
      expect(next).toBe(current);
      return;
    }
    const ready = next.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject(expected.ready);
    expect(next.conditions?.map((c) => c.type)).toEqual(expected.types);
    expect(next.errorCode).toBe(expected.errorCode);
    expect(next.observedGeneration).toBe(generation);
    expect(next.vendorRef).toBe("17");
  });
});
