// The ordering step of one device and one rule kind: from one bulk list of the appliance and the rules
// in the cache, the plan (order-plan.ts, pure), then its effect — the moves, in one place per device
// (the order controller runs it after a batch of rule writes and when the drift check finds the order
// changed). On appliances where a rule's number is its identity (VyOS), a move renames the rule: the
// step hands the new number to the rule controller (RenumberRequests), which renumbers through its
// journal like any other change of identity, so a crash never leaves a rule its status cannot find.
import type { VnfDevice, VnfRule } from "../api/types.ts";
import { parseMarker, rulePart } from "./markers.ts";
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

export interface OrderFacts {
  kind: RuleKind;
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
  const ruleOf = (marker: string | undefined): VnfRule | undefined => {
    const facts = parseMarker(marker);
    if (facts.form === "owned") return byRule.get(facts.rule);
    if (facts.form === "legacy") return byRule.get(facts.uid);
    return undefined;
  };
  const anchor = facts.placement.at === "After" ? facts.placement.anchor : undefined;
  const seen = new Set<string>();
  const objects: OrderObject[] = facts.objects.map((o) => {
    const rule = ruleOf(o.marker);
    const base: OrderObject = { vendorRef: o.vendorRef, scope: o.scope ?? "" };
    if (o.number !== undefined) base.number = o.number;
    // Our marker without a live rule (orphan, rule being deleted), or a second object with one marker:
    // neither moved nor in the way.
    const form = parseMarker(o.marker).form;
    if (form === "owned" || form === "legacy") {
      const marker = o.marker ?? "";
      if (!rule || rule.metadata.deletionTimestamp || seen.has(marker)) return { ...base, ignored: true };
      seen.add(marker);
      return { ...base, rule: { key: keyOf(rule), priority: rule.spec.priority } };
    }
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
