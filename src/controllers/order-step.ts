// The ordering step of one device and one rule kind: from one bulk list of the appliance and the rules
// in the cache, the plan (order-plan.ts, pure), then its effect — the moves, in one place per device
// (the order controller runs it after a batch of rule writes and when the drift check finds the order
// changed). On appliances where a rule's number is its identity (VyOS), a move renames the rule: the
// step hands the new number to the rule controller (RenumberRequests), which renumbers through its
// journal like any other change of identity, so a crash never leaves a rule its status cannot find.
import type { VnfDevice, VnfRule } from "../api/types.ts";
import { type MarkerOwner, ownershipOf, rulePart } from "./markers.ts";
import { type OrderObject, type OrderPlan, type Placement, planOrder } from "./order-plan.ts";
import type { DeviceSession, ObservedObject, OrderingFacts, RuleKind } from "./ports.ts";

/** The device's ruleOrder as a placement (default Keep: no rule moves across one nobody manages). */
export function placementOf(device: VnfDevice): Placement {
  const order = device.spec.ruleOrder;
  if (order?.placement === "Top") return { at: "Top" };
  if (order?.placement === "Bottom") return { at: "Bottom" };
  if (order?.placement === "After" && order.anchor) return { at: "After", anchor: order.anchor };
  return { at: "Keep" };
}

/**
 * Whether the rules can need a move or a recorded place at all. With placement Keep and no rule with a
 * priority (nor a place left from one), the plan is empty whatever the appliance holds: rules without
 * a priority keep the appliance's order and Keep moves nothing across rules nobody manages. Then the
 * step does not read the appliance: at a list per device after every batch of writes, that read was
 * most of an unordered rule set's CPU and its only extra appliance calls.
 */
export function orderingNeeded(placement: Placement, rules: readonly VnfRule[]): boolean {
  if (placement.at !== "Keep") return true;
  return rules.some((r) => r.spec.priority !== undefined || r.status?.position !== undefined);
}

export interface OrderFacts {
  kind: RuleKind;
  /** Whose objects are ours (this installation, this device): only those are matched to rules and moved. */
  owner: MarkerOwner;
  ordering: OrderingFacts;
  /** The appliance's objects of the kind, in its order (one bulk list). */
  objects: ObservedObject[];
  /** Every rule of the kind on this device in the cache (deleting ones included). */
  rules: VnfRule[];
  placement: Placement;
  /** Identity numbers (VyOS): numbers recorded or reserved for rules, that no move may take. */
  reservedNumbers?: ReadonlySet<number>;
}

/** The plan for one kind, and which rule each planned key is. */
export function planDeviceOrder(facts: OrderFacts): { plan: OrderPlan; rulesByKey: Map<string, VnfRule> } {
  const rulesByKey = new Map<string, VnfRule>();
  // Objects are matched to rules by the rule their marker names (its rule part, or an old-form uid).
  const byRule = new Map<string, VnfRule>();
  for (const rule of facts.rules) {
    // The rule's identity as requestFor puts it in the marker.
    const uid = rule.metadata.uid ?? `${rule.metadata.namespace}/${rule.metadata.name}`;
    byRule.set(rulePart(uid), rule);
    byRule.set(uid, rule);
    rulesByKey.set(keyOf(rule), rule);
  }
  // Ours only: our installation and this device, with a check that verifies (or the old form, which a
  // rule of ours adopts). A marker typed by hand in our form, or another installation's, is someone
  // else's object: never moved, and in the way like any rule nobody manages.
  const ruleOf = (marker: string | undefined): VnfRule | undefined => {
    const whose = ownershipOf(facts.owner, marker);
    if (whose.owner === "ours") return byRule.get(whose.rule);
    if (whose.owner === "legacy") return byRule.get(whose.uid);
    return undefined;
  };
  // One object per rule: the one its status records, else the first listed. Another object carrying the
  // same marker (a copy made by hand) is not the rule's and is never moved.
  const chosen = new Map<VnfRule, ObservedObject>();
  for (const o of facts.objects) {
    const rule = ruleOf(o.marker);
    if (!rule) continue;
    const current = chosen.get(rule);
    if (!current || (current.vendorRef !== rule.status?.vendorRef && o.vendorRef === rule.status?.vendorRef))
      chosen.set(rule, o);
  }
  const anchor = facts.placement.at === "After" ? facts.placement.anchor : undefined;
  const objects: OrderObject[] = facts.objects.map((o) => {
    const rule = ruleOf(o.marker);
    const base: OrderObject = { vendorRef: o.vendorRef, scope: o.scope ?? "" };
    if (o.number !== undefined) base.number = o.number;
    if (rule) {
      // A rule being deleted, or a second object with its marker: neither moved nor in the way.
      if (rule.metadata.deletionTimestamp || chosen.get(rule) !== o) return { ...base, ignored: true };
      return { ...base, rule: { key: keyOf(rule), priority: rule.spec.priority } };
    }
    // Our marker without a live rule (an orphan the drift check removes): neither moved nor in the way.
    if (ownershipOf(facts.owner, o.marker).owner === "ours") return { ...base, ignored: true };
    if (anchor !== undefined && (o.vendorRef === anchor || descriptionOf(o) === anchor)) base.anchor = true;
    return base;
  });
  const numbers = facts.ordering.numbers;
  let taken: Set<number> | undefined;
  if (numbers && !facts.ordering.movable) {
    // The number is the identity: never one another object or rule holds, in any scope.
    taken = new Set(facts.reservedNumbers ?? []);
    for (const o of facts.objects) if (o.number !== undefined) taken.add(o.number);
  }
  const plan = planOrder({
    objects,
    placement: facts.placement,
    ...(numbers ? { numbers: taken ? { ...numbers, taken } : numbers } : {}),
  });
  return { plan, rulesByKey };
}

/**
 * New numbers the order step asks the rule controller to move rules to (VyOS), by rule uid. In memory:
 * a lost request costs nothing, the next ordering step (after a restart, on the first device check)
 * plans it again from what the appliance holds.
 */
export class RenumberRequests {
  readonly #byUid = new Map<string, number>();
  request(uid: string, number: number): void {
    this.#byUid.set(uid, number);
  }
  pending(uid: string): number | undefined {
    return this.#byUid.get(uid);
  }
  done(uid: string, number?: number): void {
    if (number === undefined || this.#byUid.get(uid) === number) this.#byUid.delete(uid);
  }
  numbers(): number[] {
    return [...this.#byUid.values()];
  }
}

export interface OrderEffects {
  /** Identity numbers: hand the new number to the rule controller. */
  renumber?: (rule: VnfRule, number: number) => void;
  /** Before each move is sent (the caller then owes the device an activation). */
  onMove?: () => void;
}

/** Runs the plan's moves on the appliance (or hands renumbers over); returns how many it made. */
export async function performOrder(
  session: Pick<DeviceSession, "move">,
  kind: RuleKind,
  ordering: OrderingFacts,
  plan: OrderPlan,
  rulesByKey: Map<string, VnfRule>,
  signal: AbortSignal | undefined,
  effects: OrderEffects,
): Promise<number> {
  let moves = 0;
  for (const move of plan.moves) {
    const rule = rulesByKey.get(move.rule);
    if (!rule) continue;
    if (ordering.movable) {
      if (!session.move) throw new Error(`the session of this device cannot move ${kind} rules`);
      effects.onMove?.();
      await session.move(
        kind,
        move.vendorRef,
        {
          where: move.where,
          pivot: move.pivot,
          ...(move.number === undefined ? {} : { number: move.number }),
        },
        signal,
      );
      moves++;
    } else if (move.number !== undefined && effects.renumber) {
      effects.renumber(rule, move.number);
      moves++;
    }
  }
  return moves;
}

export function keyOf(rule: VnfRule): string {
  return `${rule.metadata.namespace ?? ""}/${rule.metadata.name ?? ""}`;
}

function descriptionOf(object: ObservedObject): string | undefined {
  const description = object.normalized.description;
  return typeof description === "string" ? description.trim() : undefined;
}
