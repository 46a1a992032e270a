// A deleted rule's appliance object, by its deletionPolicy: Delete removes it (intent first, like any
// write), Orphan leaves it in place with its marker rewritten to the disowned form (nobody's now,
// markers.ts). Either way the finalizer goes last: until then the rule still answers for the object.
import type { PendingOperation, VnfRule } from "../api/types.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import { removeFinalizer } from "../runtime/kube.ts";
import { disownedMarker } from "./markers.ts";
import type { DeviceSession, RuleRequest } from "./ports.ts";
import { writeThenActivate } from "./rule-activation.ts";
import { FINALIZER, failureDeps, type RuleRuntime, refOf } from "./rule-deps.ts";
import { routineEvent } from "./rule-events.ts";
import { ruleFailure, stallKey } from "./rule-failure.ts";
import { writeIntent } from "./rule-journal.ts";
import type { RulePlan } from "./rule-plan.ts";
import { withIntent } from "./rule-status.ts";

/** deletionPolicy Delete: intent, delete (found by marker when no vendorRef), activate, finalizer. */
export async function deleteOnAppliance(
  deps: RuleRuntime,
  ctx: ReconcileContext,
  rule: VnfRule,
  plan: Extract<RulePlan, { step: "deleteOnAppliance" }>,
  session: DeviceSession,
  request: RuleRequest | undefined,
  /** The markers its object may carry: read only when the vendorRef is not known. */
  adoptable: () => readonly string[],
): Promise<ReconcileResult | undefined> {
  const generation = rule.metadata.generation ?? 0;
  const kind = deps.kind.kind;
  const now = deps.now;
  const signal = ctx.signal;
  const intent: PendingOperation = {
    operation: "delete",
    opHash: rule.status?.opHash ?? rule.status?.pendingOperation?.opHash ?? "unknown",
    startedAt: rule.status?.pendingOperation?.startedAt ?? new Date(now()).toISOString(),
    attempt:
      (rule.status?.pendingOperation?.operation === "delete" ? rule.status.pendingOperation.attempt : 0) + 1,
    deviceEpoch: session.epoch,
    ...(plan.vendorRef ? { vendorRef: plan.vendorRef } : {}),
  };
  const written = await writeIntent(
    deps.journal,
    rule,
    withIntent(rule.status, generation, intent, now()),
    signal,
  );
  try {
    const vendorRef = plan.vendorRef ?? (await session.findByMarker(kind, adoptable(), signal))?.vendorRef;
    // An earlier attempt may have deleted the object and died before activating it: activate
    // then too, even with nothing left to delete (else the deletion stays staged for good).
    const earlierAttempt = rule.status?.pendingOperation?.operation === "delete";
    if (vendorRef === undefined && earlierAttempt) await session.activate(signal);
    if (vendorRef !== undefined) {
      await writeThenActivate(
        session,
        () => session.delete(kind, vendorRef, signal, request),
        () => undefined,
        signal,
      );
      routineEvent(deps, rule, "RulesDeleted", "Delete", "deleted from the appliance");
    }
  } catch (error) {
    return ruleFailure(failureDeps(deps), ctx, written, error, generation, "delete");
  }
  deps.stalls.clear(stallKey(rule));
  await removeFinalizer(deps.http, refOf(deps, written), written, FINALIZER, { signal });
  deps.renumbers?.done(rule.metadata.uid ?? "");
  deps.onWritten?.({ namespace: rule.metadata.namespace ?? "", name: rule.spec.deviceRef.name }, kind);
  return undefined;
}

/** deletionPolicy Orphan: the object stays, its marker rewritten to the disowned form; then the finalizer. */
export async function disownOnAppliance(
  deps: RuleRuntime,
  ctx: ReconcileContext,
  rule: VnfRule,
  plan: Extract<RulePlan, { step: "disownOnAppliance" }>,
  session: DeviceSession,
  request: RuleRequest,
  adoptable: () => readonly string[],
): Promise<ReconcileResult | undefined> {
  const kind = deps.kind.kind;
  const signal = ctx.signal;
  const disowned = disownedMarker(rule.metadata.uid ?? "");
  let vendorRef: string | undefined;
  try {
    vendorRef = plan.vendorRef ?? (await session.findByMarker(kind, adoptable(), signal))?.vendorRef;
    if (vendorRef !== undefined) {
      // The object as it is, with only the marker rewritten: it stays, but no longer ours.
      await session.update(kind, vendorRef, { ...request, marker: disowned }, signal);
    }
    // Also when nothing was found: an earlier attempt may have disowned it and died before this.
    await session.activate(signal);
  } catch (error) {
    // Gone, or already disowned by an earlier attempt (a marker-addressed object is no longer found).
    if (signal.aborted || !(error instanceof VnfError && error.notFound)) {
      return ruleFailure(failureDeps(deps), ctx, rule, error, rule.metadata.generation ?? 0, "disown");
    }
  }
  deps.events.normal(
    rule,
    "Orphaned",
    "Delete",
    vendorRef === undefined
      ? "deletionPolicy Orphan: no appliance object found to leave behind"
      : `deletionPolicy Orphan: the appliance object (vendorRef ${vendorRef}) is left in place, disowned (marker ${disowned})`,
  );
  await removeFinalizer(deps.http, refOf(deps, rule), rule, FINALIZER, { signal });
  return undefined;
}
