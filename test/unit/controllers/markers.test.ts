import { describe, expect, it } from "vitest";
import {
  adoptableMarkers,
  disownedMarker,
  type MarkerOwner,
  ownershipOf,
  parseMarker,
  ruleMarker,
} from "../../../src/controllers/markers.ts";
import { MARKER_ID_PATTERN, markerToken, readMarker } from "../../../src/dictionary/rule-input.ts";

const owner: MarkerOwner = { installationId: "kube-system-uid/vnf/vnf-operator", deviceUid: "device-uid-1" };
const RULE = "6a1f0c2e-8d7b-4c3a-9e21-5f4d3c2b1a09";

describe("ownership markers", () => {
  it("name the installation, the device and the rule, with a check: 43 characters, 49 as a token", () => {
    const marker = ruleMarker(owner, RULE);
    expect(marker).toMatch(/^[0-9a-f]{8}\.[0-9a-f]{8}\.[0-9a-f]{16}\.[0-9a-f]{8}$/);
    expect(marker).toHaveLength(43);
    expect(markerToken(marker)).toHaveLength(49);
    expect(MARKER_ID_PATTERN.test(marker)).toBe(true);
    expect(readMarker(`web ${markerToken(marker)}`)).toBe(marker);
  });

  it("are stable, and differ with the installation, the device and the rule", () => {
    const marker = ruleMarker(owner, RULE);
    expect(ruleMarker({ ...owner }, RULE)).toBe(marker);
    const others = [
      ruleMarker({ ...owner, installationId: "another" }, RULE),
      ruleMarker({ ...owner, deviceUid: "device-uid-2" }, RULE),
      ruleMarker(owner, "6a1f0c2e-8d7b-4c3a-9e21-5f4d3c2b1a0a"),
    ];
    expect(new Set([marker, ...others]).size).toBe(4);
  });

  it.each([
    ["ours: this installation, this device, a check that verifies", ruleMarker(owner, RULE), "ours"],
    ["another installation's", ruleMarker({ ...owner, installationId: "staging" }, RULE), "unmanaged"],
    ["another device's", ruleMarker({ ...owner, deviceUid: "device-uid-2" }, RULE), "unmanaged"],
    ["the old form (a rule uid): adoptable by that rule, never an orphan", RULE, "legacy"],
    ["disowned (deletionPolicy Orphan)", disownedMarker(RULE), "unmanaged"],
    ["none", undefined, "unmanaged"],
    ["something else", "ns/web", "unmanaged"],
  ])("whose: %s", (_what, marker, whose) => {
    expect(ownershipOf(owner, marker).owner).toBe(whose);
  });

  it("refuse a marker whose check does not verify (typed by hand, one digit changed)", () => {
    const marker = ruleMarker(owner, RULE);
    const tampered = marker.replace(/\.([0-9a-f])([0-9a-f]{15})\./, (_m, d: string, rest: string) => {
      const other = d === "0" ? "1" : "0";
      return `.${other}${rest}.`;
    });
    expect(tampered).not.toBe(marker);
    expect(parseMarker(tampered).form).toBe("owned");
    expect(ownershipOf(owner, tampered).owner).toBe("unmanaged");
  });

  it("adoption looks for the current marker, then the old form", () => {
    expect(adoptableMarkers(owner, RULE)).toEqual([ruleMarker(owner, RULE), RULE]);
  });

  it("the disowned form is shorter than an owned one (same description budget) and says which rule", () => {
    expect(disownedMarker(RULE).length).toBeLessThan(ruleMarker(owner, RULE).length);
    expect(parseMarker(disownedMarker(RULE))).toEqual({
      form: "disowned",
      rule: ruleMarker(owner, RULE).split(".")[2],
    });
  });
});
