// Reading a rule's status as the broker's answer (pure): Completed with vendorRef, Failed with the
// error code and the Ready message, or undecided (keep waiting; Pending when the wait runs out).
import type { ErrorCode, VnfRuleStatus } from "../api/types.ts";

export type RuleAnswer =
  | { state: "Completed"; vendorRef: string; appliedAt?: string; message: string }
  | { state: "Failed"; errorCode: string; message: string }
  | { state: "Pending"; errorCode?: string; message: string };

export interface RuleLike {
  metadata: { generation?: number };
  status?: VnfRuleStatus;
}

/** Codes the caller may retry (per the original DICTIONARY_FORMAT.md table). */
export const RETRYABLE = new Set<string>([
  "VNF_TIMEOUT",
  "VNF_UPSTREAM",
  "VNF_UNREACHABLE",
  "VNF_CAPACITY",
  "VNF_RATE_LIMIT",
]);

/** The final answer for generation `generation`, or undefined while the operator is still working. */
export function decide(rule: RuleLike, generation: number): RuleAnswer | undefined {
  const conditions = rule.status?.conditions ?? [];
  const current = (type: string) =>
    conditions.find((c) => c.type === type && (c.observedGeneration ?? -1) >= generation);
  const ready = current("Ready");
  if (ready?.status === "True" && rule.status?.vendorRef)
    return {
      state: "Completed",
      vendorRef: rule.status.vendorRef,
      ...(rule.status.appliedAt ? { appliedAt: rule.status.appliedAt } : {}),
      message: ready.message,
    };
  const stalled = current("Stalled");
  if (stalled?.status === "True")
    return {
      state: "Failed",
      errorCode: (rule.status?.errorCode as ErrorCode | undefined) ?? stalled.reason,
      message: ready?.message || stalled.message,
    };
  return undefined;
}

/** The answer when the bounded wait ran out: Pending, with the last error the operator met if any. */
export function pending(rule: RuleLike | undefined, generation: number, waitedMs: number): RuleAnswer {
  const ready = rule?.status?.conditions?.find(
    (c) => c.type === "Ready" && (c.observedGeneration ?? -1) >= generation,
  );
  const code = ready ? rule?.status?.errorCode : undefined;
  const detail = ready?.message ? `: ${ready.reason}: ${ready.message}` : "";
  return {
    state: "Pending",
    ...(code ? { errorCode: code } : {}),
    message: `not Ready within ${Math.round(waitedMs / 1000)}s${detail}; repeat the request with the same ruleId for the outcome`,
  };
}
