// What the rule controller reads of a rule's device, as facts for the plan (rule-plan.ts): missing,
// suspended, Stalled (a person must act on it), not Ready, or Ready with a usable session; and since
// when it has been healthy (a Stalled rule is tried again at once when its device recovers).
import { ConditionType, getCondition, isTrue } from "../api/conditions.ts";
import type { VnfDevice } from "../api/types.ts";
import type { ObjectKey } from "../runtime/resource.ts";
import type { DeviceSession } from "./ports.ts";
import type { DeviceFacts } from "./rule-plan.ts";

export function factsOfDevice(
  device: VnfDevice | undefined,
  session: DeviceSession | undefined,
  ruleDeleting = false,
): DeviceFacts {
  if (!device) return { state: "missing" };
  const epoch = session?.epoch ?? `${device.metadata.generation ?? 0}`;
  // A device being deleted waits for its rules' cleanup (device-protection.ts): deleting rules still
  // go through it; nothing new is written.
  if (device.metadata.deletionTimestamp && !ruleDeleting) {
    return {
      state: "notReady",
      epoch,
      reason: "DeviceDeleting",
      message:
        "the VnfDevice is being deleted; it waits for the rules with deletionPolicy Delete to be deleted first",
    };
  }
  if (device.spec.suspend) return { state: "suspended", epoch };
  const stalled = getCondition(device.status?.conditions, ConditionType.Stalled);
  if (!session && isTrue(device.status?.conditions, ConditionType.Stalled, device.metadata.generation)) {
    return { state: "stalled", epoch, reason: stalled?.reason ?? "Stalled", message: stalled?.message ?? "" };
  }
  const ready = isTrue(device.status?.conditions, ConditionType.Ready, device.metadata.generation);
  if (!ready || !session) {
    const condition = getCondition(device.status?.conditions, ConditionType.Ready);
    return {
      state: "notReady",
      epoch,
      reason: condition?.reason ?? "Pending",
      message: !session && ready ? "connecting to the appliance" : (condition?.message ?? "not checked yet"),
    };
  }
  return { state: "ready", epoch };
}

/** Whether the device's status says Ready (its session may still be rebuilt after a restart). */
export function deviceReadyByStatus(device: VnfDevice): boolean {
  return (
    !device.spec.suspend && isTrue(device.status?.conditions, ConditionType.Ready, device.metadata.generation)
  );
}

/** When the device last became healthy (its Ready=True transition), if it is healthy. */
export function recoveredAt(device: VnfDevice | undefined): Date | undefined {
  const ready = getCondition(device?.status?.conditions, ConditionType.Ready);
  if (ready?.status !== "True" || !ready.lastTransitionTime) return undefined;
  return new Date(ready.lastTransitionTime);
}

export function deviceKey(device: VnfDevice): ObjectKey {
  return { namespace: device.metadata.namespace ?? "", name: device.metadata.name ?? "" };
}
