// What a rule asks of its device's appliance: its spec, the marker that says the object is ours, and
// on appliances that number rules, its number: kept when adopted, moved when the order step asks,
// else a free one reserved until the rule's status records it.
import type { VnfDevice, VnfRule } from "../api/types.ts";
import { type MarkerOwner, ruleMarker } from "./markers.ts";
import type { RenumberRequests } from "./order-step.ts";
import type { DeviceSession, RuleKind, RuleRequest } from "./ports.ts";
import { adoptedRuleNumber } from "./rule-adopt.ts";
import type { RuleNumberReservations } from "./rule-numbers.ts";
import { devicePeers, numberInPlace, numbersHeld, type ScopeCache } from "./rule-order.ts";

/** Whose markers this installation writes on this device. */
export function markerOwner(deps: { installationId: string }, device: VnfDevice): MarkerOwner {
  return {
    installationId: deps.installationId,
    deviceUid: device.metadata.uid ?? device.metadata.name ?? "",
  };
}

/** What the rule asks of its device's appliance: the spec, its marker there, its rule number. */
export function requestFor(rule: VnfRule, owner: MarkerOwner): RuleRequest {
  const marker = ruleMarker(owner, rule.metadata.uid ?? `${rule.metadata.namespace}/${rule.metadata.name}`);
  return rule.status?.ruleNumber === undefined
    ? { spec: rule.spec, marker }
    : { spec: rule.spec, marker, ruleNumber: rule.status.ruleNumber };
}

export interface NumberingFacts {
  rule: VnfRule;
  /** The namespace the rule was read from. */
  namespace: string;
  kind: RuleKind;
  session: DeviceSession | undefined;
  /** The rules of the rule's namespace (its device's are picked from them). */
  namespaceRules: () => VnfRule[];
  renumbers: RenumberRequests | undefined;
  reservations: RuleNumberReservations;
  scopes: ScopeCache;
}

/**
 * The request with the number this reconcile uses; `exhausted` when the rule needs a new number and
 * none is free in the device's range (the caller records Stalled VNF_CAPACITY).
 */
export function numberedRequest(
  request: RuleRequest,
  { rule, namespace, kind, session, namespaceRules, renumbers, reservations, scopes }: NumberingFacts,
): { request: RuleRequest } | { exhausted: { min: number; max: number } } {
  const scope = `${namespace}/${rule.spec.deviceRef.name}/${kind}`;
  // An adopted object keeps its number (VyOS: the number is its identity).
  const adoptedNumber = session?.ruleNumbers ? adoptedRuleNumber(rule, session.ruleNumbers) : undefined;
  if (adoptedNumber !== undefined && request.ruleNumber === undefined) {
    request = { ...request, ruleNumber: adoptedNumber };
  }
  const renumber = renumbers?.pending(rule.metadata.uid ?? "");
  if (renumber !== undefined && request.ruleNumber !== undefined && renumber !== request.ruleNumber) {
    // The order step moves this rule to another number: an update that renumbers it, journaled.
    return { request: { ...request, ruleNumber: renumber } };
  }
  if (session?.ruleNumbers && request.ruleNumber === undefined && !rule.metadata.deletionTimestamp) {
    const peers = devicePeers(namespaceRules(), rule);
    const recorded = new Set([...numbersHeld(peers), ...(renumbers?.numbers() ?? [])]);
    const preferred = numberInPlace(session, kind, rule, peers, recorded, scopes);
    const number = reservations.reserve(scope, request.marker, recorded, session.ruleNumbers, preferred);
    if (number === undefined) return { exhausted: session.ruleNumbers };
    return { request: { ...request, ruleNumber: number } };
  }
  if (request.ruleNumber !== undefined) reservations.release(scope, request.marker);
  return { request };
}
