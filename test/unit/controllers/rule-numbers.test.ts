import { describe, expect, it } from "vitest";
import { pickRuleNumber, RuleNumberReservations } from "../../../src/controllers/rule-numbers.ts";

describe("pickRuleNumber", () => {
  it.each([
    ["empty device starts at the range's minimum", [], { min: 10, max: 20 }, 10],
    ["fills the lowest gap", [10, 11, 13], { min: 10, max: 20 }, 12],
    ["numbers outside the range do not matter", [1, 2, 3], { min: 10, max: 20 }, 10],
    ["full range: none", [1, 2], { min: 1, max: 2 }, undefined],
  ] as const)("%s", (_name, used, range, expected) => {
    expect(pickRuleNumber(new Set(used), range)).toBe(expected);
  });
});

describe("RuleNumberReservations", () => {
  const range = { min: 1, max: 9999 };

  it("gives concurrent reconciles of one device different numbers, and each the same one again", () => {
    const r = new RuleNumberReservations();
    const a = r.reserve("ns/vyos/firewallRule", "uid-a", new Set(), range);
    const b = r.reserve("ns/vyos/firewallRule", "uid-b", new Set(), range);
    expect([a, b]).toEqual([1, 2]);
    expect(r.reserve("ns/vyos/firewallRule", "uid-a", new Set(), range)).toBe(1);
  });

  it("keeps rule kinds and devices apart", () => {
    const r = new RuleNumberReservations();
    expect(r.reserve("ns/vyos/firewallRule", "uid-a", new Set(), range)).toBe(1);
    expect(r.reserve("ns/vyos/natRule", "uid-n", new Set(), range)).toBe(1);
    expect(r.reserve("ns/other/firewallRule", "uid-o", new Set(), range)).toBe(1);
  });

  it("skips numbers recorded in status and frees a released reservation", () => {
    const r = new RuleNumberReservations();
    expect(r.reserve("s", "uid-a", new Set([1, 2]), range)).toBe(3);
    r.release("s", "uid-a");
    expect(r.reserve("s", "uid-b", new Set([1]), range)).toBe(2);
  });
});
