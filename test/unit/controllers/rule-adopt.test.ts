// The adoption decision as a table: which object a rule may adopt, and what the refusal says.
import { describe, expect, it } from "vitest";
import { ADOPT_ANNOTATION } from "../../../src/api/group.ts";
import { disownedMarker } from "../../../src/controllers/markers.ts";
import {
  type AdoptionFacts,
  adoptedRuleNumber,
  adoptionTarget,
  decideAdoption,
} from "../../../src/controllers/rule-adopt.ts";

const spec = { interface: "lan", action: "allow", destination: { cidr: "10.0.0.5", port: "443" } };
const facts = (patch: Partial<AdoptionFacts>): AdoptionFacts => ({
  kind: "firewallRule",
  vendorRef: "42",
  object: { vendorRef: "42", normalized: structuredClone(spec) },
  ownMarker: "uid-web",
  differences: [],
  spec,
  ...patch,
});

describe("adoptionTarget", () => {
  const annotated = (status?: { vendorRef?: string; opHash?: string }) => ({
    metadata: { annotations: { [ADOPT_ANNOTATION]: " 42 " } },
    ...(status ? { status } : {}),
  });
  it.each([
    ["annotated, never applied", annotated(), "42"],
    ["annotated, already holds an object", annotated({ vendorRef: "42" }), undefined],
    ["annotated, a request was applied", annotated({ opHash: "h" }), undefined],
    ["not annotated", { metadata: {} }, undefined],
    ["empty annotation", { metadata: { annotations: { [ADOPT_ANNOTATION]: "" } } }, undefined],
  ])("%s → %s", (_name, rule, expected) => {
    expect(adoptionTarget(rule)).toBe(expected);
  });

  it("numbered appliances keep the adopted object's number when it is in range", () => {
    expect(adoptedRuleNumber(annotated(), { min: 1, max: 100 })).toBe(42);
    expect(adoptedRuleNumber(annotated(), { min: 100, max: 9999 })).toBeUndefined();
    expect(
      adoptedRuleNumber({ metadata: { annotations: { [ADOPT_ANNOTATION]: "a1" } } }, { min: 1, max: 100 }),
    ).toBeUndefined();
  });
});

describe("decideAdoption", () => {
  it.each([
    ["an unmarked object that matches", facts({}), { adopt: true, alreadyOurs: false }],
    [
      "our own marker (a retried adoption)",
      facts({ object: { vendorRef: "42", marker: "uid-web", normalized: {} } }),
      { adopt: true, alreadyOurs: true },
    ],
    [
      "a disowned object (deletionPolicy Orphan of an earlier rule)",
      facts({ object: { vendorRef: "42", marker: disownedMarker("uid-old"), normalized: spec } }),
      { adopt: true, alreadyOurs: false },
    ],
  ])("adopts %s", (_name, input, expected) => {
    expect(decideAdoption(input)).toEqual(expected);
  });

  it("says what differs: field, appliance value, spec value", () => {
    const decision = decideAdoption(
      facts({
        object: { vendorRef: "42", normalized: { ...spec, destination: { cidr: "10.0.0.5", port: "8443" } } },
        differences: ["destination.port", "log"],
      }),
    );
    expect(decision).toEqual({
      adopt: false,
      message: `cannot adopt firewallRule 42 (annotation ${ADOPT_ANNOTATION}): the spec does not match the object, adopting would change the appliance: destination.port (appliance "8443", spec "443"); log (appliance unset, spec unset); make the spec match (vnf-operator import prints it) or change the object`,
    });
  });

  it("refuses an object another owner marked, naming the marker", () => {
    const decision = decideAdoption(
      facts({ object: { vendorRef: "42", marker: "uid-x", normalized: spec } }),
    );
    expect(decision).toMatchObject({ adopt: false, message: expect.stringContaining("[vnf:uid-x]") });
  });

  it("refuses a vendorRef the appliance does not have", () => {
    expect(decideAdoption(facts({ object: undefined }))).toMatchObject({
      adopt: false,
      message: expect.stringContaining("the appliance has no such object"),
    });
  });
});
