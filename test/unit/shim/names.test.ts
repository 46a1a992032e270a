import { describe, expect, it } from "vitest";
import { isValidInstanceId, ruleIdLabelValue, ruleResourceName } from "../../../src/shim/names.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe("ruleResourceName", () => {
  it.each([
    [
      "firewall",
      "6f1c2b8e-0d3a-4c55-9e0b-1a2b3c4d5e6f",
      /^cs-fw-6f1c2b8e-0d3a-4c55-9e0b-1a2b3c4d5e6f-[0-9a-f]{10}$/,
    ],
    ["firewall", "Rule_42", /^cs-fw-rule-42-[0-9a-f]{10}$/],
    ["nat", "nat-1", /^cs-nat-nat-1-[0-9a-f]{10}$/],
    ["firewall", "___", /^cs-fw-[0-9a-f]{10}$/],
  ] as const)("%s %s → %s", (kind, ruleId, pattern) => {
    expect(ruleResourceName(kind, ruleId)).toMatch(pattern);
  });

  it("is deterministic, a DNS label, and distinct for ids that slug alike", () => {
    const ids = ["abc", "Abc", "ABC", "a_b", "a-b", "x".repeat(128), `${"y".repeat(127)}_`];
    const names = ids.map((id) => ruleResourceName("firewall", id));
    for (const name of names) {
      expect(name).toMatch(DNS_LABEL);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(new Set(names).size).toBe(ids.length);
    expect(ruleResourceName("firewall", "abc")).toBe(names[0]);
    expect(ruleResourceName("nat", "abc")).not.toBe(names[0]);
  });
});

describe("ruleIdLabelValue", () => {
  it("keeps a valid label value and hashes the rest", () => {
    expect(ruleIdLabelValue("6f1c2b8e-0d3a")).toBe("6f1c2b8e-0d3a");
    expect(ruleIdLabelValue("r_1")).toBe("r_1");
    expect(ruleIdLabelValue("-starts-with-dash")).toMatch(/^h-[0-9a-f]{40}$/);
    expect(ruleIdLabelValue("z".repeat(64))).toMatch(/^h-[0-9a-f]{40}$/);
  });
});

describe("isValidInstanceId", () => {
  it.each([
    ["42", true],
    ["8e3f-uuid-like", true],
    ["", false],
    ["a,b", false],
    ["x".repeat(64), false],
  ])("%s → %s", (id, valid) => {
    expect(isValidInstanceId(id)).toBe(valid);
  });
});
