// Where a rule about to be created goes in the order (order-plan.ts): next to its neighbours in the
// desired order, or, for a rule without a priority, last — where a create puts it, so no move.
import { compareRules, fitNumbers, type NumberSpace, type OrderedRule } from "./order-plan.ts";

/** A rule about to be created, among its peers: without a priority it goes after all of them. */
function withNewRule<T extends OrderedRule>(self: T, peers: T[]): T[] {
  const others = peers.filter((p) => p.key !== self.key);
  return self.priority === undefined
    ? [...others.sort(compareRules), self]
    : [...others, self].sort(compareRules);
}

/**
 * Where a rule about to be created goes: next to its nearest neighbour in the desired order that is
 * already on the appliance (after its predecessor, else before its successor); undefined when none is.
 * `next` is the nearest successor on the appliance too (numbered appliances pick a number between).
 */
export function placeNewRule(
  rule: OrderedRule,
  peers: Array<OrderedRule & { vendorRef?: string | undefined }>,
): { where: "before" | "after"; pivot: string; next?: string } | undefined {
  // Without a priority it goes last, where a create puts it: no move (peers without a priority are
  // not in the appliance's order here, so none of them can say where "last" is anyway).
  if (rule.priority === undefined) return undefined;
  const self: OrderedRule & { vendorRef?: string | undefined } = { key: rule.key, priority: rule.priority };
  const sorted = withNewRule(self, peers);
  const at = sorted.indexOf(self);
  const before = sorted.slice(0, at).findLast((p) => p.vendorRef !== undefined)?.vendorRef;
  const after = sorted.slice(at + 1).find((p) => p.vendorRef !== undefined)?.vendorRef;
  if (before !== undefined)
    return after === undefined
      ? { where: "after", pivot: before }
      : { where: "after", pivot: before, next: after };
  if (after !== undefined) return { where: "before", pivot: after };
  return undefined;
}

/**
 * The number a new rule gets on appliances where the number is its place (VyOS): free, between the
 * numbers of its nearest numbered neighbours in the desired order. Without neighbours it starts well
 * inside the range, leaving room on both sides. undefined when there is no room (the caller takes any
 * free number; the ordering step renumbers).
 */
export function numberForNewRule(
  rule: OrderedRule,
  peers: Array<OrderedRule & { number?: number | undefined }>,
  numbers: NumberSpace,
): number | undefined {
  const used = numbers.taken ?? new Set<number>();
  const self: OrderedRule & { number?: number | undefined } = { key: rule.key, priority: rule.priority };
  const sorted = withNewRule(self, peers);
  const at = sorted.indexOf(self);
  // Without a priority: after the highest number of the rules before it (those without a priority
  // are in the appliance's order, which is their numbers' order).
  const lo =
    rule.priority === undefined
      ? highest(sorted.slice(0, at).map((p) => p.number))
      : sorted.slice(0, at).findLast((p) => p.number !== undefined)?.number;
  const hi = sorted.slice(at + 1).find((p) => p.number !== undefined)?.number;
  if (lo === undefined && hi === undefined) {
    const start = numbers.min + Math.min(1000 * numbers.step, Math.floor((numbers.max - numbers.min) / 2));
    return fitNumbers(1, start - 1, undefined, { ...numbers, step: 1 }, used)?.[0];
  }
  return fitNumbers(1, lo, hi, numbers, used)?.[0];
}

function highest(numbers: Array<number | undefined>): number | undefined {
  const known = numbers.filter((n): n is number => n !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}
