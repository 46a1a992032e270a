// A rule reconcile ends in one typed outcome; this turns it into the next status (Flux's
// ComputeReconcileResult). Pure: the status writer compares the result with the current status and
// writes only when the rule controller's fields differ, so a steady state costs no API write. The
// drift record (status.drift, Drifted) belongs to the drift controller and is carried along untouched.
import {
  ConditionType,
  getCondition,
  kubeTime,
  markNotReady,
  markReady,
  markReconciling,
  markStalled,
  markSuspended,
} from "../api/conditions.ts";
import type { Condition, ErrorCode, PendingOperation, VnfRuleStatus } from "../api/types.ts";

export type AppliedAction = "created" | "adopted" | "updated" | "verified" | "repaired";

export type RuleOutcome =
  /** The appliance now holds the desired request. */
  | { type: "applied"; action: AppliedAction; vendorRef: string; opHash: string; ruleNumber?: number }
  /** Nothing to do on the appliance; `recordGeneration` when only observedGeneration was behind. */
  | { type: "inSync"; recordGeneration: boolean }
  /** Cannot act yet (the device is missing, not Ready or suspended): wait for it, no retry loop. */
  | { type: "waiting"; reason: string; message: string }
  /**
   * A retryable failure: the controller requeues with backoff. `vendorRef`: the appliance object the
   * attempt created or found before it failed (recorded so that it is never lost; the intent stays).
   */
  | { type: "retrying"; code: ErrorCode; message: string; vendorRef?: string }
  /**
   * A person must act (the message says what): tried again after `retryInMs`, and at once when the
   * rule's spec or its device changes.
   */
  | {
      type: "stalled";
      code: ErrorCode;
      message: string;
      pending?: PendingOperation;
      retryInMs?: number;
      vendorRef?: string;
    }
  /** The device is missing past the grace period, or Stalled itself: Stalled until that changes. */
  | { type: "blocked"; reason: string; message: string }
  /** The device is suspended: Suspended, neither Ready nor waiting. */
  | { type: "suspended"; message: string }
  /**
   * The appliance refused the device's credentials (after a fresh login): the device checks them
   * again, the rule retries once it passed.
   */
  | { type: "credentialsRecheck"; message: string }
  /** Deletion in progress, waiting for the appliance. */
  | { type: "deleting"; reason: string; message: string };

const appliedMessages: Record<AppliedAction, string> = {
  created: "created on the appliance",
  adopted:
    "adopted an existing appliance object (carrying this resource's ownership marker, or named by its adopt annotation)",
  updated: "updated on the appliance",
  verified: "the appliance already held the desired rule",
  repaired: "repaired drift on the appliance",
};

export function nextRuleStatus(
  current: VnfRuleStatus | undefined,
  generation: number,
  outcome: RuleOutcome,
  now: Date,
): VnfRuleStatus {
  const status: VnfRuleStatus = { ...(current ?? {}) };
  let conditions: Condition[] = [...(status.conditions ?? [])];
  const at = kubeTime(now);
  const mark = (reason: string, message: string) => ({ reason, message, observedGeneration: generation });

  switch (outcome.type) {
    case "applied": {
      status.vendorRef = outcome.vendorRef;
      status.opHash = outcome.opHash;
      if (outcome.ruleNumber !== undefined) status.ruleNumber = outcome.ruleNumber;
      if (outcome.action !== "verified") status.appliedAt = at;
      status.lastSyncTime = at;
      delete status.errorCode;
      delete status.pendingOperation;
      conditions = markReady(
        conditions,
        mark("Applied", `${appliedMessages[outcome.action]} (vendorRef ${outcome.vendorRef})`),
        now,
      );
      status.observedGeneration = generation;
      break;
    }
    case "inSync": {
      const readyBefore = getCondition(conditions, ConditionType.Ready)?.status === "True";
      if (!outcome.recordGeneration && readyBefore) return current ?? {};
      status.observedGeneration = generation;
      if (readyBefore) {
        conditions = conditions.map((c) =>
          c.type === ConditionType.Ready ? { ...c, observedGeneration: generation } : c,
        );
        break;
      }
      // Back from a wait (device not Ready, suspended) or from a stall its spec no longer has: the
      // appliance holds the rule as recorded, so the rule is Ready again without an appliance call.
      delete status.errorCode;
      conditions = markReady(
        conditions,
        mark("Applied", `the appliance holds the desired rule (vendorRef ${status.vendorRef ?? "unknown"})`),
        now,
      );
      break;
    }
    case "waiting":
    case "deleting": {
      conditions = markNotReady(conditions, mark(outcome.reason, outcome.message), now);
      status.observedGeneration = generation;
      break;
    }
    case "retrying": {
      if (outcome.vendorRef !== undefined) status.vendorRef = outcome.vendorRef;
      status.errorCode = outcome.code;
      conditions = markReconciling(
        conditions,
        mark("RetryingAfterError", `${outcome.code} is retryable: retrying with backoff`),
        now,
        { reason: outcome.code, message: outcome.message },
      );
      status.observedGeneration = generation;
      break;
    }
    case "stalled": {
      if (outcome.vendorRef !== undefined) status.vendorRef = outcome.vendorRef;
      status.errorCode = outcome.code;
      if (outcome.pending) status.pendingOperation = outcome.pending;
      const again =
        outcome.retryInMs === undefined
          ? ""
          : `tried again in ${Math.round(outcome.retryInMs / 1000)} s and `;
      conditions = markStalled(
        conditions,
        mark(outcome.code, outcome.message),
        now,
        `${outcome.message} (${again}at once when the rule's spec or its device changes)`,
      );
      status.observedGeneration = generation;
      break;
    }
    case "blocked": {
      delete status.errorCode;
      conditions = markStalled(conditions, mark(outcome.reason, outcome.message), now);
      status.observedGeneration = generation;
      break;
    }
    case "suspended": {
      delete status.errorCode;
      conditions = markSuspended(conditions, mark("DeviceSuspended", outcome.message), now);
      status.observedGeneration = generation;
      break;
    }
    case "credentialsRecheck": {
      status.errorCode = "VNF_AUTH";
      conditions = markReconciling(
        conditions,
        mark(
          "CredentialsRecheck",
          "the appliance refused the device's credentials after a fresh login: the device checks them again, this rule retries once it passed",
        ),
        now,
        { reason: "VNF_AUTH", message: outcome.message },
      );
      status.observedGeneration = generation;
      break;
    }
  }
  status.conditions = conditions;
  return status;
}

/** The write-ahead intent, written before the appliance call. */
export function withIntent(
  current: VnfRuleStatus | undefined,
  generation: number,
  intent: PendingOperation,
  now: Date,
): VnfRuleStatus {
  const status: VnfRuleStatus = { ...(current ?? {}), pendingOperation: intent };
  status.conditions = markReconciling(
    status.conditions,
    {
      reason: intent.operation === "delete" ? "Deleting" : "Applying",
      message: `${intent.operation} in progress on the appliance`,
      observedGeneration: generation,
    },
    now,
  );
  return status;
}
