// A VnfDevice is not deleted while rules with deletionPolicy Delete still reference it: their appliance
// objects can only be removed through it (like Kubernetes' pvc-protection). Every device carries the
// finalizer; once the device is being deleted, the finalizer goes as soon as no such rule is left. A
// namespace deletion (or an Argo CD app deleted with its devices and rules) therefore cleans the
// appliance first: the device keeps its session, the rules delete their objects, then the device goes.
// Rules with deletionPolicy Orphan do not hold the device: their objects are left on the appliance
// anyway (and, their device gone, no installation ever takes them for its own).
//
// Runbook: device not deleting → make sure it has the finalizer; deleting → release it when no
// Delete-policy rule (still holding the rule finalizer) references the device, else say which rules
// it waits for (an Event) and wait: each rule's deletion re-queues its device.
import { GROUP } from "../api/group.ts";
import type { VnfDevice, VnfRule } from "../api/types.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../runtime/kube.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { ObjectKey, ResourceType } from "../runtime/resource.ts";

export const DEVICE_FINALIZER = `${GROUP}/rules-first`;

export interface DeviceProtectionFacts {
  deleting: boolean;
  hasFinalizer: boolean;
  /** Rules of this device with deletionPolicy Delete that still hold the rule finalizer (namespace/name). */
  holdingRules: string[];
}

export type DeviceProtectionPlan =
  | { step: "none" }
  | { step: "addFinalizer" }
  | { step: "release" }
  | { step: "wait"; rules: string[] };

export function planDeviceProtection(facts: DeviceProtectionFacts): DeviceProtectionPlan {
  if (!facts.deleting) return facts.hasFinalizer ? { step: "none" } : { step: "addFinalizer" };
  if (!facts.hasFinalizer) return { step: "none" };
  if (facts.holdingRules.length === 0) return { step: "release" };
  return { step: "wait", rules: facts.holdingRules };
}

export interface DeviceProtectionDeps {
  resource: ResourceType;
  devices: ObjectCache<VnfDevice>;
  rules: Array<{ kind: string; informer: ObjectCache<VnfRule> }>;
  /** The finalizer rules hold while their appliance object may exist. */
  ruleFinalizer: string;
  http: KubeRequester;
  events: EventSink;
}

/** At most this many rule names in the Event. */
const NAMED = 10;

export function deviceProtectionReconciler(deps: DeviceProtectionDeps) {
  return async (key: ObjectKey, _ctx: ReconcileContext): Promise<ReconcileResult | undefined> => {
    const device = deps.devices.get(key.namespace, key.name);
    if (!device) return undefined;
    const deleting = device.metadata.deletionTimestamp !== undefined;
    const finalized = hasFinalizer(device, DEVICE_FINALIZER);
    const plan = planDeviceProtection({
      deleting,
      hasFinalizer: finalized,
      // Only a device being deleted waits for rules. The scan is O(rules) and every rule event
      // re-queues the device: done always, it was a fifth of the operator's CPU while 1,000 rules
      // converged (a CPU profile of the scale bench).
      holdingRules: deleting && finalized ? holdingRules(deps, key) : [],
    });
    const ref = { resource: deps.resource, namespace: key.namespace, name: key.name };
    switch (plan.step) {
      case "none":
        return undefined;
      case "addFinalizer":
        await addFinalizer(deps.http, ref, device, DEVICE_FINALIZER);
        return undefined;
      case "release":
        await removeFinalizer(deps.http, ref, device, DEVICE_FINALIZER);
        return undefined;
      case "wait": {
        const named = plan.rules.slice(0, NAMED).join(", ");
        const more = plan.rules.length > NAMED ? ` and ${plan.rules.length - NAMED} more` : "";
        deps.events.warning(
          device,
          "DeletionWaitsForRules",
          "Delete",
          `${plan.rules.length} rule(s) with deletionPolicy Delete still reference this device: ${named}${more}. Their appliance objects are removed through it: delete those rules (or set their deletionPolicy to Orphan) and the device goes`,
        );
        return undefined; // each rule's deletion re-queues the device
      }
    }
  };
}

function holdingRules(deps: DeviceProtectionDeps, device: ObjectKey): string[] {
  const out: string[] = [];
  for (const { kind, informer } of deps.rules) {
    for (const rule of informer.list(device.namespace)) {
      if (rule.spec.deviceRef.name !== device.name) continue;
      if ((rule.spec.deletionPolicy ?? "Delete") !== "Delete") continue;
      if (!hasFinalizer(rule, deps.ruleFinalizer)) continue;
      out.push(`${kind} ${rule.metadata.name}`);
    }
  }
  return out.sort();
}
