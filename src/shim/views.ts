// A stored firewall rule as the list and get answers show it: the wire-format view of the request it
// was written from, and one state for all its resources.
import type { ShimRule } from "./kube.ts";
import { ANNOTATION_RULE_ID, LABEL_VNF_INSTANCE } from "./names.ts";
import { combineAnswers, decide, type RuleAnswer } from "./outcome.ts";
import { requestOf, type StoredRule } from "./rule-store.ts";

interface EndpointView {
  cidr?: string;
  alias?: string;
  port?: string;
}

export function ruleView(rule: StoredRule): Record<string, unknown> {
  const spec = requestOf(rule) as Record<string, unknown> & {
    source?: EndpointView;
    destination?: EndpointView;
  };
  const answers = rule.parts.map(
    (p): RuleAnswer => decide(p, p.metadata.generation ?? 1) ?? { state: "Pending", message: "" },
  );
  const answer = combineAnswers(answers);
  const errorCode = rule.parts.map((p) => p.status?.errorCode).find((c) => c !== undefined);
  const appliedAt = rule.parts
    .map((p) => p.status?.appliedAt)
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  return {
    ruleId: rule.ruleId,
    vnfInstanceId: rule.instanceId,
    names: rule.parts.map((p) => p.metadata.name),
    namespace: rule.parts[0]?.metadata.namespace,
    state: answer.state,
    vendorRef: answer.state === "Completed" ? answer.vendorRef : null,
    errorCode: errorCode ?? null,
    action: spec.action,
    protocol: spec.protocol,
    interface: spec.interface,
    direction: spec.direction,
    sourceAddressing: spec.source?.cidr ?? spec.source?.alias ?? "any",
    destinationAddressing: spec.destination?.cidr ?? spec.destination?.alias ?? "any",
    sourcePorts: spec.source?.port ?? "any",
    destinationPorts: spec.destination?.port ?? "any",
    description: spec.description ?? null,
    enabled: spec.enabled ?? true,
    appliedAt: appliedAt ?? null,
  };
}

/** One view per ruleId (the resources of a listed rule are grouped), ordered by ruleId. */
export function ruleViews(rules: readonly ShimRule[]): Array<Record<string, unknown>> {
  const byRuleId = new Map<string, ShimRule[]>();
  for (const rule of rules) {
    const ruleId = rule.metadata.annotations?.[ANNOTATION_RULE_ID] ?? rule.spec.ruleId;
    if (ruleId === undefined) continue;
    byRuleId.set(ruleId, [...(byRuleId.get(ruleId) ?? []), rule]);
  }
  return [...byRuleId.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([ruleId, parts]) =>
      ruleView({
        kind: "firewall",
        ruleId,
        instanceId: parts[0]?.metadata.labels?.[LABEL_VNF_INSTANCE] ?? "",
        parts,
      }),
    );
}
