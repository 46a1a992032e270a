// How a rule's failed appliance call ends (the rule controller's step 8): a cancelled reconcile records
// nothing; a retryable code is retried with backoff (or after the appliance's Retry-After, both cut to
// --max-retry-delay); refused credentials are the device's matter first
// (it checks them again; only a refusal after that check is the rule's own); anything else needs a
// person: Stalled with the code and what the appliance said, looked at again after the stalled backoff.
import { ConditionType, getCondition } from "../api/conditions.ts";
import type { PendingOperation, VnfRule, VnfRuleStatus } from "../api/types.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectKey } from "../runtime/resource.ts";
import { DEFAULT_MAX_RETRY_DELAY_MS, requeueAfter } from "./requeue.ts";
import { nextRuleStatus, type RuleOutcome } from "./rule-status.ts";
import type { StallBook } from "./stalled.ts";

export interface FailureDeps {
  events: EventSink;
  stalls: StallBook;
  now: () => Date;
  onCredentialsRefused?: (device: ObjectKey) => void;
  /** The longest wait before retrying, also for an appliance's Retry-After; default 60 s. */
  maxRetryDelayMs?: number;
  /**
   * Records the outcome (rule-journal.ts recordOutcome): `compute` gives the next status from the
   * current one; a 409 re-reads the rule and applies it again, so an outcome is never dropped.
   */
  write: (
    rule: VnfRule,
    compute: (current: VnfRuleStatus | undefined) => VnfRuleStatus,
    signal: AbortSignal,
  ) => Promise<VnfRule>;
}

/** The rule's key in the stall book (forgotten when the rule is gone). */
export function stallKey(rule: VnfRule): string {
  return `${rule.metadata.namespace ?? ""}/${rule.metadata.name ?? ""}`;
}

export async function ruleFailure(
  deps: FailureDeps,
  ctx: ReconcileContext,
  rule: VnfRule,
  error: unknown,
  generation: number,
  operation: string,
  intent?: PendingOperation,
  /** The appliance object the attempt created or found before it failed: recorded, never lost. */
  landed?: string,
): Promise<ReconcileResult | undefined> {
  const now = deps.now;
  // Cancelled (shutdown, lost lease): record nothing — the intent on the API server says what may
  // have happened, and the next reconcile (here or on the new leader) verifies it.
  if (ctx.signal.aborted) throw error;
  const vnf = asVnfError(error);
  const message = `${operation} failed: ${vnf.code}: ${vnf.message}`;
  const action = operation === "delete" || operation === "disown" ? "Delete" : "Apply";
  deps.events.warning(rule, vnf.code, action, message);
  ctx.log.warn({ code: vnf.code, retryable: vnf.retryable }, message);
  const found = landed === undefined ? {} : { vendorRef: landed };
  const stalled = async (outcomeMessage: string): Promise<ReconcileResult> => {
    const retryInMs = deps.stalls.stalled(stallKey(rule), now());
    const base = { type: "stalled", code: vnf.code, message: outcomeMessage, retryInMs, ...found } as const;
    const outcome: RuleOutcome = intent ? { ...base, pending: intent } : base;
    await deps.write(rule, (current) => nextRuleStatus(current, generation, outcome, now()), ctx.signal);
    return { requeueAfterMs: retryInMs };
  };
  if (vnf.code === "VNF_AUTH") {
    // The session already renewed its credentials once. A first refusal is the device's matter: its
    // health check runs again before any rule uses the session (passing: this rule retries; failing:
    // the device is Stalled VNF_AUTH, and so are its rules, naming the Secret). Refused again once the
    // device passed that check, the credentials work but not for this call: the rule's own problem.
    const refusedBefore = getCondition(rule.status?.conditions, ConditionType.Ready)?.reason === "VNF_AUTH";
    if (!refusedBefore) {
      await deps.write(
        rule,
        (current) => nextRuleStatus(current, generation, { type: "credentialsRecheck", message }, now()),
        ctx.signal,
      );
      deps.onCredentialsRefused?.({
        namespace: rule.metadata.namespace ?? "",
        name: rule.spec.deviceRef.name,
      });
      return { requeue: true };
    }
    return stalled(
      `${message}; refused again although the device's credentials passed a fresh health check: the account may lack the permission for this ${operation} on the appliance`,
    );
  }
  if (vnf.retryable) {
    await deps.write(
      rule,
      (current) =>
        nextRuleStatus(current, generation, { type: "retrying", code: vnf.code, message, ...found }, now()),
      ctx.signal,
    );
    return requeueAfter(vnf, deps.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
  }
  return stalled(message);
}

function asVnfError(error: unknown): VnfError {
  if (error instanceof VnfError) return error;
  return new VnfError("BROKER_INTERNAL", error instanceof Error ? error.message : String(error));
}
