// The VnfFirewallRule / VnfNatRule reconciler: read the rule and its device, decide (rule-plan.ts),
// perform the one step, record the outcome (rule-status.ts) in one status write. Reads like the runbook
// a network engineer would follow:
//   1. finalizer first, so cleanup is always possible;
//   2. wait for a Ready device;
//   3. render the desired request; if the appliance already holds it, stop here;
//   4. write the intent, then create (adopting our own object if a crash left one) or update;
//   5. activate (apply/commit, coalesced per device);
//   6. record vendorRef, opHash and Ready.
// A deleted rule's steps (deletionPolicy Delete or Orphan) are in rule-removal.ts; what a reconcile
// asks of the appliance (marker, rule number) in rule-request.ts.
import { ConditionType, getCondition } from "../api/conditions.ts";
import type { PendingOperation, VnfDevice, VnfRule } from "../api/types.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../runtime/kube.ts";
import type { ObjectKey } from "../runtime/resource.ts";
import { StatusWriter } from "../runtime/status-writer.ts";
import { adoptableMarkers } from "./markers.ts";
import type { ActivationMember, DeviceSession, RuleRequest } from "./ports.ts";
import { batchMember, writeThenActivate } from "./rule-activation.ts";
import {
  ADOPTION_RECHECK_MS,
  type AdoptionDecision,
  adoptInPlace,
  adoptionTarget,
  decideAdoption,
} from "./rule-adopt.ts";
import { converge } from "./rule-converge.ts";
import { FINALIZER, failureDeps, type RuleControllerDeps, type RuleRuntime, refOf } from "./rule-deps.ts";
import { deviceKey, deviceReadyByStatus, factsOfDevice, recoveredAt } from "./rule-device-facts.ts";
import { appliedEvent } from "./rule-events.ts";
import { ruleFailure, stallKey } from "./rule-failure.ts";
import { recordOutcome, writeIntent } from "./rule-journal.ts";
import { RuleNumberReservations } from "./rule-numbers.ts";
import { createPosition, devicePeers, ScopeCache } from "./rule-order.ts";
import { planRule, type RulePlan } from "./rule-plan.ts";
import { deleteOnAppliance, disownOnAppliance } from "./rule-removal.ts";
import { markerOwner, numberedRequest, requestFor } from "./rule-request.ts";
import { nextRuleStatus, type RuleOutcome, withIntent } from "./rule-status.ts";
import { DEFAULT_GRACE_PERIOD_MS, DEFAULT_STALLED_RETRY, graceLeft, StallBook } from "./stalled.ts";
import { FieldManager, RULE_CONTROLLER_STATUS } from "./status-ownership.ts";

/** The per-rule reconcile function, for a runtime Controller. */
export function ruleReconciler(ruleDeps: RuleControllerDeps) {
  const deps: RuleRuntime = {
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
    // The request: spec, marker and, where the appliance numbers rules, the number (none free: Stalled).
    let request: RuleRequest | undefined;
    if (owner) {
      const numbered = numberedRequest(requestFor(rule, owner), {
        rule,
        namespace: key.namespace,
        kind: deps.kind.kind,
        session,
        namespaceRules: () => deps.rules.list(key.namespace),
        renumbers: deps.renumbers,
        reservations,
        scopes,
      });
      if ("exhausted" in numbered) {
        const { min, max } = numbered.exhausted;
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
      request = numbered.request;
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
      const peers = () => devicePeers(deps.rules.list(key.namespace), rule);
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
  deps: RuleRuntime,
  ctx: ReconcileContext,
  rule: VnfRule,
  plan: RulePlan,
  session: DeviceSession | undefined,
  request: RuleRequest | undefined,
): Promise<ReconcileResult | undefined> {
  const generation = rule.metadata.generation ?? 0;
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
      // A spec change the appliance object does not carry (spec.priority) can still change the order.
      if (plan.recordGeneration)
        deps.onWritten?.(
          { namespace: rule.metadata.namespace ?? "", name: rule.spec.deviceRef.name },
          deps.kind.kind,
        );
      return undefined;

    case "apply": {
      // planRule requires a ready device
      if (!session || !request) throw new Error("apply planned without a session");
      return apply(deps, ctx, rule, plan, session, request, adoptable());
    }

    case "deleteOnAppliance":
      if (!session) throw new Error("delete planned without a session");
      return deleteOnAppliance(deps, ctx, rule, plan, session, request, adoptable);

    case "disownOnAppliance":
      if (!session || !request) throw new Error("disown planned without a session");
      return disownOnAppliance(deps, ctx, rule, plan, session, request, adoptable);

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
  deps: RuleRuntime,
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
  appliedEvent(deps, written, outcome);
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
 * Refuses an adoption that would not be a pure change of owner (rule-adopt.ts): Stalled with the
 * reason, no intent written, re-checked on the rule's next change and every minute.
 */
async function refusedAdoption(
  deps: RuleRuntime,
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

function requireDevice(deps: RuleRuntime, rule: VnfRule): VnfDevice {
  const device = deps.devices.get(rule.metadata.namespace ?? "", rule.spec.deviceRef.name);
  if (!device) throw new Error(`device ${rule.spec.deviceRef.name} vanished during the reconcile`);
  return device;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
