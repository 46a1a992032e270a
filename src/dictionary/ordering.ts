// What a dictionary's `ordering` says about one rule or one listed object: the scope it is ordered
// in (an interface, a rule set) and, on appliances that order by number, its number. The decisions
// (which moves) are the controllers' (controllers/order-plan.ts); this reads the appliance's facts.
import type { CompiledResource } from "./compiled.ts";
import { OMIT } from "./templates.ts";

/** The scope of canonical rule fields (a spec, or a normalised object); "" without ordering. */
export function scopeOf(
  resource: CompiledResource,
  rule: Record<string, unknown>,
  context: Record<string, unknown>,
): string {
  const ordering = resource.ordering;
  if (!ordering) return "";
  try {
    const value = ordering.scope.evaluate({ ...context, rule }, { allowUndefined: true });
    return value === undefined || value === null || value === OMIT ? "" : String(value);
  } catch {
    // An object the dictionary cannot read back is ordered with the rules of no known scope.
    return "?";
  }
}

/** The number a listed object is ordered by, when the dictionary orders by number. */
export function numberOf(
  resource: CompiledResource,
  vendorRef: string,
  item: unknown,
  context: Record<string, unknown>,
): number | undefined {
  const template = resource.ordering?.number;
  if (!template) return undefined;
  try {
    const value = Number(template.evaluate({ ...context, item, vendorRef }, { allowUndefined: true }));
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
