// Adoption in place (the vnf-operator.io/adopt annotation) through the rule reconciler against fakes:
// the named object is adopted with an update that writes our marker (never a create), and refused,
// with a Stalled condition that says why, when it is gone, already owned, or differs from the spec.
import { describe, expect, it } from "vitest";
import { ADOPT_ANNOTATION, resourceTypes as resources } from "../../src/api/group.ts";
import type { VnfRule } from "../../src/api/types.ts";
import { ADOPTION_RECHECK_MS } from "../../src/controllers/rule-adopt.ts";
import { CoreResources } from "../../src/runtime/resource.ts";
import {
  conditionsOf,
  device,
  FIREWALL_SPEC,
  MARKER_WEB,
  rule,
  secret,
  type World,
  world,
} from "./fakes/world.ts";

const APPLY = "apply-status vnffirewallrules/web";

function adopting(vendorRef: string, extra: Parameters<typeof rule>[0] = {}): VnfRule {
  const r = rule(extra);
  r.metadata.annotations = { [ADOPT_ANNOTATION]: vendorRef };
  return r;
}

function setup(r: VnfRule): World {
  return world([
    [CoreResources.secrets, secret()],
    [resources.device, device()],
    [resources.firewallRule, r],
  ]);
}

function stalledMessage(w: World): string {
  const stalled = w.rule()?.status?.conditions?.find((c) => c.type === "Stalled");
  return stalled?.message ?? "";
}

describe("adopt annotation", () => {
  it("adopts the administrator's object: our marker written by an update, no create", async () => {
    const w = setup(adopting("42"));
    w.session.put("firewallRule", { spec: FIREWALL_SPEC }, "42");
    const result = await w.reconcileRule();
    expect(result).toBeUndefined();
    expect(w.session.calls).toEqual([
      "get firewallRule 42",
      "get firewallRule 42",
      "update firewallRule 42",
      "activate",
    ]);
    expect(w.session.objects.get("42")?.marker).toBe(MARKER_WEB);
    expect(w.session.objects.size).toBe(1);
    expect(w.rule()?.status).toMatchObject({ vendorRef: "42" });
    expect(conditionsOf(w.rule())).toEqual(["Ready=True/Applied"]);
    expect(w.events.summary()).toEqual(["Normal Adopted"]);
  });

  it("a retried adoption whose marker already landed records it without writing again", async () => {
    const w = setup(adopting("42"));
    w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "42");
    await w.reconcileRule();
    expect(w.session.calls).toEqual(["get firewallRule 42", "get firewallRule 42", "activate"]);
    expect(w.rule()?.status).toMatchObject({ vendorRef: "42" });
  });

  it.each([
    ["gone", () => {}, /the appliance has no such object/],
    [
      "owned by another rule",
      (w: World) => w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: "uid-other" }, "42"),
      /already carries an ownership marker \(\[vnf:uid-other\]\)/,
    ],
    [
      "different from the spec",
      (w: World) => w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" } }, "42"),
      /the spec does not match the object, adopting would change the appliance: spec \(appliance/,
    ],
  ])(
    "refuses when the object is %s: Stalled, no write to the appliance, re-checked later",
    async (_what, put, message) => {
      const w = setup(adopting("42"));
      put(w);
      const before = structuredClone(w.session.objects.get("42"));
      const result = await w.reconcileRule();
      expect(result).toEqual({ requeueAfterMs: ADOPTION_RECHECK_MS });
      expect(w.session.calls).toEqual(["get firewallRule 42"]);
      expect(w.session.objects.get("42")).toEqual(before);
      expect(w.kube.summary()).toEqual([APPLY]);
      expect(conditionsOf(w.rule())).toEqual(["Ready=False/VNF_CONFLICT", "Stalled=True/VNF_CONFLICT"]);
      expect(stalledMessage(w)).toMatch(message);
      expect(stalledMessage(w)).toContain(`firewallRule 42 (annotation ${ADOPT_ANNOTATION})`);
      // No intent was written: nothing can have reached the appliance.
      expect(w.rule()?.status?.pendingOperation).toBeUndefined();
      expect(w.events.summary()).toEqual(["Warning AdoptionRefused"]);
    },
  );

  it("a refusal is not sticky: once the object matches, the next reconcile adopts it", async () => {
    const w = setup(adopting("42"));
    w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" } }, "42");
    await w.reconcileRule();
    w.session.put("firewallRule", { spec: FIREWALL_SPEC }, "42");
    await w.reconcileRule();
    expect(w.session.objects.get("42")?.marker).toBe(MARKER_WEB);
    expect(conditionsOf(w.rule())).toEqual(["Ready=True/Applied"]);
  });

  it("after adoption the annotation is history: an object deleted behind our back is recreated", async () => {
    const w = setup(
      adopting("42", {
        generation: 2,
        spec: { description: "web v2" },
        status: { observedGeneration: 1, vendorRef: "42", opHash: "old", conditions: [] },
      }),
    );
    await w.reconcileRule();
    expect(w.session.calls).toContain("create firewallRule");
    expect(w.session.calls.filter((c) => c.startsWith("update"))).toEqual([]);
  });
});
