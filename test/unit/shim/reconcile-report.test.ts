// POST /reconcile/{networkId}'s answer from the rules' status: in sync, drifted (repaired or
// reported), failed, pending; CloudStack's reconciliation counters.
import { describe, expect, it } from "vitest";
import type { Condition, VnfDevice } from "../../../src/api/types.ts";
import type { ShimRule } from "../../../src/shim/kube.ts";
import { classifyRule, networkReport } from "../../../src/shim/reconcile-report.ts";

const cond = (type: string, status: "True" | "False", reason: string, generation = 1): Condition => ({
  type,
  status,
  reason,
  message: `${type} ${reason}`,
  observedGeneration: generation,
  lastTransitionTime: "2026-01-01T00:00:00Z",
});

function rule(name: string, status: ShimRule["status"], generation = 1): ShimRule {
  return {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind: "VnfFirewallRule",
    metadata: { name, generation, annotations: { "vnf-operator.io/cloudstack-rule-id": `id-${name}` } },
    spec: { deviceRef: { name: "edge" } },
    ...(status ? { status } : {}),
  };
}

const inSync = rule("a", { vendorRef: "1", conditions: [cond("Ready", "True", "Applied")] });
const repaired = rule("b", {
  vendorRef: "2",
  drift: { detectedAt: "2026-01-01T00:00:00Z", fields: ["missing"], action: "Repaired" },
  conditions: [cond("Ready", "True", "Applied")],
});
const reported = rule("c", {
  vendorRef: "3",
  drift: { detectedAt: "2026-01-01T00:00:00Z", fields: ["destination.port"], action: "Reported" },
  conditions: [cond("Ready", "True", "Applied"), cond("Drifted", "True", "ApplianceDiffers")],
});
const failed = rule("d", {
  errorCode: "VNF_INVALID",
  conditions: [cond("Ready", "False", "VNF_INVALID"), cond("Stalled", "True", "VNF_INVALID")],
});
const stale = rule("e", { vendorRef: "5", conditions: [cond("Ready", "True", "Applied", 1)] }, 2);
const retrying = rule("f", {
  errorCode: "VNF_UNREACHABLE",
  conditions: [cond("Ready", "False", "VNF_UNREACHABLE")],
});

describe("classifyRule", () => {
  it.each([
    ["Ready for its generation", inSync, "InSync"],
    ["drift being repaired", repaired, "Drifted"],
    ["drift reported only", reported, "Drifted"],
    ["Stalled", failed, "Failed"],
    ["Ready for an older generation", stale, "Pending"],
    ["retrying", retrying, "Pending"],
  ] as const)("%s → %s", (_name, r, state) => {
    expect(classifyRule("firewall", r).state).toBe(state);
  });

  it("names the drifted fields, the action and the ruleId", () => {
    expect(classifyRule("firewall", reported)).toMatchObject({
      ruleId: "id-c",
      driftFields: ["destination.port"],
      driftAction: "Reported",
    });
  });
});

const device = (name: string, extra: Partial<VnfDevice["status"]> = {}): VnfDevice =>
  ({
    apiVersion: "vnf-operator.io/v1alpha1",
    kind: "VnfDevice",
    metadata: { name, namespace: "ns", labels: { "vnf-operator.io/cloudstack-vnf-instance-id": "42" } },
    spec: { vendor: "pfsense", endpoint: "https://x", credentialsSecretRef: { name: "c" } },
    status: { ...extra },
  }) as VnfDevice;

describe("networkReport", () => {
  const rules = [inSync, repaired, reported, failed, stale].map((r) => ({
    kind: "firewall" as const,
    rule: r,
  }));

  it("counts as CloudStack's reconciliation result does", () => {
    const report = networkReport({
      networkId: "204",
      devices: [device("edge", { unmanagedObjects: 3 })],
      rules,
    });
    expect(report).toMatchObject({
      success: true,
      networkId: "204",
      status: "PartialSuccess",
      driftDetected: true,
      rulesChecked: 5,
      missingRules: 1,
      extraRules: 3,
      rulesReapplied: 1,
      inSync: 1,
      drifted: 2,
      failed: 1,
      pending: 1,
      forced: false,
    });
  });

  it("no drift, nothing failed: Success and driftDetected false", () => {
    const report = networkReport({
      networkId: "1",
      devices: [device("edge")],
      rules: [{ kind: "nat", rule: inSync }],
    });
    expect(report).toMatchObject({ status: "Success", driftDetected: false, rulesChecked: 1 });
  });

  it("with force: Running until every device's check completed", () => {
    const devices = [device("edge"), device("edge2")];
    const half = networkReport({
      networkId: "1",
      devices,
      rules: [],
      forced: { checked: new Set(["ns/edge"]) },
    });
    expect(half).toMatchObject({ status: "Running", forced: true, checkCompleted: false });
    const all = networkReport({
      networkId: "1",
      devices,
      rules: [],
      forced: { checked: new Set(["ns/edge", "ns/edge2"]) },
    });
    expect(all).toMatchObject({ status: "Success", forced: true, checkCompleted: true });
  });
});
