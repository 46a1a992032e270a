// Reading a rule's status as the broker's answer (pure): Completed with vendorRef, Failed with the
// error code and the Ready message, or undecided (keep waiting; Pending when the wait runs out, or at
// once when the rule waits for its device). How each client is told is dialects.ts's job.
import type { ErrorCode, VnfRuleStatus } from "../api/types.ts";

export type RuleAnswer =
  | { state: "Completed"; vendorRef: string; appliedAt?: string; message: string }
  | { state: "Failed"; errorCode: string; message: string }
  | { state: "Pending"; errorCode?: string; message: string };

/**
 * The rule controller's reasons for a rule held by its device (no appliance call yet): waiting for it
 * (Ready=False), or Stalled because the device is missing past the grace period or Stalled itself. The
 * rule resumes by itself once the device is Ready, so the broker's answer is "ask again", not a failure.
 */
const DEVICE_WAIT_REASONS = new Set(["DeviceNotFound", "DeviceNotReady", "DeviceStalled"]);

export interface RuleLike {
  metadata: { generation?: number };
  status?: VnfRuleStatus;
}

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
  if (stalled?.status === "True" && !DEVICE_WAIT_REASONS.has(stalled.reason))
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

/**
 * Pending at once when the rule waits for its device (not Ready, suspended, missing): nothing will
 * happen before the device changes, so waiting out the timeout would only hold the caller (the
 * enhanced broker family's "circuit open" answer).
 */
export function waitingForDevice(rule: RuleLike, generation: number): RuleAnswer | undefined {
  const current = (type: string) =>
    rule.status?.conditions?.find((c) => c.type === type && (c.observedGeneration ?? -1) >= generation);
  const ready = current("Ready");
  const suspended = current("Suspended");
  const held =
    suspended?.status === "True"
      ? suspended
      : ready?.status === "False" && DEVICE_WAIT_REASONS.has(ready.reason)
        ? ready
        : undefined;
  if (!held) return undefined;
  return {
    state: "Pending",
    errorCode: "VNF_UNREACHABLE",
    message: `${held.reason}: ${held.message}; the rule is applied once the device is Ready again (repeat the request with the same ruleId for the outcome)`,
  };
}

/**
 * One answer for a rule written as several resources: Completed when every part is (vendorRefs
 * joined with ","), Failed when a part failed, else Pending.
 */
export function combineAnswers(answers: readonly RuleAnswer[]): RuleAnswer {
  if (answers.length === 1 && answers[0]) return answers[0];
  const failed = answers.find((a) => a.state === "Failed");
  if (failed) return { ...failed, message: `one of ${answers.length} resources failed: ${failed.message}` };
  const pendingOne = answers.find((a) => a.state === "Pending");
  if (pendingOne)
    return { ...pendingOne, message: `one of ${answers.length} resources: ${pendingOne.message}` };
  const done = answers.filter((a) => a.state === "Completed");
  const appliedAt = done
    .map((a) => a.appliedAt)
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  return {
    state: "Completed",
    vendorRef: done.map((a) => a.vendorRef).join(","),
    ...(appliedAt ? { appliedAt } : {}),
    message: `applied as ${answers.length} appliance rules (one per address and port combination)`,
  };
}
