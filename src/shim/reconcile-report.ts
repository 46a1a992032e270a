// The answer to POST /reconcile/{networkId} (pure): for the devices of a CloudStack network, which
// rules are in sync, which drifted (status.drift, the Drifted condition), which failed (Stalled) and
// which are still being worked on, in the members of CloudStack's reconciliation result
// (driftDetected, rulesChecked, missingRules, extraRules, rulesReapplied, rulesRemoved).
import type { VnfDevice } from "../api/types.ts";
import type { ShimRule } from "./kube.ts";
import { ANNOTATION_RULE_ID, LABEL_VNF_INSTANCE } from "./names.ts";

export type RuleState = "InSync" | "Drifted" | "Failed" | "Pending";

export interface RuleReport {
  kind: "firewall" | "nat";
  name: string;
  ruleId: string | null;
  device: string;
  state: RuleState;
  errorCode?: string;
  /** Drifted: the fields that differ ("missing" when the appliance object is gone). */
  driftFields?: string[];
  /** Drifted: Repaired (the operator writes it again) or Reported (driftDetection.mode Report). */
  driftAction?: string;
  message?: string;
}

const isTrue = (rule: ShimRule, type: string) =>
  rule.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;

export function classifyRule(kind: "firewall" | "nat", rule: ShimRule): RuleReport {
  const base = {
    kind,
    name: rule.metadata.name,
    ruleId: rule.metadata.annotations?.[ANNOTATION_RULE_ID] ?? rule.spec.ruleId ?? null,
    device: rule.spec.deviceRef.name,
  };
  const ready = rule.status?.conditions?.find((c) => c.type === "Ready");
  const drift = rule.status?.drift;
  if (drift || isTrue(rule, "Drifted"))
    return {
      ...base,
      state: "Drifted",
      driftFields: drift?.fields ?? [],
      ...(drift?.action ? { driftAction: drift.action } : {}),
    };
  if (isTrue(rule, "Stalled"))
    return {
      ...base,
      state: "Failed",
      ...(rule.status?.errorCode ? { errorCode: rule.status.errorCode } : {}),
      ...(ready?.message ? { message: ready.message } : {}),
    };
  const current = (ready?.observedGeneration ?? -1) >= (rule.metadata.generation ?? 1);
  if (ready?.status === "True" && current) return { ...base, state: "InSync" };
  return {
    ...base,
    state: "Pending",
    ...(rule.status?.errorCode ? { errorCode: rule.status.errorCode } : {}),
    ...(ready?.message ? { message: ready.message } : {}),
  };
}

export interface NetworkReportInput {
  networkId: string;
  devices: readonly VnfDevice[];
  rules: ReadonlyArray<{ kind: "firewall" | "nat"; rule: ShimRule }>;
  /** With {"force": true}: the devices whose requested drift check completed. */
  forced?: { checked: ReadonlySet<string> };
}

export function networkReport(input: NetworkReportInput): Record<string, unknown> {
  const rules = input.rules.map(({ kind, rule }) => classifyRule(kind, rule));
  const count = (state: RuleState) => rules.filter((r) => r.state === state).length;
  const drifted = rules.filter((r) => r.state === "Drifted");
  const key = (d: VnfDevice) => `${d.metadata.namespace}/${d.metadata.name}`;
  const checkCompleted = input.forced
    ? input.devices.every((d) => input.forced?.checked.has(key(d)))
    : undefined;
  const failed = count("Failed");
  return {
    success: true,
    networkId: input.networkId,
    status: checkCompleted === false ? "Running" : failed > 0 ? "PartialSuccess" : "Success",
    driftDetected: drifted.length > 0,
    rulesChecked: rules.length,
    missingRules: drifted.filter((r) => r.driftFields?.includes("missing")).length,
    extraRules: input.devices.reduce((sum, d) => sum + (d.status?.unmanagedObjects ?? 0), 0),
    rulesReapplied: drifted.filter((r) => r.driftAction === "Repaired").length,
    rulesRemoved: 0,
    inSync: count("InSync"),
    drifted: drifted.length,
    failed,
    pending: count("Pending"),
    ...(input.forced ? { forced: true, checkCompleted } : { forced: false }),
    devices: input.devices.map((d) => ({
      name: d.metadata.name,
      namespace: d.metadata.namespace,
      vnfInstanceId: d.metadata.labels?.[LABEL_VNF_INSTANCE] ?? null,
      driftDetection: d.spec.driftDetection ? (d.spec.driftDetection.mode ?? "Repair") : "Off",
      lastDriftCheckTime: d.status?.lastDriftCheckTime ?? null,
      unmanagedObjects: d.status?.unmanagedObjects ?? null,
      ...(input.forced ? { checkCompleted: input.forced.checked.has(key(d)) } : {}),
    })),
    rules,
  };
}
