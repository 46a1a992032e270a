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
  /**
   * Whether a Stalled rule may be tried again now (its backoff is over, or its device recovered since
   * the last attempt), else the wait left. Absent: due.
   */
  stallRetry?: { due: true } | { due: false; inMs: number };
  device: DeviceFacts;
  /** For a missing device: how much of the grace period after the rule's creation is left (ms). */
  deviceGraceLeftMs?: number;
  /** spec.deviceRef and the rule's namespace, for messages. */
  deviceRef?: { namespace: string; name: string };
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
  /** Stalled for its current generation: a person must act on the device (its condition says what). */
  | { state: "stalled"; epoch: string; reason: string; message: string }
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
      reason: "DeviceNotFound" | "DeviceNotReady";
      message: string;
      /** Look again after this long (the end of a grace period); absent: the device's next change. */
      retryInMs?: number;
    }
  /** The device is missing past the grace period, or Stalled: Stalled until that changes. */
  | { step: "blockedByDevice"; reason: "DeviceNotFound" | "DeviceStalled"; message: string }
  /** The device is suspended: nothing is sent, the rule is Suspended (deleting: waits for resume). */
  | { step: "suspend"; message: string }
  | { step: "stallInvalid"; message: string }
  /**
   * The appliance already holds the desired request: no appliance call. `recordGeneration` when only
   * observedGeneration is behind (a spec change that renders the same request, e.g. deletionPolicy);
   * otherwise no status write either.
   */
  | { step: "inSync"; recordGeneration: boolean }
  /**
   * Stalled on exactly these inputs before, and not due for another attempt: look again after `inMs`
   * (or at once when the spec or the device changes).
   */
  | { step: "stayStalled"; inMs: number }
  /**
   * Converge the appliance. `verifyFirst` (see mayHoldUnrecordedObject) means the appliance may hold
   * an object of this rule that the status does not record: look before writing — find it by marker
   * and adopt it instead of creating; get and compare before updating.
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

/**
 * The exactly-once invariant, stated once: may the appliance hold an object of this rule that the
 * status does not record? Every create is preceded by its intent (status.pendingOperation, written
 * with the resourceVersion the decision was made on), and only the write that records its outcome
 * (vendorRef, opHash) removes the intent. So the appliance can hold an unrecorded object of the rule
 * only if:
 *   - an intent is pending, whatever its opHash or operation: its call may have landed and its
 *     outcome not been recorded (a crash, an answer lost after the commit, a failed activation, a
 *     status write that failed) — and the spec may have changed since;
 *   - the status once recorded an applied request but lost its vendorRef (edited or restored by hand).
 * When this holds, the rule controller looks before it writes (planRule's `verifyFirst`); when it does
 * not, no earlier create of this rule can have reached the appliance, and creating is safe.
 * docs/design.md ("At most one appliance object per rule") has the whole argument.
 */
export function mayHoldUnrecordedObject(
  facts: Pick<RuleFacts, "pendingOperation" | "vendorRef" | "appliedOpHash">,
): boolean {
  if (facts.pendingOperation !== undefined) return true;
  return facts.vendorRef === undefined && facts.appliedOpHash !== undefined;
}

export function planRule(facts: RuleFacts): RulePlan {
  if (facts.deleting) return planDeletion(facts);

  if (!facts.hasFinalizer) return { step: "addFinalizer" };

  const device = facts.device;
  if (device.state === "missing") {
    const left = facts.deviceGraceLeftMs ?? 0;
    if (left > 0) {
      return {
        step: "waitForDevice",
        reason: "DeviceNotFound",
        message: `${deviceName(facts)} does not exist (yet): waiting up to ${Math.ceil(left / 1000)} s more for it, then Stalled`,
        retryInMs: left,
      };
    }
    return { step: "blockedByDevice", reason: "DeviceNotFound", message: missingDevice(facts) };
  }
  if (device.state === "suspended") {
    return { step: "suspend", message: SUSPENDED_DEVICE };
  }
  if (device.state === "stalled") {
    return {
      step: "blockedByDevice",
      reason: "DeviceStalled",
      message: `${stalledDevice(facts, device)}; this rule resumes by itself when the device is Ready`,
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
    facts.stalledOn.deviceEpoch === device.epoch &&
    facts.stallRetry?.due === false
  ) {
    return { step: "stayStalled", inMs: facts.stallRetry.inMs };
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

  const verifyFirst = mayHoldUnrecordedObject(facts);
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
  const what = orphan ? "disowned (deletionPolicy Orphan)" : "deleted";
  if (facts.device.state === "suspended") {
    return {
      step: "suspend",
      message: `${SUSPENDED_DEVICE}; the appliance object is ${what} when it resumes`,
    };
  }
  if (facts.device.state === "stalled") {
    return {
      step: "blockedByDevice",
      reason: "DeviceStalled",
      message: `deletion blocked: ${stalledDevice(facts, facts.device)}; the appliance object is ${what} as soon as the device is Ready (to give up on it instead, remove the finalizer vnf-operator.io/cleanup)`,
    };
  }
  if (facts.device.state !== "ready") {
    return {
      step: "waitForDevice",
      reason: "DeviceNotReady",
      message: `the VnfDevice is not Ready (${facts.device.reason}); ${orphan ? `the appliance object is ${what}` : "deletion completes"} when it recovers`,
    };
  }
  const step = orphan ? "disownOnAppliance" : "deleteOnAppliance";
  return facts.vendorRef === undefined ? { step } : { step, vendorRef: facts.vendorRef };
}

const SUSPENDED_DEVICE = "the VnfDevice is suspended (spec.suspend): nothing is sent to the appliance";

function deviceName(facts: RuleFacts): string {
  return facts.deviceRef ? `VnfDevice ${facts.deviceRef.name}` : "the referenced VnfDevice";
}

function missingDevice(facts: RuleFacts): string {
  const where = facts.deviceRef ? ` in namespace ${facts.deviceRef.namespace}` : "";
  return `${deviceName(facts)} does not exist${where}: create it, or delete this rule and create it again with the right device (spec.deviceRef is immutable)`;
}

function stalledDevice(facts: RuleFacts, device: { reason: string; message: string }): string {
  return `${deviceName(facts)} is Stalled (${device.reason}: ${device.message})`;
}
