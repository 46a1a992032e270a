// Drift detection, per device and per driftDetection.interval: one bulk list per rule kind, compared
// with the rules the status says are applied (drift-plan.ts). Repair does not re-implement the rule
// controller: it records the drift on the rule (status.drift) and asks the rule controller for a
// repair (repair-requests.ts), which converges the rule with its usual intent/adoption safety. Report
// only flags the rule (status.drift + a Drifted condition). Objects with our marker whose resource is
// gone are reported (an Event), never deleted; they and the objects that are not ours are counted on
// the device. The drift controller
// writes only its own status fields (status-ownership.ts), so it never races the rule or device
// controllers. In steady state a cycle writes nothing, to the appliance or to the API server.
import { ANNOTATION_DRIFT_CHECK_REQUESTED } from "../api/annotations.ts";
import { ConditionType, isTrue, kubeTime, removeCondition, setCondition } from "../api/conditions.ts";
import { parseDuration } from "../api/duration.ts";
import { resourceTypes } from "../api/group.ts";
import type {
  VnfDevice,
  VnfDeviceSpecDriftDetection,
  VnfDeviceStatus,
  VnfRule,
  VnfRuleStatus,
} from "../api/types.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { ObjectKey, ResourceType } from "../runtime/resource.ts";
import { StatusWriter } from "../runtime/status-writer.ts";
import { type Drifted, type ManagedRule, planDrift } from "./drift-plan.ts";
import { adoptableMarkers, type MarkerOwner, ownershipOf, rulePart } from "./markers.ts";
import { keyOf, placementOf, planDeviceOrder } from "./order-step.ts";
import type { ObservedObject, RuleKind, SessionLookup } from "./ports.ts";
import type { RepairRequests } from "./repair-requests.ts";
import { markerOwner, requestFor } from "./rule-request.ts";
import {
  DRIFT_CONTROLLER_DEVICE_STATUS,
  DRIFT_CONTROLLER_RULE_STATUS,
  DRIFTED,
  FieldManager,
} from "./status-ownership.ts";

export { DRIFTED };

const DEFAULT_INTERVAL = "5m";
/** A requested check of a device without driftDetection only reports (nobody asked for repairs). */
const REQUESTED_ONLY: VnfDeviceSpecDriftDetection = { mode: "Report", unmanaged: "Ignore" };

export interface DriftControllerDeps {
  deviceResource: ResourceType;
  devices: ObjectCache<VnfDevice>;
  rules: Array<{ kind: RuleKind; resource: ResourceType; informer: ObjectCache<VnfRule> }>;
  sessions: SessionLookup;
  http: KubeRequester;
  events: EventSink;
  /** This installation's id: which markers are ours (markers.ts). */
  installationId: string;
  /** Where Repair mode leaves its requests for the rule controller. */
  repairs: RepairRequests;
  /** Re-queues a rule in its controller (after a repair request). */
  enqueueRule?: (kind: RuleKind, rule: ObjectKey) => void;
  /** Asks the order controller to put the device's rules back in order (Repair mode). */
  enqueueOrder?: (device: ObjectKey) => void;
  /** Called after each completed check (metrics; tests wait on it). */
  onCheck?: (mode: "Repair" | "Report") => void;
  /**
   * Whether the device is still this replica's (sharding). A shard handed over while a check runs
   * takes its rules out of the caches, so every object of the device would look like an orphan: the
   * check stops as soon as the device is no longer ours.
   */
  owns?: (device: ObjectKey) => boolean;
  now?: () => Date;
}

export function driftReconciler(deps: DriftControllerDeps) {
  const now = deps.now ?? (() => new Date());
  const writer = (resource: ResourceType, owns: typeof DRIFT_CONTROLLER_RULE_STATUS) =>
    new StatusWriter<VnfRule>({ client: deps.http, resource, fieldManager: FieldManager.drift, owns });
  const ruleStatus = new Map(
    deps.rules.map(({ kind, resource }) => [kind, writer(resource, DRIFT_CONTROLLER_RULE_STATUS)]),
  );
  const deviceStatus = new StatusWriter<VnfDevice>({
    client: deps.http,
    resource: deps.deviceResource,
    fieldManager: FieldManager.drift,
    owns: DRIFT_CONTROLLER_DEVICE_STATUS,
  });
  /** When each device was last checked (in memory: a restart simply checks again). */
  const lastRun = new Map<string, number>();
  /** The last drift-check request (annotation value) honoured per device. */
  const honoured = new Map<string, string>();
  /** The orphans last reported per device and kind: an Event only when they change. */
  const reportedOrphans = new Map<string, string>();
  const reportOrphans = (
    id: string,
    device: VnfDevice,
    kind: RuleKind,
    orphans: readonly { vendorRef: string }[],
    ctx: ReconcileContext,
  ) => {
    const ids = orphans.map((o) => o.vendorRef);
    const seen = ids.join("\n");
    if ((reportedOrphans.get(id) ?? "") === seen) return;
    reportedOrphans.set(id, seen);
    if (ids.length === 0) return;
    const kindName = resourceTypes[kind].kind;
    const listed = ids.slice(0, ORPHANS_NAMED).join(", ") + (ids.length > ORPHANS_NAMED ? ", …" : "");
    deps.events.warning(
      device,
      "OrphansFound",
      "DriftCheck",
      `${ids.length} ${kindName} object(s) on the appliance carry this installation's ownership marker for this device, but no resource has it any more: ${listed}. Left in place: a copy of a managed rule (the appliance's "copy rule") carries the same marker and cannot be told from a leftover, so the operator never deletes one. Delete them on the appliance if they are leftovers, or take the [vnf:…] token off their description to keep them`,
    );
    ctx.log.warn(
      { device: id, kind, vendorRefs: ids.slice(0, ORPHANS_NAMED) },
      "objects with our marker but no resource: left in place",
    );
  };
  return async (key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | undefined> => {
    const id = `${key.namespace}/${key.name}`;
    const device = deps.devices.get(key.namespace, key.name);
    const request = device?.metadata.annotations?.[ANNOTATION_DRIFT_CHECK_REQUESTED];
    const requested = request !== undefined && request !== honoured.get(id);
    const settings = device?.spec.driftDetection ?? (requested ? REQUESTED_ONLY : undefined);
    if (!device || device.metadata.deletionTimestamp || !settings) {
      lastRun.delete(id);
      return undefined;
    }
    const intervalMs = parseDuration(settings.interval ?? DEFAULT_INTERVAL);
    const session = deps.sessions.get(key);
    if (!session || device.spec.suspend) return { requeueAfterMs: intervalMs };
    const elapsed = now().getTime() - (lastRun.get(id) ?? 0);
    if (elapsed < intervalMs && !requested) return { requeueAfterMs: intervalMs - elapsed };
    // Recorded only once the check completed: a failed one (appliance error, API server error) is
    // retried with the controller's backoff, not an interval later.
    const startedAt = now().getTime();

    // Without every rule in the caches, our own objects would look like orphans.
    if (deps.rules.some(({ informer }) => !informer.hasSynced())) return { requeueAfterMs: 1000 };

    const mode = settings.mode ?? "Repair";
    const owner = markerOwner(deps, device);
    const ownership = (marker: string | undefined) => ownershipOf(owner, marker);
    let unmanaged = 0;
    const unmanagedList: UnmanagedEntry[] = [];
    /** Counts objects nobody manages (now) and lists the first UNMANAGED_LISTED of them. */
    const countUnmanaged = (kind: RuleKind, objects: readonly ObservedObject[]) => {
      unmanaged += objects.length;
      for (const object of objects.slice(0, UNMANAGED_LISTED - unmanagedList.length)) {
        unmanagedList.push({
          kind: resourceTypes[kind].kind,
          vendorRef: object.vendorRef,
          importable: object.importable === true,
        });
      }
    };
    /** Rule statuses written and repairs asked for: what moves lastDriftCheckTime. */
    let changes = 0;
    for (const { kind, informer } of deps.rules) {
      if (!session.kinds.includes(kind)) continue;
      const statusOfRule = ruleStatus.get(kind) as StatusWriter<VnfRule>;
      // The rules BEFORE the list: only what was applied before it can be expected on it (a rule
      // applied meanwhile is not "missing").
      const rules = informer
        .list(key.namespace)
        .filter((r) => r.spec.deviceRef.name === key.name && !r.metadata.deletionTimestamp);
      const objects = await session.list(kind, ctx.signal);
      if (deps.owns && !deps.owns(key)) return undefined;
      // The rules known AFTER the list: every object on it was created for a rule the cache already
      // held, so a rule unknown now is truly gone — not a rule created while the check ran.
      const knownRules = new Set<string>();
      for (const { informer: any } of deps.rules) {
        for (const rule of any.list()) {
          const uid = rule.metadata.uid ?? "";
          knownRules.add(rulePart(uid));
          knownRules.add(uid);
        }
      }
      const managed: ManagedRule[] = rules.filter(isApplied).map((rule) => {
        const request = requestFor(rule, owner);
        return {
          key: `${rule.metadata.namespace}/${rule.metadata.name}`,
          markers: adoptableMarkers(owner, rule.metadata.uid ?? ""),
          vendorRef: rule.status?.vendorRef ?? "",
          differences: (object) => session.differences(kind, request, object),
        };
      });
      const plan = planDrift({ rules: managed, ownership, knownRules, objects });
      countUnmanaged(kind, plan.unmanagedObjects);
      const byKey = new Map<string, Drifted>(plan.drifted.map((d) => [d.key, d]));
      // The order is part of what the appliance must hold: a rule out of place is drifted on "order".
      const outOfOrder = outOfOrderRules(
        session,
        kind,
        device,
        owner,
        objects,
        informer.list(key.namespace),
        rules,
      );
      for (const ruleKey of outOfOrder) {
        const found = byKey.get(ruleKey);
        byKey.set(
          ruleKey,
          found ? { ...found, fields: [...found.fields, "order"] } : { key: ruleKey, fields: ["order"] },
        );
      }
      if (outOfOrder.size > 0 && mode === "Repair") {
        deps.enqueueOrder?.(key);
        changes++;
      }

      for (const rule of rules) {
        const ruleKey = `${rule.metadata.namespace}/${rule.metadata.name}`;
        const found = byKey.get(ruleKey);
        const next = found ? flagged(rule, mode, found.fields, now()) : cleared(rule);
        if (next) {
          if (found) {
            const verb = mode === "Repair" ? "repairing" : "reported only (driftDetection.mode Report)";
            deps.events.warning(
              rule,
              "DriftDetected",
              "DriftCheck",
              `appliance differs on ${found.fields.join(", ")}: ${verb}`,
            );
            ctx.log.info({ rule: ruleKey, fields: found.fields, mode }, "drift detected");
          }
          if (statusOfRule.differs(rule, next)) {
            await statusOfRule.write(rule, next, { signal: ctx.signal });
            changes++;
          }
        }
        // After the record is written, so the repair does not race the drift controller's own write.
        // The order alone is the order controller's to repair (asked above), not the rule's.
        if (found && mode === "Repair" && found.fields.some((f) => f !== "order")) {
          deps.repairs.request(rule.metadata.uid ?? "", {
            opHash: rule.status?.opHash ?? "",
            ...(found.vendorRef !== undefined && found.vendorRef !== rule.status?.vendorRef
              ? { vendorRef: found.vendorRef }
              : {}),
          });
          deps.enqueueRule?.(kind, { namespace: key.namespace, name: rule.metadata.name ?? "" });
          changes++;
        }
      }

      // Our marker, no resource: left in place and reported, never deleted (design.md, "Ownership
      // markers"): a verbatim copy of a managed rule carries the same marker, and nothing on the
      // appliance tells it from a leftover of ours. Counted with the unmanaged objects: nobody's now.
      countUnmanaged(kind, plan.orphans);
      if (deps.owns && !deps.owns(key)) return undefined;
      reportOrphans(`${id}/${kind}`, device, kind, plan.orphans, ctx);
    }
    // The CRD: unmanaged objects are counted only with driftDetection.unmanaged Report.
    const counted = settings.unmanaged === "Report" ? unmanaged : undefined;
    // A requested check always records its time: that is how the requester sees it ran.
    await deviceStatus.write(
      device,
      (current) =>
        deviceCounters(
          current,
          counted === undefined ? undefined : { count: counted, list: unmanagedList },
          requested ? changes + 1 : changes,
          now(),
        ),
      { signal: ctx.signal },
    );
    lastRun.set(id, startedAt);
    if (request !== undefined) honoured.set(id, request);
    deps.onCheck?.(mode);
    return { requeueAfterMs: intervalMs };
  };
}

/** The applied rules of a device that are not where their priority puts them (one order plan). */
function outOfOrderRules(
  session: NonNullable<ReturnType<SessionLookup["get"]>>,
  kind: RuleKind,
  device: VnfDevice,
  owner: MarkerOwner,
  objects: Awaited<ReturnType<NonNullable<ReturnType<SessionLookup["get"]>>["list"]>>,
  namespaceRules: VnfRule[],
  checked: VnfRule[],
): Set<string> {
  const ordering = session.ordering?.(kind);
  if (!ordering) return new Set();
  const rules = namespaceRules.filter((r) => r.spec.deviceRef.name === device.metadata.name);
  const { plan } = planDeviceOrder({ kind, owner, ordering, objects, rules, placement: placementOf(device) });
  const applied = new Set(checked.filter(isApplied).map(keyOf));
  // Renumbering to make room is not drift: the rule is in its place.
  return new Set(
    plan.moves
      .filter((m) => !m.room)
      .map((m) => m.rule)
      .filter((k) => applied.has(k)),
  );
}

/** Applied as recorded, nothing in flight: only then can the appliance be said to have drifted. */
function isApplied(rule: VnfRule): boolean {
  const status = rule.status;
  return (
    status?.vendorRef !== undefined &&
    status.opHash !== undefined &&
    status.pendingOperation === undefined &&
    isTrue(status.conditions, ConditionType.Ready)
  );
}

/** The rule's next status when drift was found, or undefined when it is already recorded as such. */
function flagged(
  rule: VnfRule,
  mode: "Repair" | "Report",
  fields: string[],
  now: Date,
): VnfRuleStatus | undefined {
  const status: VnfRuleStatus = { ...(rule.status ?? {}) };
  const previous = status.drift;
  if (mode === "Report") {
    const same =
      previous?.action === "Reported" && JSON.stringify(previous.fields ?? []) === JSON.stringify(fields);
    if (same) return undefined;
    status.drift = { detectedAt: kubeTime(now), fields, action: "Reported" };
    status.conditions = setCondition(
      status.conditions,
      {
        type: DRIFTED,
        status: "True",
        reason: "ApplianceDiffers",
        message: `the appliance differs from this rule on: ${fields.join(", ")} (driftDetection.mode Report: not repaired)`,
        observedGeneration: rule.metadata.generation ?? 0,
      },
      now,
    );
    return status;
  }
  // Repair: the record of what was found; the repair itself is the rule controller's (requested above).
  status.drift = { detectedAt: kubeTime(now), fields, action: "Repaired" };
  status.conditions = removeCondition(status.conditions, DRIFTED);
  return status;
}

/** A Report-mode flag that no longer holds is removed; a Repaired record stays (the last drift found). */
function cleared(rule: VnfRule): VnfRuleStatus | undefined {
  const status = rule.status;
  const flag = status?.conditions?.some((c) => c.type === DRIFTED) ?? false;
  if (status?.drift?.action !== "Reported" && !flag) return undefined;
  const next: VnfRuleStatus = { ...(status ?? {}) };
  if (next.drift?.action === "Reported") delete next.drift;
  next.conditions = removeCondition(next.conditions, DRIFTED);
  return next;
}

/** The device's drift counters after a check. */
/** How many unmanaged objects the device's status lists (the count covers them all). */
const UNMANAGED_LISTED = 50;
/** Orphans named in one Event (the device status lists up to UNMANAGED_LISTED). */
const ORPHANS_NAMED = 10;

type UnmanagedEntry = NonNullable<VnfDeviceStatus["unmanagedObjectList"]>[number];

function deviceCounters(
  current: VnfDeviceStatus | undefined,
  unmanaged: { count: number; list: UnmanagedEntry[] } | undefined,
  changes: number,
  now: Date,
): VnfDeviceStatus {
  const next: VnfDeviceStatus = { ...(current ?? {}) };
  if (unmanaged === undefined) {
    delete next.unmanagedObjects;
    delete next.unmanagedObjectList;
  } else {
    next.unmanagedObjects = unmanaged.count;
    next.unmanagedObjectList = unmanaged.list;
  }
  // The timestamp moves only with a change, so a steady drift cycle costs no API write — also when
  // a drift already reported (mode Report) is found again, unchanged.
  // Compared entry by entry: the API server does not keep the keys of an entry in our order.
  const entries = (list: UnmanagedEntry[] | undefined) =>
    list?.map((e) => `${e.kind}/${e.vendorRef}/${e.importable}`).join("\n");
  const listChanged = entries(current?.unmanagedObjectList) !== entries(next.unmanagedObjectList);
  if (current?.unmanagedObjects !== unmanaged?.count || listChanged || changes > 0) {
    next.lastDriftCheckTime = kubeTime(now);
  }
  return next;
}
