// The appliance calls of an apply plan: create, adopt or update one rule's object. Never sends a create
// while the appliance may hold an object of the rule (plan.verifyFirst, rule-plan.ts): it looks for
// the object by marker first and adopts it. Reports the vendorRef as soon as it is known, so that a
// failure after that point (an update refused, an activation that failed) still records it.
import { VnfError } from "../dictionary/errors.ts";
import type { DeviceSession, ObservedObject, RuleKind, RuleRequest } from "./ports.ts";
import type { RulePlan } from "./rule-plan.ts";
import type { RuleOutcome } from "./rule-status.ts";

export type ApplyPlan = Extract<RulePlan, { step: "apply" }>;

export interface ConvergeInput {
  session: DeviceSession;
  kind: RuleKind;
  plan: ApplyPlan;
  request: RuleRequest;
  /** Every marker an object of this rule may carry (its own, then the old form). */
  adoptable: readonly string[];
  /** Told the appliance object's vendorRef as soon as it is known (created, found, renamed). */
  landed: (vendorRef: string) => void;
  /** The reconcile's cancellation (shutdown, lost lease): reaches every appliance call. */
  signal?: AbortSignal;
}

export async function converge(input: ConvergeInput): Promise<RuleOutcome> {
  const { session, kind, plan, request } = input;
  if (plan.action === "update" && plan.vendorRef !== undefined) {
    const current = await session.get(kind, plan.vendorRef, input.signal);
    if (current === undefined) {
      // Deleted behind our back (drift), or recreated under another id: adopt a copy carrying our
      // marker if there is one, else create.
      return createOrAdopt(input, true);
    }
    input.landed(plan.vendorRef);
    // A retried write whose object already matches (and is in its place): record without sending
    // (an old-form marker differs on the marker, so it is rewritten).
    const moving = renumbers(input, plan.vendorRef);
    if (plan.verifyFirst && !moving && current.marker === request.marker && noDifference(input, current)) {
      return applied(input, "verified", plan.vendorRef);
    }
    const vendorRef = await update(input, plan.vendorRef);
    return applied(input, "updated", vendorRef);
  }
  return createOrAdopt(input, plan.verifyFirst);
}

async function createOrAdopt(input: ConvergeInput, lookFirst: boolean): Promise<RuleOutcome> {
  const { session, kind, request } = input;
  const existing: ObservedObject | undefined = lookFirst
    ? await session.findByMarker(kind, input.adoptable, input.signal)
    : undefined;
  if (existing) {
    input.landed(existing.vendorRef);
    const moving = renumbers(input, existing.vendorRef);
    if (!moving && existing.marker === request.marker && noDifference(input, existing)) {
      return applied(input, "adopted", existing.vendorRef);
    }
    const vendorRef = await update(input, existing.vendorRef);
    return applied(input, "adopted", vendorRef);
  }
  const { vendorRef } = await session.create(kind, request, input.signal);
  input.landed(vendorRef);
  return applied(input, "created", vendorRef);
}

/** Updates the object; returns (and reports) where it is afterwards (renumbered, or renamed). */
async function update(input: ConvergeInput, vendorRef: string): Promise<string> {
  const updated = await input.session.update(input.kind, vendorRef, input.request, input.signal);
  const after = updated?.vendorRef ?? vendorRef;
  input.landed(after);
  return after;
}

/** Whether an update would move the object to another number (VyOS: the number is its place). */
function renumbers(input: ConvergeInput, vendorRef: string): boolean {
  const target = input.session.updatedVendorRef?.(input.kind, input.request);
  return target !== undefined && target !== vendorRef;
}

function noDifference(input: ConvergeInput, object: ObservedObject): boolean {
  return input.session.differences(input.kind, input.request, object).length === 0;
}

function applied(
  input: ConvergeInput,
  action: "created" | "adopted" | "updated" | "verified",
  vendorRef: string,
): RuleOutcome {
  const ruleNumber = input.request.ruleNumber;
  return {
    type: "applied",
    action,
    vendorRef,
    opHash: input.plan.opHash,
    ...(ruleNumber !== undefined ? { ruleNumber } : {}),
  };
}

/** An appliance error, whatever was thrown. */
export function asVnfError(error: unknown): VnfError {
  if (error instanceof VnfError) return error;
  return new VnfError("BROKER_INTERNAL", error instanceof Error ? error.message : String(error));
}
