// The appliance calls for an apply plan (rule-plan.ts): update in place, verify, or create — never a
// create when our object already exists (a pending intent makes it look by marker first, and adopt).
import type { DeviceSession, ObservedObject, RuleKind, RuleRequest } from "./ports.ts";
import type { RulePlan } from "./rule-plan.ts";
import type { RuleOutcome } from "./rule-status.ts";

/** The appliance calls for an apply plan. Never sends a create when our object already exists. */
export async function converge(
  session: DeviceSession,
  kind: RuleKind,
  plan: Extract<RulePlan, { step: "apply" }>,
  request: RuleRequest,
  signal: AbortSignal,
): Promise<RuleOutcome> {
  const ruleNumber = request.ruleNumber;
  const applied = (
    action: "created" | "adopted" | "updated" | "verified",
    vendorRef: string,
  ): RuleOutcome => ({
    type: "applied",
    action,
    vendorRef,
    opHash: plan.opHash,
    ...(ruleNumber !== undefined ? { ruleNumber } : {}),
  });

  if (plan.action === "update" && plan.vendorRef !== undefined) {
    const current = await session.get(kind, plan.vendorRef, signal);
    if (current === undefined) {
      // Deleted behind our back (drift): recreate, adopting a copy carrying our marker if one exists.
      return createOrAdopt(session, kind, request, true, applied, signal);
    }
    const moving = renumbers(session, kind, request, plan.vendorRef);
    if (plan.verifyFirst && !moving && session.differences(kind, request, current).length === 0) {
      return applied("verified", plan.vendorRef);
    }
    const updated = await session.update(kind, plan.vendorRef, request, signal);
    return applied("updated", updated?.vendorRef ?? plan.vendorRef);
  }
  return createOrAdopt(session, kind, request, plan.verifyFirst, applied, signal);
}

async function createOrAdopt(
  session: DeviceSession,
  kind: RuleKind,
  request: RuleRequest,
  verifyFirst: boolean,
  applied: (action: "created" | "adopted" | "updated" | "verified", vendorRef: string) => RuleOutcome,
  signal: AbortSignal,
): Promise<RuleOutcome> {
  // Every create is preceded by its intent, so without a pending one no earlier create can have
  // landed: only then is the marker lookup (a list call) skipped. The engine still adopts by marker
  // when a create is retried or refused as a duplicate.
  const existing: ObservedObject | undefined = verifyFirst
    ? await session.findByMarker(kind, request.marker, signal)
    : undefined;
  if (existing) {
    const moving = renumbers(session, kind, request, existing.vendorRef);
    if (!moving && session.differences(kind, request, existing).length === 0)
      return applied("adopted", existing.vendorRef);
    const updated = await session.update(kind, existing.vendorRef, request, signal);
    return applied("adopted", updated?.vendorRef ?? existing.vendorRef);
  }
  const { vendorRef } = await session.create(kind, request, signal);
  return applied("created", vendorRef);
}

/** The update of this request would move the object to another vendorRef (a VyOS renumber). */
function renumbers(session: DeviceSession, kind: RuleKind, request: RuleRequest, vendorRef: string): boolean {
  const target = session.updatedVendorRef?.(kind, request);
  return target !== undefined && target !== vendorRef;
}
