// The Events a rule's successful writes produce. Failures tell their own (rule-failure.ts).
import type { VnfDevice, VnfRule } from "../api/types.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import type { ResourceType } from "../runtime/resource.ts";
import type { AppliedAction, RuleOutcome } from "./rule-status.ts";

export interface RuleEventDeps {
  devices: ObjectCache<VnfDevice>;
  events: EventSink;
  kind: { resource: ResourceType };
}

const EVENT_REASONS: Record<AppliedAction, string> = {
  created: "Created", // told per device: routineEvent
  adopted: "Adopted",
  updated: "Updated",
  verified: "Verified",
  repaired: "Repaired",
};

/**
 * The routine outcome of a rule's life (created, deleted) is told once per device, as one Event
 * whose count grows (an Event series), not as an Event per rule: the rule's own status says it, and
 * an Event per rule was one API write in four. What matters to a human — updates, adoptions,
 * repairs, every failure — keeps its Event on the rule.
 */
export function routineEvent(
  deps: RuleEventDeps,
  rule: VnfRule,
  reason: string,
  action: string,
  what: string,
) {
  const device = deps.devices.get(rule.metadata.namespace ?? "", rule.spec.deviceRef.name);
  if (!device) return;
  const kind = deps.kind.resource.kind;
  deps.events.normal(device, reason, action, `${kind} ${what} (the Event's count: one per rule)`);
}

/** What an apply tells: a create per device, any other change on the rule, nothing when verified. */
export function appliedEvent(deps: RuleEventDeps, rule: VnfRule, outcome: RuleOutcome): void {
  if (outcome.type !== "applied") return;
  if (outcome.action === "created") {
    routineEvent(deps, rule, "RulesCreated", "Apply", "created on the appliance");
  } else if (outcome.action !== "verified") {
    deps.events.normal(
      rule,
      EVENT_REASONS[outcome.action],
      "Apply",
      `${outcome.action} on the appliance (vendorRef ${outcome.vendorRef})`,
    );
  }
}
