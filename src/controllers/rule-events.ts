// Which rule events call for a reconcile. Everything does, except an update that only changed the
// status — the operator's own status writes (intent, outcome, "retrying", the drift record). Re-queueing
// on those would run the next reconcile at once, defeating the per-rule backoff and an appliance's
// Retry-After (controller-runtime's GenerationChangedPredicate, for the same reason). A resync (an
// unchanged object delivered again) still counts; the drift controller re-queues the rules it asks to
// repair itself.
import { ConditionType, getCondition } from "../api/conditions.ts";
import type { VnfDevice, VnfRule } from "../api/types.ts";
import { deepEqual } from "../runtime/status-writer.ts";

export interface RuleEvent {
  type: "add" | "update" | "delete";
  obj: VnfRule;
  oldObj?: VnfRule;
}

export function ruleEventNeedsReconcile(event: RuleEvent): boolean {
  const { obj, oldObj } = event;
  if (event.type !== "update" || oldObj === undefined) return true;
  const a = oldObj.metadata;
  const b = obj.metadata;
  if (a.resourceVersion === b.resourceVersion) return true; // resync
  if (a.generation !== b.generation || a.deletionTimestamp !== b.deletionTimestamp) return true;
  if (!deepEqual(a.finalizers, b.finalizers)) return true;
  return !deepEqual(a.labels, b.labels) || !deepEqual(a.annotations, b.annotations);
}

export interface DeviceEvent {
  type: "add" | "update" | "delete";
  obj: VnfDevice;
  oldObj?: VnfDevice;
}

/**
 * Whether a device event concerns its rules: what a rule reads of its device is the spec (suspend,
 * dictionary…), deletion and the Ready condition. Counters and timestamps in the device's status
 * (managedRules, lastHealthCheckTime, unmanagedObjects…) do not: re-queueing every rule of the device
 * for them would cost a reconcile per rule and retry a rule waiting out a Retry-After early. A new
 * session (rotated credentials) re-queues the rules through the device controller's onSessionReady.
 */
export function deviceEventAffectsRules(event: DeviceEvent): boolean {
  const { obj, oldObj } = event;
  if (event.type !== "update" || oldObj === undefined) return true;
  const a = oldObj.metadata;
  const b = obj.metadata;
  if (a.resourceVersion === b.resourceVersion) return true; // resync
  if (a.generation !== b.generation || a.deletionTimestamp !== b.deletionTimestamp) return true;
  const ready = (device: VnfDevice) => {
    const c = getCondition(device.status?.conditions, ConditionType.Ready);
    return c && { status: c.status, reason: c.reason, message: c.message, generation: c.observedGeneration };
  };
  return !deepEqual(ready(oldObj), ready(obj));
}
