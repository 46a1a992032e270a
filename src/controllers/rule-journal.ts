// The rule controller's journal: its two kinds of status write. The journal is what makes "at most one
// appliance object per rule" hold across crashes (docs/design.md), so each write has one rule:
//
// - the INTENT is written before the appliance call, with the resourceVersion the decision was made
//   on. A 409 means the decision was made on a stale read: nothing is sent, the rule is decided again
//   on a fresh read. This is what makes "no intent pending ⇒ nothing unrecorded on the appliance" a
//   fact about the current object, not about a cached copy.
// - the OUTCOME (vendorRef, opHash, Ready, or the error with what landed) is never dropped: on a 409
//   (a spec edit, another controller's write) the rule is read again and the same outcome applied to
//   the current object. It records what the appliance now holds, for the generation that was applied;
//   the edit that caused the 409 is handled by the next reconcile, which finds the vendorRef.
import type { VnfRule, VnfRuleStatus } from "../api/types.ts";
import { isConflict, isNotFound, type KubeRequester } from "../runtime/kube-http.ts";
import { objectPath, type ResourceType } from "../runtime/resource.ts";
import type { StatusWriter } from "../runtime/status-writer.ts";

/** Attempts at recording one outcome before giving up (the intent then stays: the next reconcile looks first). */
const OUTCOME_ATTEMPTS = 5;

export interface Journal {
  status: StatusWriter<VnfRule>;
  http: KubeRequester;
  resource: ResourceType;
}

/** Writes the intent on the rule as read; throws on 409 (decide again on a fresh read). */
export function writeIntent(
  journal: Journal,
  rule: VnfRule,
  next: VnfRuleStatus,
  signal?: AbortSignal,
): Promise<VnfRule> {
  return journal.status.write(rule, next, { lock: true, ...(signal ? { signal } : {}) });
}

/**
 * Records an outcome: `compute` turns a status into the next one. Applied to the rule as read; on a
 * 409, to the rule read again, until it is stored. Returns the stored rule (or the last one read, if
 * the rule is gone).
 */
export async function recordOutcome(
  journal: Journal,
  rule: VnfRule,
  compute: (current: VnfRuleStatus | undefined) => VnfRuleStatus,
  signal?: AbortSignal,
): Promise<VnfRule> {
  let current = rule;
  for (let attempt = 1; ; attempt++) {
    try {
      return await journal.status.write(current, compute, { lock: true, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (!isConflict(error) || attempt >= OUTCOME_ATTEMPTS) throw error;
    }
    try {
      current = await journal.http.request<VnfRule>({
        method: "GET",
        path: objectPath(journal.resource, {
          namespace: rule.metadata.namespace ?? "",
          name: rule.metadata.name ?? "",
        }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (isNotFound(error)) return current; // deleted meanwhile: nothing left to record on
      throw error;
    }
  }
}
