import { describe, expect, it } from "vitest";
import type { Condition } from "../../../src/api/types.ts";
import {
  combineAnswers,
  decide,
  pending,
  type RuleAnswer,
  waitingForDevice,
} from "../../../src/shim/outcome.ts";
import { stripPrefixes } from "../../../src/shim/pipeline.ts";
import { RequestValidationError } from "../../../src/shim/wire.ts";

const cond = (
  type: string,
  status: "True" | "False",
  reason: string,
  message: string,
  observedGeneration: number,
): Condition => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
  lastTransitionTime: "2026-01-01T00:00:00Z",
});

describe("decide", () => {
  it("is Completed when Ready is True for the generation and a vendorRef exists", () => {
    const rule = {
      metadata: { generation: 2 },
      status: { vendorRef: "17", appliedAt: "t", conditions: [cond("Ready", "True", "Applied", "ok", 2)] },
    };
    expect(decide(rule, 2)).toEqual({ state: "Completed", vendorRef: "17", appliedAt: "t", message: "ok" });
  });

  it("keeps waiting while Ready describes an older generation", () => {
    const rule = {
      metadata: { generation: 3 },
      status: { vendorRef: "17", conditions: [cond("Ready", "True", "Applied", "ok", 2)] },
    };
    expect(decide(rule, 3)).toBeUndefined();
  });

  it("is Failed with the status errorCode and the Ready message when Stalled", () => {
    const rule = {
      metadata: { generation: 1 },
      status: {
        errorCode: "VNF_INVALID" as const,
        conditions: [
          cond("Ready", "False", "VNF_INVALID", "appliance said 400", 1),
          cond("Stalled", "True", "VNF_INVALID", "x", 1),
        ],
      },
    };
    expect(decide(rule, 1)).toEqual({
      state: "Failed",
      errorCode: "VNF_INVALID",
      message: "appliance said 400",
    });
  });

  it("keeps waiting through retryable errors; the pending answer carries the last one", () => {
    const rule = {
      metadata: { generation: 1 },
      status: {
        errorCode: "VNF_UPSTREAM" as const,
        conditions: [cond("Ready", "False", "VNF_UPSTREAM", "500 from the appliance", 1)],
      },
    };
    expect(decide(rule, 1)).toBeUndefined();
    expect(pending(rule, 1, 20_000)).toEqual({
      state: "Pending",
      errorCode: "VNF_UPSTREAM",
      message:
        "not Ready within 20s: VNF_UPSTREAM: 500 from the appliance; repeat the request with the same ruleId for the outcome",
    });
    expect(pending(undefined, 1, 5_000).state).toBe("Pending");
  });
});

describe("stripPrefixes", () => {
  it.each([
    ["/firewall/rules", { path: "/firewall/rules" }],
    ["/vnf/42/firewall/rules/", { path: "/firewall/rules", instance: "42" }],
    ["/v1/firewall/rules", { path: "/firewall/rules" }],
    ["/vnf/a%2Db/v1/rules/nat", { path: "/rules/nat", instance: "a-b" }],
    ["/vnf/42", { path: "/vnf/42" }],
  ])("%s", (input, expected) => {
    expect(stripPrefixes(input)).toEqual(expected);
  });

  it("refuses malformed percent-encoding as a validation error", () => {
    expect(() => stripPrefixes("/vnf/%E0%A4%A/rules/nat")).toThrow(RequestValidationError);
  });
});

describe("waitingForDevice", () => {
  it.each(["DeviceNotReady", "DeviceNotFound"])(
    "answers Pending at once when the rule waits for its device (%s)",
    (reason) => {
      const rule = {
        metadata: { generation: 1 },
        status: { conditions: [cond("Ready", "False", reason, "x", 1)] },
      };
      expect(waitingForDevice(rule, 1)).toMatchObject({ state: "Pending", errorCode: "VNF_UNREACHABLE" });
    },
  );

  it.each(["DeviceStalled", "DeviceNotFound"])(
    "a rule Stalled because of its device (%s) is not a failed rule: Pending at once (it resumes by itself)",
    (reason) => {
      const rule = {
        metadata: { generation: 1 },
        status: {
          conditions: [
            cond("Ready", "False", reason, "the device needs a person", 1),
            cond("Stalled", "True", reason, "x", 1),
          ],
        },
      };
      expect(decide(rule, 1)).toBeUndefined();
      expect(waitingForDevice(rule, 1)).toMatchObject({
        state: "Pending",
        errorCode: "VNF_UNREACHABLE",
        message: expect.stringMatching(new RegExp(`^${reason}: the device needs a person;`)),
      });
    },
  );

  it("a rule of a suspended device (Suspended=True, no Ready): Pending at once", () => {
    const rule = {
      metadata: { generation: 1 },
      status: { conditions: [cond("Suspended", "True", "DeviceSuspended", "suspended", 1)] },
    };
    expect(decide(rule, 1)).toBeUndefined();
    expect(waitingForDevice(rule, 1)).toMatchObject({
      state: "Pending",
      errorCode: "VNF_UNREACHABLE",
      message: expect.stringMatching(/^DeviceSuspended: suspended;/),
    });
  });

  it("keeps waiting for anything else, or for an older generation", () => {
    const retrying = {
      metadata: { generation: 1 },
      status: { conditions: [cond("Ready", "False", "VNF_TIMEOUT", "x", 1)] },
    };
    expect(waitingForDevice(retrying, 1)).toBeUndefined();
    const old = {
      metadata: { generation: 2 },
      status: { conditions: [cond("Ready", "False", "DeviceNotReady", "x", 1)] },
    };
    expect(waitingForDevice(old, 2)).toBeUndefined();
  });
});

describe("combineAnswers", () => {
  const done = (vendorRef: string, appliedAt: string): RuleAnswer => ({
    state: "Completed",
    vendorRef,
    appliedAt,
    message: "ok",
  });
  it("is Completed with the vendorRefs in order when every part is", () => {
    expect(
      combineAnswers([done("1", "2026-01-01T00:00:01Z"), done("2", "2026-01-01T00:00:02Z")]),
    ).toMatchObject({
      state: "Completed",
      vendorRef: "1,2",
      appliedAt: "2026-01-01T00:00:02Z",
    });
  });

  it("is Failed when one part failed, else Pending when one is pending; one part is itself", () => {
    const failed: RuleAnswer = { state: "Failed", errorCode: "VNF_INVALID", message: "no" };
    const waiting: RuleAnswer = { state: "Pending", message: "later" };
    expect(combineAnswers([done("1", "t"), waiting, failed])).toMatchObject({
      state: "Failed",
      errorCode: "VNF_INVALID",
    });
    expect(combineAnswers([done("1", "t"), waiting])).toMatchObject({ state: "Pending" });
    expect(combineAnswers([waiting])).toBe(waiting);
  });
});
