// What the rule controller needs to know about rule order (order-plan.ts decides it): the numbers
// rules hold, a rule's ordering key, and the ordering scope of each rule's spec.
import type { VnfRule } from "../api/types.ts";
import { numberForNewRule, placeNewRule } from "./order-new-rule.ts";
import type { DeviceSession, Position, RuleKind } from "./ports.ts";

/** The other rules of the rule's device (same namespace). */
export function devicePeers(namespaceRules: VnfRule[], rule: VnfRule): VnfRule[] {
  return namespaceRules.filter(
    (r) => r.spec.deviceRef.name === rule.spec.deviceRef.name && r.metadata.uid !== rule.metadata.uid,
  );
}

/** Where the number is the rule's place (VyOS): a free number between its neighbours' numbers. */
export function numberInPlace(
  session: DeviceSession,
  kind: RuleKind,
  rule: VnfRule,
  peers: VnfRule[],
  taken: ReadonlySet<number>,
  scopes: ScopeCache,
): number | undefined {
  const ordering = session.ordering?.(kind);
  if (!ordering?.numbers || ordering.movable) return undefined;
  return numberForNewRule(
    orderedOf(rule),
    scopes
      .peersInScope(session, kind, rule, peers)
      .map((p) => ({ ...orderedOf(p), number: p.status?.ruleNumber })),
    { ...ordering.numbers, taken },
  );
}

/** Where a create goes on appliances that can place it: next to its nearest neighbour already there. */
export function createPosition(
  session: DeviceSession,
  kind: RuleKind,
  rule: VnfRule,
  peers: () => VnfRule[],
  scopes: ScopeCache,
): Position | undefined {
  // Without a priority a create goes last, where the appliance puts it: no peers to look at (listing
  // them costs a pass over the namespace's rules, per create).
  if (!session.ordering?.(kind)?.movable || rule.spec.priority === undefined) return undefined;
  return placeNewRule(
    orderedOf(rule),
    scopes
      .peersInScope(session, kind, rule, peers())
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({ ...orderedOf(p), vendorRef: p.status?.vendorRef })),
  );
}

/** Numbers the rules hold: recorded, and the one a pending renumber still occupies (its vendorRef). */
export function numbersHeld(rules: VnfRule[]): number[] {
  return rules.flatMap((r) => {
    const out: number[] = [];
    if (r.status?.ruleNumber !== undefined) out.push(r.status.ruleNumber);
    for (const ref of [r.status?.vendorRef, r.status?.pendingOperation?.vendorRef]) {
      if (ref !== undefined && /^[0-9]{1,9}$/.test(ref)) out.push(Number(ref));
    }
    return out;
  });
}

export function orderedOf(rule: VnfRule): { key: string; priority: number | undefined } {
  return {
    key: `${rule.metadata.namespace ?? ""}/${rule.metadata.name ?? ""}`,
    priority: rule.spec.priority,
  };
}

/** The ordering scope of each rule's spec, remembered per generation (rendered once per spec). */
export class ScopeCache {
  readonly #byUid = new Map<string, { generation: number; scope: string | undefined }>();
  scopeOf(session: DeviceSession, kind: RuleKind, rule: VnfRule): string | undefined {
    const uid = rule.metadata.uid ?? "";
    const generation = rule.metadata.generation ?? 0;
    const known = this.#byUid.get(uid);
    if (known?.generation === generation) return known.scope;
    let scope: string | undefined;
    try {
      scope = session.orderScope?.(kind, rule.spec) ?? "";
    } catch {
      scope = undefined; // a spec the dictionary refuses has no place
    }
    if (this.#byUid.size > 100_000) this.#byUid.clear();
    this.#byUid.set(uid, { generation, scope });
    return scope;
  }
  peersInScope(session: DeviceSession, kind: RuleKind, rule: VnfRule, peers: VnfRule[]): VnfRule[] {
    const mine = this.scopeOf(session, kind, rule);
    if (mine === undefined) return [];
    return peers.filter((p) => this.scopeOf(session, kind, p) === mine);
  }
}
