// The VnfFirewallRule / VnfNatRule reconciler: read the rule and its device, decide (rule-plan.ts),
// perform the one step, record the outcome (rule-status.ts) in one status write. Reads like the runbook
// a network engineer would follow:
//   1. finalizer first, so cleanup is always possible;
//   2. wait for a Ready device;
//   3. render the desired request; if the appliance already holds it, stop here;
//   4. write the intent, then create (adopting our own object if a crash left one) or update;
//   5. activate (apply/commit, coalesced per device);
//   6. record vendorRef, opHash and Ready.
import { ConditionType, getCondition } from "../api/conditions.ts";
import { GROUP } from "../api/group.ts";
import type { PendingOperation, VnfDevice, VnfRule } from "../api/types.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../runtime/kube.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { ObjectKey, ResourceType } from "../runtime/resource.ts";
import { StatusWriter } from "../runtime/status-writer.ts";
import { adoptableMarkers, disownedMarker, type MarkerOwner, ruleMarker } from "./markers.ts";
import type { RenumberRequests } from "./order-step.ts";
import type { ActivationMember, DeviceSession, RuleKind, RuleRequest, SessionLookup } from "./ports.ts";
import type { RepairRequests } from "./repair-requests.ts";
import { batchMember, writeThenActivate } from "./rule-activation.ts";
import {
  ADOPTION_RECHECK_MS,
  type AdoptionDecision,
  adoptedRuleNumber,
  adoptInPlace,
  adoptionTarget,
  decideAdoption,
} from "./rule-adopt.ts";
import { converge } from "./rule-converge.ts";
import { deviceKey, deviceReadyByStatus, factsOfDevice, recoveredAt } from "./rule-device-facts.ts";
import { type FailureDeps, ruleFailure, stallKey } from "./rule-failure.ts";
import { type Journal, recordOutcome, writeIntent } from "./rule-journal.ts";
import { RuleNumberReservations } from "./rule-numbers.ts";
import { createPosition, devicePeers, numberInPlace, numbersHeld, ScopeCache } from "./rule-order.ts";
import { planRule, type RulePlan } from "./rule-plan.ts";
import { type AppliedAction, nextRuleStatus, type RuleOutcome, withIntent } from "./rule-status.ts";
import {
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_STALLED_RETRY,
  graceLeft,
  StallBook,
  type StalledRetryPolicy,
} from "./stalled.ts";
import { FieldManager, RULE_CONTROLLER_STATUS } from "./status-ownership.ts";

export const FINALIZER = `${GROUP}/cleanup`;

export interface RuleKindInfo {
  kind: RuleKind;
  resource: ResourceType;
}

export interface RuleControllerDeps {
  kind: RuleKindInfo;
  rules: ObjectCache<VnfRule>;
  devices: ObjectCache<VnfDevice>;
  sessions: SessionLookup;
  http: KubeRequester;
  events: EventSink;
  /**
   * This operator installation's id: it keys the ownership markers (markers.ts), so that another
   * installation's objects on the same appliance are never taken for ours.
   */
  installationId: string;
  /** Repairs the drift controller asked for (absent: drift repair is not wired). */
  repairs?: RepairRequests;
  /** The longest wait before retrying, also for an appliance's Retry-After; default 60 s. */
  maxRetryDelayMs?: number;
  /** How long a rule waits for a missing VnfDevice after its creation before it is Stalled. */
  gracePeriodMs?: number;
  /** When a Stalled rule is tried again. */
  stalledRetry?: StalledRetryPolicy;
  /**
   * The appliance refused the device's credentials on a rule's call (after the session's renewal):
   * the device must check them again before its rules use the session (wiring: mark the session not
   * Ready, enqueue the device).
   */
  onCredentialsRefused?: (device: ObjectKey) => void;
  now?: () => Date;
  /** Called after a successful repair of drift (metrics). */
  onRepair?: (kind: RuleKind) => void;
  /** New numbers the order step asked for (appliances where a rule's number is its identity). */
  renumbers?: RenumberRequests;
  /** Rule numbers reserved by reconciles that have not recorded them yet (shared with the order step). */
  reservations?: RuleNumberReservations;
  /** Called after the rule was written to (or removed from) its device: the order step follows. */
  onWritten?: (device: ObjectKey, kind: RuleKind) => void;
}

/** What execute() works with besides the deps: the journal, the clock and the stall book. */
interface Runtime extends RuleControllerDeps {
  journal: Journal;
  now: () => Date;
  stalls: StallBook;
}

/** The per-rule reconcile function, for a runtime Controller. */
export function ruleReconciler(ruleDeps: RuleControllerDeps) {
  const deps: Runtime = {
    ...ruleDeps,
    now: ruleDeps.now ?? (() => new Date()),
    stalls: new StallBook(ruleDeps.stalledRetry ?? DEFAULT_STALLED_RETRY),
    journal: {
      http: ruleDeps.http,
      resource: ruleDeps.kind.resource,
      status: new StatusWriter<VnfRule>({
        client: ruleDeps.http,
        resource: ruleDeps.kind.resource,
        fieldManager: FieldManager.rule,
        owns: RULE_CONTROLLER_STATUS,
      }),
    },
  };
  const now = deps.now;
  const reservations = ruleDeps.reservations ?? new RuleNumberReservations();
  const scopes = new ScopeCache();
  return async (key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | undefined> => {
    const rule = deps.rules.get(key.namespace, key.name);
    if (!rule) {
      deps.stalls.clear(`${key.namespace}/${key.name}`);
      return undefined; // gone: the finalizer already did its work
    }
    const generation = rule.metadata.generation ?? 0;
    const device = deps.devices.get(key.namespace, rule.spec.deviceRef.name);
    const session = device ? deps.sessions.get(deviceKey(device)) : undefined;
    const deviceFacts = factsOfDevice(device, session, rule.metadata.deletionTimestamp !== undefined);
    const owner = device ? markerOwner(deps, device) : undefined;
    let request = owner ? requestFor(rule, owner) : undefined;
    const scope = `${key.namespace}/${rule.spec.deviceRef.name}/${deps.kind.kind}`;
    // An adopted object keeps its number (VyOS: the number is its identity).
    const adoptedNumber = session?.ruleNumbers ? adoptedRuleNumber(rule, session.ruleNumbers) : undefined;
    if (request && adoptedNumber !== undefined && request.ruleNumber === undefined) {
      request = { ...request, ruleNumber: adoptedNumber };
    }
    const renumber = deps.renumbers?.pending(rule.metadata.uid ?? "");
    if (
      request &&
      renumber !== undefined &&
      request.ruleNumber !== undefined &&
      renumber !== request.ruleNumber
    ) {
      // The order step moves this rule to another number: an update that renumbers it, journaled.
      request = { ...request, ruleNumber: renumber };
    } else if (
      session?.ruleNumbers &&
      request &&
      request.ruleNumber === undefined &&
      !rule.metadata.deletionTimestamp
    ) {
      const peers = devicePeers(deps.rules.list(key.namespace), rule);
      const recorded = new Set([...numbersHeld(peers), ...(deps.renumbers?.numbers() ?? [])]);
      const preferred = numberInPlace(session, deps.kind.kind, rule, peers, recorded, scopes);
      const number = reservations.reserve(scope, request.marker, recorded, session.ruleNumbers, preferred);
      if (number === undefined) {
        const { min, max } = session.ruleNumbers;
        const message = `no free rule number left in ${min}-${max} on this device`;
        const retryInMs = deps.stalls.stalled(stallKey(rule), now());
        await recordOutcome(
          deps.journal,
          rule,
          (current) =>
            nextRuleStatus(
              current,
              generation,
              { type: "stalled", code: "VNF_CAPACITY", message, retryInMs },
              now(),
            ),
          ctx.signal,
        );
        return { requeueAfterMs: retryInMs };
      }
      request = { ...request, ruleNumber: number };
    } else if (request?.ruleNumber !== undefined) {
      reservations.release(scope, request.marker);
    }

    let desired: { opHash: string } | { renderError: string };
    if (session && request) {
      try {
        desired = { opHash: session.desiredOpHash(deps.kind.kind, request) };
      } catch (error) {
        desired = { renderError: errorMessage(error) };
      }
    } else {
      desired = { renderError: "no session" }; // only consulted when the device is ready
    }

    const status = rule.status ?? {};
    const stalled = getCondition(status.conditions, ConditionType.Stalled);
    if (rule.metadata.deletionTimestamp) deps.repairs?.done(rule.metadata.uid ?? "");
    const repair = deps.repairs?.pending(rule.metadata.uid ?? "", status.opHash);
    const plan = planRule({
      generation,
      deleting: rule.metadata.deletionTimestamp !== undefined,
      hasFinalizer: hasFinalizer(rule, FINALIZER),
      deletionPolicy: rule.spec.deletionPolicy ?? "Delete",
      observedGeneration: status.observedGeneration,
      appliedOpHash: status.opHash,
      vendorRef: status.vendorRef,
      pendingOperation: status.pendingOperation,
      stalledOn:
        stalled?.status === "True"
          ? {
              generation: stalled.observedGeneration ?? -1,
              opHash: status.pendingOperation?.opHash,
              deviceEpoch: status.pendingOperation?.deviceEpoch,
            }
          : undefined,
      stallRetry: deps.stalls.due(stallKey(rule), now(), recoveredAt(device)),
      device: deviceFacts,
      deviceGraceLeftMs: graceLeft(
        rule.metadata.creationTimestamp,
        now(),
        deps.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
      ),
      deviceRef: { namespace: key.namespace, name: rule.spec.deviceRef.name },
      ...(repair ? { repair: repair.vendorRef === undefined ? {} : { vendorRef: repair.vendorRef } } : {}),
      desired,
    });
    ctx.log.debug({ plan: plan.step }, "planned");
    if (plan.step === "apply" && session && (plan.action === "create" || plan.vendorRef === undefined)) {
      // A create goes next to its nearest neighbour already on the appliance, when the API allows.
      const peers = devicePeers(deps.rules.list(key.namespace), rule);
      const position = createPosition(session, deps.kind.kind, rule, peers, scopes);
      if (position && request) request = { ...request, position };
    }
    // Just after a restart the device's status still says Ready while its session is being rebuilt:
    // wait quietly (no status flap); the device controller re-queues its rules once connected.
    if (plan.step === "waitForDevice" && device && !session && deviceReadyByStatus(device)) {
      return { requeueAfterMs: 2000 };
    }
    return execute(deps, ctx, rule, plan, session, request);
  };
}

async function execute(
  deps: Runtime,
  ctx: ReconcileContext,
  rule: VnfRule,
  plan: RulePlan,
  session: DeviceSession | undefined,
  request: RuleRequest | undefined,
): Promise<ReconcileResult | undefined> {
  const generation = rule.metadata.generation ?? 0;
  const kind = deps.kind.kind;
  const now = deps.now;
  const signal = ctx.signal;
  const record = (outcome: RuleOutcome) =>
    recordOutcome(
      deps.journal,
      rule,
      (current) => nextRuleStatus(current, generation, outcome, now()),
      signal,
    );
  const adoptable = () =>
    adoptableMarkers(markerOwner(deps, requireDevice(deps, rule)), rule.metadata.uid ?? "");

  switch (plan.step) {
    case "done":
      return undefined;

    case "stayStalled":
      return { requeueAfterMs: plan.inMs };

    case "addFinalizer":
      await addFinalizer(deps.http, refOf(deps, rule), rule, FINALIZER, { signal });
      return undefined; // the update event brings us back with the finalizer in the cache

    case "waitForDevice": {
      const deleting = rule.metadata.deletionTimestamp !== undefined;
      deps.stalls.clear(stallKey(rule));
      await record(
        deleting
          ? { type: "deleting", reason: plan.reason, message: plan.message }
          : { type: "waiting", reason: plan.reason, message: plan.message },
      );
      // The device's next change re-queues its rules; a grace period's end is a deadline of our own.
      return plan.retryInMs === undefined ? undefined : { requeueAfterMs: plan.retryInMs };
    }

    case "blockedByDevice": {
      await record({ type: "blocked", reason: plan.reason, message: plan.message });
      return { requeueAfterMs: deps.stalls.stalled(stallKey(rule), now()) };
    }

    case "suspend": {
      deps.stalls.clear(stallKey(rule));
      await record({ type: "suspended", message: plan.message });
      return undefined; // resuming changes the device's spec, which re-queues its rules
    }

    case "stallInvalid": {
      const message = `cannot build the appliance request: ${plan.message}`;
      deps.events.warning(rule, "InvalidRequest", "Render", message);
      const retryInMs = deps.stalls.stalled(stallKey(rule), now());
      await record({ type: "stalled", code: "BROKER_INVALID_REQUEST", message, retryInMs });
      return { requeueAfterMs: retryInMs };
    }

    case "inSync":
      deps.stalls.clear(stallKey(rule));
      await record({ type: "inSync", recordGeneration: plan.recordGeneration });
      return undefined;

    case "apply": {
      // planRule requires a ready device
      if (!session || !request) throw new Error("apply planned without a session");
      return apply(deps, ctx, rule, plan, session, request, adoptable());
    }

    case "deleteOnAppliance": {
      if (!session) throw new Error("delete planned without a session");
      const intent: PendingOperation = {
        operation: "delete",
        opHash: rule.status?.opHash ?? rule.status?.pendingOperation?.opHash ?? "unknown",
        startedAt: rule.status?.pendingOperation?.startedAt ?? new Date(now()).toISOString(),
        attempt:
          (rule.status?.pendingOperation?.operation === "delete" ? rule.status.pendingOperation.attempt : 0) +
          1,
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
        const vendorRef =
          plan.vendorRef ?? (await session.findByMarker(kind, adoptable(), signal))?.vendorRef;
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

    case "disownOnAppliance": {
      if (!session || !request) throw new Error("disown planned without a session");
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
          return ruleFailure(failureDeps(deps), ctx, rule, error, generation, "disown");
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

    case "releaseFinalizer": {
      if (plan.why === "orphaned") {
        deps.events.normal(
          rule,
          "Orphaned",
          "Delete",
          "deletionPolicy Orphan: nothing was applied to the appliance, nothing to leave behind",
        );
      } else if (plan.why === "deviceMissing") {
        deps.events.warning(
          rule,
          "DeviceMissing",
          "Delete",
          `VnfDevice ${rule.spec.deviceRef.name} no longer exists: the appliance object (if any) could not be deleted`,
        );
      }
      await removeFinalizer(deps.http, refOf(deps, rule), rule, FINALIZER, { signal });
      return undefined;
    }
  }
}

async function apply(
  deps: Runtime,
  ctx: ReconcileContext,
  rule: VnfRule,
  plan: Extract<RulePlan, { step: "apply" }>,
  session: DeviceSession,
  request: RuleRequest,
  adoptable: readonly string[],
): Promise<ReconcileResult | undefined> {
  const kind = deps.kind.kind;
  const now = deps.now;
  const signal = ctx.signal;
  const generation = rule.metadata.generation ?? 0;
  // Adoption in place (the adopt annotation): checked before any write, refused without one.
  const adopting = plan.action === "create" ? adoptionTarget(rule) : undefined;
  if (adopting !== undefined) {
    const refused = await refusedAdoption(deps, ctx, rule, session, request, adopting);
    if (refused) return refused;
  }
  const previous = rule.status?.pendingOperation;
  const sameOperation = previous !== undefined && previous.opHash === plan.opHash;
  const intent: PendingOperation = {
    operation: plan.action,
    opHash: plan.opHash,
    startedAt: sameOperation ? previous.startedAt : now().toISOString(),
    attempt: sameOperation ? previous.attempt + 1 : 1,
    deviceEpoch: session.epoch,
    ...(plan.vendorRef ? { vendorRef: plan.vendorRef } : {}),
  };
  // Write-ahead: the intent (and an allocated rule number) is on the API server before the appliance
  // sees anything, written on the version this plan was made from (409: nothing sent, decide again).
  const intentStatus = withIntent(rule.status, generation, intent, now());
  if (request.ruleNumber !== undefined) intentStatus.ruleNumber = request.ruleNumber;
  const written = await writeIntent(deps.journal, rule, intentStatus, signal);

  let outcome: RuleOutcome;
  let landed: string | undefined;
  try {
    let member: ActivationMember | undefined;
    outcome = await writeThenActivate(
      session,
      () =>
        adopting !== undefined
          ? adoptInPlace(session, kind, plan, request, adopting, signal)
          : converge({
              session,
              kind,
              plan,
              request,
              adoptable,
              signal,
              landed: (vendorRef) => {
                landed = vendorRef;
              },
            }),
      (written) => {
        member = batchMember(session, kind, request, written, signal);
        return member;
      },
      signal,
    );
    // Written again while its batch was being isolated: the object may be elsewhere now.
    if (member && outcome.type === "applied") outcome = { ...outcome, vendorRef: member.vendorRef };
  } catch (error) {
    return ruleFailure(failureDeps(deps), ctx, written, error, generation, plan.action, intent, landed);
  }
  // A repair is complete whichever way the appliance got there (also "verified": an earlier attempt
  // of this repair wrote it and then failed to record it).
  if (outcome.type === "applied" && plan.repair) outcome = { ...outcome, action: "repaired" };
  if (outcome.type === "applied") {
    if (outcome.action === "created") {
      routineEvent(deps, written, "RulesCreated", "Apply", "created on the appliance");
    } else if (outcome.action !== "verified") {
      deps.events.normal(
        written,
        EVENT_REASONS[outcome.action],
        "Apply",
        `${outcome.action} on the appliance (vendorRef ${outcome.vendorRef})`,
      );
    }
  }
  deps.stalls.clear(stallKey(rule));
  const applied = outcome;
  await recordOutcome(
    deps.journal,
    written,
    (current) => nextRuleStatus(current, generation, applied, now()),
    signal,
  );
  if (plan.repair) deps.onRepair?.(kind);
  deps.repairs?.done(rule.metadata.uid ?? "");
  if (request.ruleNumber !== undefined) deps.renumbers?.done(rule.metadata.uid ?? "", request.ruleNumber);
  deps.onWritten?.({ namespace: rule.metadata.namespace ?? "", name: rule.spec.deviceRef.name }, kind);
  return undefined;
}

/**
 * The routine outcome of a rule's life (created, deleted) is told once per device, as one Event
 * whose count grows (an Event series), not as an Event per rule: the rule's own status says it, and
 * an Event per rule was one API write in four. What matters to a human — updates, adoptions,
 * repairs, every failure — keeps its Event on the rule.
 */
function routineEvent(deps: RuleControllerDeps, rule: VnfRule, reason: string, action: string, what: string) {
  const device = deps.devices.get(rule.metadata.namespace ?? "", rule.spec.deviceRef.name);
  if (!device) return;
  const kind = deps.kind.resource.kind;
  deps.events.normal(device, reason, action, `${kind} ${what} (the Event's count: one per rule)`);
}

const EVENT_REASONS: Record<AppliedAction, string> = {
  created: "Created", // told per device: routineEvent
  adopted: "Adopted",
  updated: "Updated",
  verified: "Verified",
  repaired: "Repaired",
};

/**
 * Refuses an adoption that would not be a pure change of owner (rule-adopt.ts): Stalled with the
 * reason, no intent written, re-checked on the rule's next change and every minute.
 */
async function refusedAdoption(
  deps: Runtime,
  ctx: ReconcileContext,
  rule: VnfRule,
  session: DeviceSession,
  request: RuleRequest,
  vendorRef: string,
): Promise<ReconcileResult | undefined> {
  const kind = deps.kind.kind;
  let decision: AdoptionDecision;
  try {
    const object = await session.get(kind, vendorRef, ctx.signal);
    decision = decideAdoption({
      kind,
      vendorRef,
      object,
      ownMarker: request.marker,
      differences: object ? session.differences(kind, request, object) : [],
      spec: request.spec as Record<string, unknown>,
    });
  } catch (error) {
    return ruleFailure(failureDeps(deps), ctx, rule, error, rule.metadata.generation ?? 0, "adopt");
  }
  if (decision.adopt) return undefined;
  deps.events.warning(rule, "AdoptionRefused", "Adopt", decision.message);
  ctx.log.warn({ vendorRef }, decision.message);
  const outcome: RuleOutcome = {
    type: "stalled",
    code: "VNF_CONFLICT",
    message: decision.message,
    retryInMs: ADOPTION_RECHECK_MS,
  };
  await recordOutcome(
    deps.journal,
    rule,
    (current) => nextRuleStatus(current, rule.metadata.generation ?? 0, outcome, deps.now()),
    ctx.signal,
  );
  return { requeueAfterMs: ADOPTION_RECHECK_MS };
}

function failureDeps(deps: Runtime): FailureDeps {
  return {
    ...deps,
    write: (rule, compute, signal) => recordOutcome(deps.journal, rule, compute, signal),
  };
}

function refOf(deps: Runtime, rule: VnfRule) {
  return {
    resource: deps.kind.resource,
    namespace: rule.metadata.namespace ?? "",
    name: rule.metadata.name ?? "",
  };
}

/** Whose markers this installation writes on this device. */
export function markerOwner(deps: { installationId: string }, device: VnfDevice): MarkerOwner {
  return {
    installationId: deps.installationId,
    deviceUid: device.metadata.uid ?? device.metadata.name ?? "",
  };
}

function requireDevice(deps: Runtime, rule: VnfRule): VnfDevice {
  const device = deps.devices.get(rule.metadata.namespace ?? "", rule.spec.deviceRef.name);
  if (!device) throw new Error(`device ${rule.spec.deviceRef.name} vanished during the reconcile`);
  return device;
}

/** What the rule asks of its device's appliance: the spec, its marker there, its rule number. */
export function requestFor(rule: VnfRule, owner: MarkerOwner): RuleRequest {
  const marker = ruleMarker(owner, rule.metadata.uid ?? `${rule.metadata.namespace}/${rule.metadata.name}`);
  return rule.status?.ruleNumber === undefined
    ? { spec: rule.spec, marker }
    : { spec: rule.spec, marker, ruleNumber: rule.status.ruleNumber };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
