// The rule controller's runbook as a pure function: given what we know about a rule, its device and
// the desired request's opHash, decide the next step. No I/O here, so every branch is table-tested;
// the reconciler performs the step and writes the outcome.
//
// Level-triggered: the decision never depends on why the reconcile ran, only on the facts.

export type DeletionPolicy = "Delete" | "Orphan";

export interface PendingOperationFact {
  operation: "create" | "update" | "delete";
  opHash: string;
}

export interface RuleFacts {
  generation: number;
  deleting: boolean;
  hasFinalizer: boolean;
  deletionPolicy: DeletionPolicy;
  observedGeneration?: number;
  /** The opHash of the request last applied successfully. */
  appliedOpHash?: string;
  vendorRef?: string;
  /** The write-ahead intent left by a reconcile that may have crashed after the appliance call. */
  pendingOperation?: PendingOperationFact;
  /** Set while the rule is Stalled: the (generation, opHash, device epoch) it stalled on. */
  stalledOn?: { generation: number; opHash?: string; deviceEpoch?: string };
  device: DeviceFacts;
  /**
   * The drift controller found the appliance object differing from the applied request (and, when
   * it was found under another id, that id): converge again although the journal says applied.
   */
  repair?: { vendorRef?: string };
  /** The opHash of the desired request, or the reason it could not be rendered. */
  desired: { opHash: string } | { renderError: string };
}

/**
 * `epoch` identifies what the device's session was built from (its spec generation and credentials
 * version): a change is what may unstick a Stalled rule.
 */
export type DeviceFacts =
  | { state: "missing" }
  | { state: "notReady"; epoch: string; reason: string; message: string }
  | { state: "suspended"; epoch: string }
  | { state: "ready"; epoch: string };

export type RulePlan =
  /** Deletion with nothing of ours left to clean up. */
  | { step: "done" }
  | { step: "addFinalizer" }
  | { step: "releaseFinalizer"; why: "orphaned" | "deviceMissing" | "deleted" }
  /** Delete the appliance object (by vendorRef, else by ownership marker), activate, release. */
  | { step: "deleteOnAppliance"; vendorRef?: string }
  /**
   * deletionPolicy Orphan: leave the appliance object, but rewrite its ownership marker to the
   * disowned form (by vendorRef, else by marker), activate, release. Without this, a drift check
   * would take the object for an orphan of ours (marker, no resource) and delete it.
   */
  | { step: "disownOnAppliance"; vendorRef?: string }
  | {
      step: "waitForDevice";
      reason: "DeviceNotFound" | "DeviceNotReady" | "DeviceSuspended";
      message: string;
    }
  | { step: "stallInvalid"; message: string }
  /**
   * The appliance already holds the desired request: no appliance call. `recordGeneration` when only
   * observedGeneration is behind (a spec change that renders the same request, e.g. deletionPolicy);
   * otherwise no status write either.
   */
  | { step: "inSync"; recordGeneration: boolean }
  /** Stalled on exactly these inputs before: do not retry until the spec or the device changes. */
  | { step: "stayStalled" }
  /**
   * Converge the appliance. `create` first looks for an object carrying our marker (adoption), so a
   * crash between the appliance write and the status write never yields a duplicate. `verifyFirst`
   * means a previous attempt with the same opHash may already have reached the appliance: compare
   * before sending again.
   */
  | {
      step: "apply";
      action: "create" | "update";
      opHash: string;
      vendorRef?: string;
      verifyFirst: boolean;
      /** A drift repair (for the Events and the repair counter). */
      repair?: true;
    };

export function planRule(facts: RuleFacts): RulePlan {
  if (facts.deleting) return planDeletion(facts);

  if (!facts.hasFinalizer) return { step: "addFinalizer" };

  const device = facts.device;
  if (device.state === "missing") {
    return {
      step: "waitForDevice",
      reason: "DeviceNotFound",
      message: "the referenced VnfDevice does not exist",
    };
  }
  if (device.state === "suspended") {
    return {
      step: "waitForDevice",
      reason: "DeviceSuspended",
      message: "the VnfDevice is suspended (spec.suspend)",
    };
  }
  if (device.state === "notReady") {
    return {
      step: "waitForDevice",
      reason: "DeviceNotReady",
      message: `the VnfDevice is not Ready (${device.reason}: ${device.message})`,
    };
  }

  if ("renderError" in facts.desired) return { step: "stallInvalid", message: facts.desired.renderError };
  const opHash = facts.desired.opHash;

  if (
    facts.stalledOn &&
    facts.stalledOn.generation === facts.generation &&
    facts.stalledOn.opHash === opHash &&
    facts.stalledOn.deviceEpoch === device.epoch
  ) {
    return { step: "stayStalled" };
  }

  const applianceInSync =
    facts.appliedOpHash === opHash && facts.vendorRef !== undefined && facts.pendingOperation === undefined;
  if (applianceInSync && facts.repair) {
    // Written again in full, never compared first: the drift check just saw it differ.
    const vendorRef = facts.repair.vendorRef ?? facts.vendorRef;
    return { step: "apply", action: "update", opHash, vendorRef, verifyFirst: false, repair: true };
  }
  if (applianceInSync)
    return { step: "inSync", recordGeneration: facts.observedGeneration !== facts.generation };

  // A pending intent with this very opHash means the last attempt may have reached the appliance.
  const verifyFirst = facts.pendingOperation?.opHash === opHash;
  // Whatever converges the rule now also completes a requested repair.
  const repair = facts.repair ? ({ repair: true } as const) : {};
  const vendorRef = facts.repair?.vendorRef ?? facts.vendorRef;
  if (vendorRef === undefined) return { step: "apply", action: "create", opHash, verifyFirst, ...repair };
  return { step: "apply", action: "update", opHash, vendorRef, verifyFirst, ...repair };
}

function planDeletion(facts: RuleFacts): RulePlan {
  if (!facts.hasFinalizer) return { step: "done" };
  const orphan = facts.deletionPolicy === "Orphan";
  // Without its device there is no appliance to clean up: let the resource go, with a warning.
  if (facts.device.state === "missing") return { step: "releaseFinalizer", why: "deviceMissing" };
  // Nothing was ever created and nothing may have been: no appliance call needed.
  if (
    facts.vendorRef === undefined &&
    facts.pendingOperation === undefined &&
    facts.appliedOpHash === undefined
  ) {
    return { step: "releaseFinalizer", why: orphan ? "orphaned" : "deleted" };
  }
  if (facts.device.state !== "ready") {
    const what = orphan ? "disowned (deletionPolicy Orphan)" : "deleted";
    const message =
      facts.device.state === "suspended"
        ? `the VnfDevice is suspended; the appliance object is ${what} when it resumes`
        : `the VnfDevice is not Ready (${facts.device.reason}); ${orphan ? `the appliance object is ${what}` : "deletion completes"} when it recovers`;
    return {
      step: "waitForDevice",
      reason: facts.device.state === "suspended" ? "DeviceSuspended" : "DeviceNotReady",
      message,
    };
  }
  const step = orphan ? "disownOnAppliance" : "deleteOnAppliance";
  return facts.vendorRef === undefined ? { step } : { step, vendorRef: facts.vendorRef };
}
