// Which informer events call for a reconcile (controller-runtime's predicates). Reconcilers are
// level-triggered and re-read everything, so a filter only saves work — but the work it saves is real:
// re-queueing on the operator's own status writes would run the next reconcile at once, defeating the
// per-key backoff and an appliance's Retry-After, and for a device, calling its health check after each
// of its own status writes (several a second while it activates).
import { ConditionType, getCondition } from "../api/conditions.ts";
import type { VnfDevice, VnfRule } from "../api/types.ts";
import type { KubeObject } from "../runtime/resource.ts";
import { deepEqual } from "../runtime/status-writer.ts";

export interface ObjectEvent<T extends KubeObject> {
  type: "add" | "update" | "delete";
  obj: T;
  oldObj?: T;
}

/**
 * Everything counts except an update that only changed the status (the operator's own writes: intent,
 * outcome, "retrying", health, the drift record): the spec (generation), deletion, finalizers, labels
 * and annotations (a user's nudge) do, and so does a resync (an unchanged object delivered again).
 */
export function ownEventNeedsReconcile<T extends KubeObject>(event: ObjectEvent<T>): boolean {
  const { obj, oldObj } = event;
  if (event.type !== "update" || oldObj === undefined) return true;
  const a = oldObj.metadata ?? {};
  const b = obj.metadata ?? {};
  if (a.resourceVersion === b.resourceVersion) return true; // resync
  if (a.generation !== b.generation || a.deletionTimestamp !== b.deletionTimestamp) return true;
  if (!deepEqual(a.finalizers, b.finalizers)) return true;
  return !deepEqual(a.labels, b.labels) || !deepEqual(a.annotations, b.annotations);
}

export type RuleEvent = ObjectEvent<VnfRule>;
export type DeviceEvent = ObjectEvent<VnfDevice>;

/** A rule's own events; the drift controller re-queues the rules it asks to repair itself. */
export const ruleEventNeedsReconcile: (event: RuleEvent) => boolean = ownEventNeedsReconcile;

/**
 * A device's own events, for the device controller: its health check runs on its interval or when what
 * the session is built from changes (spec, Secrets), never because of its own status writes or the
 * drift controller's.
 */
export const deviceEventNeedsReconcile: (event: DeviceEvent) => boolean = ownEventNeedsReconcile;

/**
 * A device event concerns its rules' order only when its spec changed (spec.ruleOrder) or it appeared:
 * rule writes, a session becoming ready and drift checks ask for an order step themselves, so an
 * annotation, a resync or a status write never costs a list of the appliance.
 */
export function deviceEventAffectsOrder(event: DeviceEvent): boolean {
  const { obj, oldObj } = event;
  if (event.type !== "update" || oldObj === undefined) return event.type === "add";
  return oldObj.metadata.generation !== obj.metadata.generation;
}

/**
 * A Secret event concerns its devices when the Secret appeared, went away or changed: a resync (the
 * same resourceVersion delivered again) does not.
 */
export function secretEventNeedsReconcile(event: ObjectEvent<KubeObject>): boolean {
  if (event.type !== "update" || event.oldObj === undefined) return true;
  return event.oldObj.metadata?.resourceVersion !== event.obj.metadata?.resourceVersion;
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
