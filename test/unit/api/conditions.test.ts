import { describe, expect, it } from "vitest";
import {
  ConditionType,
  getCondition,
  isTrue,
  kubeTime,
  MAX_CONDITION_MESSAGE,
  markNotReady,
  markReady,
  markReconciling,
  markStalled,
  markSuspended,
  removeCondition,
  setCondition,
} from "../../../src/api/conditions.ts";
import type { Condition } from "../../../src/api/types.ts";

const T0 = "2026-01-01T00:00:00Z";
const NOW = new Date("2026-01-01T00:05:00.789Z");
const NOW_TEXT = "2026-01-01T00:05:00Z";

const ready = (status: Condition["status"], extra: Partial<Condition> = {}): Condition => ({
  type: "Ready",
  status,
  lastTransitionTime: T0,
  reason: "Applied",
  message: "",
  ...extra,
});
const reconciling: Condition = {
  type: "Reconciling",
  status: "True",
  lastTransitionTime: T0,
  reason: "Applying",
  message: "",
};

describe("setCondition", () => {
  const cases: {
    name: string;
    before: Condition[] | undefined;
    update: Parameters<typeof setCondition>[1];
    after: Condition[];
  }[] = [
    {
      name: "appends a new condition with lastTransitionTime = now (whole seconds)",
      before: undefined,
      update: { type: "Ready", status: "Unknown", reason: "Pending", observedGeneration: 1 },
      after: [
        {
          type: "Ready",
          status: "Unknown",
          observedGeneration: 1,
          lastTransitionTime: NOW_TEXT,
          reason: "Pending",
          message: "",
        },
      ],
    },
    {
      name: "keeps lastTransitionTime when status stays the same, updating reason, message, generation",
      before: [ready("False", { reason: "Unreachable", observedGeneration: 1 })],
      update: { type: "Ready", status: "False", reason: "AuthFailed", message: "401", observedGeneration: 2 },
      after: [ready("False", { reason: "AuthFailed", message: "401", observedGeneration: 2 })],
    },
    {
      name: "moves lastTransitionTime when status flips",
      before: [ready("False", { reason: "Unreachable" })],
      update: { type: "Ready", status: "True", reason: "Applied" },
      after: [ready("True", { lastTransitionTime: NOW_TEXT })],
    },
    {
      name: "replaces in place and leaves the other conditions alone",
      before: [ready("True"), reconciling],
      update: { type: "Ready", status: "False", reason: "DeviceNotReady" },
      after: [ready("False", { reason: "DeviceNotReady", lastTransitionTime: NOW_TEXT }), reconciling],
    },
    {
      name: "drops a stale observedGeneration when the update has none",
      before: [ready("True", { observedGeneration: 3 })],
      update: { type: "Ready", status: "True", reason: "Applied" },
      after: [ready("True")],
    },
  ];
  it.each(cases)("$name", ({ before, update, after }) => {
    const snapshot = JSON.stringify(before);
    expect(setCondition(before, update, NOW)).toEqual(after);
    expect(JSON.stringify(before), "the input list is not mutated").toBe(snapshot);
  });

  it("is a no-op in content when nothing changes (so the status write can be skipped)", () => {
    const before = [ready("True", { observedGeneration: 2 }), reconciling];
    const update = { type: "Ready", status: "True", reason: "Applied", observedGeneration: 2 } as const;
    expect(setCondition(before, update, NOW)).toEqual(before);
  });

  it("cuts messages to the API server's limit", () => {
    const long = "x".repeat(MAX_CONDITION_MESSAGE + 10);
    const [condition] = setCondition(
      undefined,
      { type: "Ready", status: "False", reason: "Failed", message: long },
      NOW,
    );
    expect(condition!.message).toHaveLength(MAX_CONDITION_MESSAGE);
    expect(condition!.message.endsWith("…")).toBe(true);
  });

  it.each([
    ["a reason with a space", { type: "Ready", reason: "Not applied" }, /invalid condition reason/],
    ["an empty reason", { type: "Ready", reason: "" }, /invalid condition reason/],
    ["a reason ending in ':'", { type: "Ready", reason: "Failed:" }, /invalid condition reason/],
    ["a type with a space", { type: "Is Ready", reason: "Applied" }, /invalid condition type/],
  ])("refuses %s", (_name, fields, error) => {
    expect(() => setCondition([], { status: "True", ...fields }, NOW)).toThrow(error);
  });
});

describe("getCondition / isTrue / removeCondition", () => {
  const list = [ready("True", { observedGeneration: 2 }), reconciling];

  it.each([
    { conditions: list, type: "Ready", generation: undefined, expected: true },
    { conditions: list, type: "Ready", generation: 2, expected: true },
    { conditions: list, type: "Ready", generation: 3, expected: false },
    { conditions: [ready("True")], type: "Ready", generation: 1, expected: false },
    { conditions: [ready("False")], type: "Ready", generation: undefined, expected: false },
    { conditions: [ready("Unknown")], type: "Ready", generation: undefined, expected: false },
    { conditions: list, type: "Stalled", generation: undefined, expected: false },
    { conditions: undefined, type: "Ready", generation: undefined, expected: false },
  ])("isTrue($type, generation $generation) is $expected", ({ conditions, type, generation, expected }) => {
    expect(isTrue(conditions, type, generation)).toBe(expected);
  });

  it("finds a condition by type", () => {
    expect(getCondition(list, ConditionType.Reconciling)).toBe(reconciling);
    expect(getCondition(list, ConditionType.Stalled)).toBeUndefined();
    expect(getCondition(undefined, ConditionType.Ready)).toBeUndefined();
  });

  it("removes a condition by type without touching the input", () => {
    expect(removeCondition(list, "Reconciling")).toEqual([list[0]]);
    expect(removeCondition(list, "Stalled")).toEqual(list);
    expect(removeCondition(undefined, "Ready")).toEqual([]);
    expect(list).toHaveLength(2);
  });
});

describe("kubeTime", () => {
  it.each([
    ["2026-03-04T05:06:07.890Z", "2026-03-04T05:06:07Z"],
    ["2026-03-04T05:06:07.000Z", "2026-03-04T05:06:07Z"],
  ])("%s -> %s", (input, expected) => {
    expect(kubeTime(new Date(input))).toBe(expected);
  });
});

describe("mark* helpers encode the kstatus rules once", () => {
  const stalled: Condition = { ...reconciling, type: "Stalled", reason: "VNF_AUTH" };
  const suspended: Condition = { ...reconciling, type: "Suspended", reason: "Suspended" };
  const mark = { reason: "Why", message: "what to do", observedGeneration: 3 };
  const types = (list: Condition[]) => list.map((c) => `${c.type}=${c.status}/${c.reason}`).sort();
  const cases: {
    name: string;
    run: (list: Condition[]) => Condition[];
    before: Condition[];
    after: string[];
  }[] = [
    {
      name: "markReady: Ready=True, Reconciling and Stalled gone (kstatus Current)",
      run: (l) => markReady(l, mark, NOW),
      before: [ready("False"), reconciling, stalled],
      after: ["Ready=True/Why"],
    },
    {
      name: "markNotReady: Ready=False, nothing in progress, not stalled (kstatus InProgress)",
      run: (l) => markNotReady(l, mark, NOW),
      before: [ready("True"), reconciling, stalled],
      after: ["Ready=False/Why"],
    },
    {
      name: "markReconciling without notReady leaves Ready as it was, removes Stalled",
      run: (l) => markReconciling(l, mark, NOW),
      before: [ready("True"), stalled],
      after: ["Ready=True/Applied", "Reconciling=True/Why"],
    },
    {
      name: "markReconciling with notReady: Ready=False with that reason too",
      run: (l) => markReconciling(l, mark, NOW, { reason: "VNF_TIMEOUT", message: "slow" }),
      before: [ready("True")],
      after: ["Ready=False/VNF_TIMEOUT", "Reconciling=True/Why"],
    },
    {
      name: "markStalled: Stalled=True and Ready=False, Reconciling gone (kstatus Failed)",
      run: (l) => markStalled(l, mark, NOW, "fix the Secret"),
      before: [ready("True"), reconciling],
      after: ["Ready=False/Why", "Stalled=True/Why"],
    },
    {
      name: "markSuspended: Suspended=True only, Ready, Reconciling and Stalled gone (kstatus Current)",
      run: (l) => markSuspended(l, mark, NOW),
      before: [ready("True"), reconciling, stalled],
      after: ["Suspended=True/Why"],
    },
    {
      name: "markReady after a suspension: the suspension ends",
      run: (l) => markReady(l, mark, NOW),
      before: [suspended],
      after: ["Ready=True/Why"],
    },
    {
      name: "markNotReady after a suspension: the suspension ends",
      run: (l) => markNotReady(l, mark, NOW),
      before: [suspended],
      after: ["Ready=False/Why"],
    },
    {
      name: "markReconciling after a suspension: the suspension ends",
      run: (l) => markReconciling(l, mark, NOW),
      before: [suspended],
      after: ["Reconciling=True/Why"],
    },
    {
      name: "markStalled after a suspension: the suspension ends",
      run: (l) => markStalled(l, mark, NOW),
      before: [suspended],
      after: ["Ready=False/Why", "Stalled=True/Why"],
    },
  ];
  it.each(cases)("$name", ({ run, before, after }) => {
    const result = run(before);
    expect(types(result)).toEqual(after);
    for (const c of result)
      if (c.type !== "Ready" || c.reason === "Why") expect(c.observedGeneration).toBe(3);
    // Never Reconciling and Stalled at once; never Ready and Stalled.
    const on = (t: string) => result.some((c) => c.type === t && c.status === "True");
    expect(on("Reconciling") && on("Stalled")).toBe(false);
    expect(on("Ready") && on("Stalled")).toBe(false);
    // Suspended excludes the other three.
    if (on("Suspended")) expect(result.map((c) => c.type)).toEqual(["Suspended"]);
  });

  it("markStalled puts what would unstick it on Stalled, the message on Ready", () => {
    const result = markStalled(undefined, mark, NOW, "fix the Secret");
    expect(getCondition(result, "Stalled")?.message).toBe("fix the Secret");
    expect(getCondition(result, "Ready")?.message).toBe("what to do");
  });
});
