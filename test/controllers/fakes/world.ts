// The world a reconciler test runs in: a FakeKube holding the device, its Secret and the rules, a
// FakeSession for the device, an Event recorder, a fixed clock, and the three reconcilers wired the
// way src/operator.ts wires them. Builders for the objects keep each table case down to what differs.

import { resourceTypes as resources } from "../../../src/api/group.ts";
import type { VnfDevice, VnfRule } from "../../../src/api/types.ts";
import type { SecretObject } from "../../../src/controllers/device-controller.ts";
import { deviceReconciler } from "../../../src/controllers/device-controller.ts";
import { driftReconciler } from "../../../src/controllers/drift-controller.ts";
import { disownedMarker, ruleMarker } from "../../../src/controllers/markers.ts";
import type { RuleKind } from "../../../src/controllers/ports.ts";
import { RepairRequests } from "../../../src/controllers/repair-requests.ts";
import { ruleReconciler } from "../../../src/controllers/rule-controller.ts";
import { FINALIZER } from "../../../src/controllers/rule-deps.ts";
import { type SessionConfig, SessionRegistry } from "../../../src/controllers/session-registry.ts";
import {
  DEVICE_CONTROLLER_STATUS,
  DRIFT_CONTROLLER_DEVICE_STATUS,
  DRIFT_CONTROLLER_RULE_STATUS,
  FieldManager,
  RULE_CONTROLLER_STATUS,
} from "../../../src/controllers/status-ownership.ts";
import type { DictionaryChoice, DictionaryChoiceRequest } from "../../../src/dictionary/choose.ts";
import type { ReconcileContext, ReconcileResult } from "../../../src/runtime/controller.ts";
import type { EventSink } from "../../../src/runtime/events.ts";
import { silentLogger } from "../../../src/runtime/logging.ts";
import type { KubeObject, ObjectKey, ResourceType } from "../../../src/runtime/resource.ts";
import { CoreResources } from "../../../src/runtime/resource.ts";
import type { StatusOwnership } from "../../../src/runtime/status-writer.ts";
import { FakeKube, type SeedOwner } from "./fake-kube.ts";
import { FakeSession } from "./fake-session.ts";

export const NS = "prod";
export const NOW = new Date("2026-02-03T04:05:06Z");
export const T0 = "2026-02-03T04:00:00Z";
export { FINALIZER };
/** The installation the reconcilers run as, and the device's uid: the owners of every marker here. */
export const INSTALLATION_ID = "test-installation";
export const DEVICE_UID = "uid-edge";
/** The marker this installation writes on the device "edge" for the rule with this uid. */
export const markerOf = (ruleUid: string) =>
  ruleMarker({ installationId: INSTALLATION_ID, deviceUid: DEVICE_UID }, ruleUid);
export const MARKER_WEB = markerOf("uid-web");
export { disownedMarker };

export class FakeEvents implements EventSink {
  readonly recorded: {
    type: "Normal" | "Warning";
    reason: string;
    action: string;
    note: string;
    about: string;
  }[] = [];
  normal(regarding: KubeObject, reason: string, action: string, note: string): void {
    this.#record("Normal", regarding, reason, action, note);
  }
  warning(regarding: KubeObject, reason: string, action: string, note: string): void {
    this.#record("Warning", regarding, reason, action, note);
  }
  /** "Warning VNF_TIMEOUT" per Event, in order. */
  summary(): string[] {
    return this.recorded.map((e) => `${e.type} ${e.reason}`);
  }
  #record(type: "Normal" | "Warning", regarding: KubeObject, reason: string, action: string, note: string) {
    this.recorded.push({ type, reason, action, note, about: regarding.metadata?.name ?? "" });
  }
}

export function context(signal: AbortSignal = new AbortController().signal): ReconcileContext {
  return { controller: "test", reconcileID: "r-1", log: silentLogger, signal };
}

export const readyCondition = (observedGeneration = 1) => ({
  type: "Ready",
  status: "True" as const,
  reason: "HealthCheckPassed",
  message: "appliance reachable",
  lastTransitionTime: T0,
  observedGeneration,
});

export function device(
  overrides: Partial<VnfDevice["spec"]> = {},
  status?: VnfDevice["status"],
  meta: { created?: string; generation?: number } = {},
): VnfDevice {
  return {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind: "VnfDevice",
    metadata: {
      name: "edge",
      namespace: NS,
      uid: DEVICE_UID,
      generation: meta.generation ?? 1,
      ...(meta.created ? { creationTimestamp: meta.created } : {}),
    },
    spec: {
      vendor: "pfsense",
      endpoint: "https://192.0.2.1",
      credentialsSecretRef: { name: "creds" },
      ...overrides,
    },
    status: status ?? { observedGeneration: 1, conditions: [readyCondition()] },
  };
}

export function secret(name = "creds", data: Record<string, string> = { username: "admin", password: "pw" }) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    // resourceVersion 10: with the device's generation 1, the session epoch "1/10" (FakeSession's).
    metadata: { name, namespace: NS, resourceVersion: "10" },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  } satisfies SecretObject;
}

export const FIREWALL_SPEC = {
  deviceRef: { name: "edge" },
  interface: "wan",
  action: "allow" as const,
  protocol: "tcp" as const,
  destination: { cidr: "10.0.0.10", port: "443" },
  description: "web",
};

/** A firewall rule; `status` as the operator left it, `meta` for finalizers and deletion. */
export function rule(
  options: {
    name?: string;
    uid?: string;
    generation?: number;
    spec?: Partial<VnfRule["spec"]>;
    status?: VnfRule["status"];
    finalizer?: boolean;
    deleting?: boolean;
    /** metadata.creationTimestamp (absent: none, as in a freshly built object). */
    created?: string;
  } = {},
): VnfRule {
  return {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind: "VnfFirewallRule",
    metadata: {
      name: options.name ?? "web",
      namespace: NS,
      uid: options.uid ?? "uid-web",
      generation: options.generation ?? 1,
      ...(options.created ? { creationTimestamp: options.created } : {}),
      ...(options.finalizer === false ? {} : { finalizers: [FINALIZER] }),
      ...(options.deleting ? { deletionTimestamp: T0 } : {}),
    },
    spec: { ...FIREWALL_SPEC, ...(options.spec ?? {}) } as VnfRule["spec"],
    ...(options.status ? { status: options.status } : {}),
  } as VnfRule;
}

export interface World {
  kube: FakeKube;
  session: FakeSession;
  sessions: SessionRegistry;
  events: FakeEvents;
  repairs: RepairRequests;
  /** Sessions the device controller built, by config. */
  built: SessionConfig[];
  enqueued: string[];
  /** Moves the reconcilers' clock forward. */
  advance(ms: number): void;
  reconcileRule(name?: string, ctx?: ReconcileContext): Promise<ReconcileResult | undefined>;
  reconcileDevice(name?: string, ctx?: ReconcileContext): Promise<ReconcileResult | undefined>;
  reconcileDrift(name?: string, ctx?: ReconcileContext): Promise<ReconcileResult | undefined>;
  rule(name?: string): VnfRule | undefined;
  device(name?: string): VnfDevice | undefined;
}

/** Seeded status as the controllers would have left it: each part applied by its owner. */
const seedOwner: SeedOwner = (plural, item) => {
  const [mine, drift, mineManager] =
    plural === resources.device.plural
      ? [DEVICE_CONTROLLER_STATUS, DRIFT_CONTROLLER_DEVICE_STATUS, FieldManager.device]
      : [RULE_CONTROLLER_STATUS, DRIFT_CONTROLLER_RULE_STATUS, FieldManager.rule];
  const owned = (o: StatusOwnership) =>
    "field" in item ? o.fields.includes(item.field) : (o.conditions ?? []).includes(item.condition);
  if (owned(drift)) return FieldManager.drift;
  return owned(mine) ? mineManager : "someone-else";
};

export interface WorldOptions {
  /** The device's session: Ready (default), built but not Ready, or none at all. */
  session?: "ready" | "notReady" | "none";
  /** The credential keys each dictionary needs (the catalog's answer). */
  credentialKeys?: string[];
  /** Dictionary resolution fails with this message. */
  noDictionary?: string;
  /** The catalog's choice by firmware (default: the named dictionary, else one named after the vendor). */
  choose?: (request: DictionaryChoiceRequest) => DictionaryChoice | undefined;
  healthIntervalMs?: number;
  /** How long a rule waits for its device, and a device for its Secrets, before Stalled (default 120 s). */
  gracePeriodMs?: number;
  /** Sharding: whether the device is still this replica's (the drift controller asks). */
  owns?: (device: ObjectKey) => boolean;
}

/** The stalled-retry policy the world's reconcilers use (the operator's default). */
export const STALLED_RETRY = { initialMs: 60_000, maxMs: 15 * 60_000 };

export function world(objects: Array<[ResourceType, KubeObject]>, options: WorldOptions = {}): World {
  const kube = new FakeKube(seedOwner);
  for (const [resource, obj] of objects) kube.add(resource, obj);
  const session = new FakeSession();
  const built: SessionConfig[] = [];
  const sessions = new SessionRegistry((config) => {
    built.push(config);
    return session;
  });
  const events = new FakeEvents();
  const repairs = new RepairRequests();
  const enqueued: string[] = [];
  const key = (name: string): ObjectKey => ({ namespace: NS, name });
  const rules = kube.cache<VnfRule>(resources.firewallRule);
  const natRules = kube.cache<VnfRule>(resources.natRule);
  const devices = kube.cache<VnfDevice>(resources.device);
  let clock = NOW.getTime();
  const now = () => new Date(clock);
  const state = options.session ?? "ready";
  const ready = (async () => {
    if (state === "none") return;
    const edge = devices.get(NS, "edge");
    await sessions.ensure(
      {
        device: key("edge"),
        vendor: edge?.spec.vendor ?? "pfsense",
        dictionary: "pfsense",
        endpoint: "https://192.0.2.1",
        credentials: {},
        parameters: {},
        activation: { mode: "Immediate", batchWindowMs: 0 },
        epoch: session.epoch,
      },
      `pfsense|${session.epoch}`,
    );
    built.length = 0;
    sessions.markReady(key("edge"), state === "ready");
  })();

  const rule = ruleReconciler({
    kind: { kind: "firewallRule", resource: resources.firewallRule },
    rules,
    devices,
    sessions,
    http: kube,
    events,
    repairs,
    gracePeriodMs: options.gracePeriodMs ?? 120_000,
    stalledRetry: STALLED_RETRY,
    // As src/operator.ts wires it: the session is not used until the device checked it again.
    onCredentialsRefused: (device) => {
      sessions.markReady(device, false);
      enqueued.push(`recheck ${device.name}`);
    },
    installationId: INSTALLATION_ID,
    now,
  });
  const deviceReconcile = deviceReconciler({
    resource: resources.device,
    devices,
    secrets: kube.cache<SecretObject>(CoreResources.secrets),
    rules: [rules, natRules],
    catalog: {
      choose: (request) =>
        options.choose?.(request) ??
        (options.noDictionary
          ? { reason: "NoDictionary", error: options.noDictionary }
          : { name: request.named ?? request.vendor }),
      credentialKeys: () => options.credentialKeys ?? [],
    },
    sessions,
    http: kube,
    events,
    healthIntervalMs: options.healthIntervalMs ?? 60_000,
    gracePeriodMs: options.gracePeriodMs ?? 120_000,
    stalledRetry: STALLED_RETRY,
    onSessionReady: (device) => enqueued.push(`session ready ${device.name}`),
    now,
  });
  const drift = driftReconciler({
    deviceResource: resources.device,
    devices,
    rules: [
      { kind: "firewallRule", resource: resources.firewallRule, informer: rules },
      { kind: "natRule", resource: resources.natRule, informer: natRules },
    ],
    sessions,
    http: kube,
    events,
    repairs,
    enqueueRule: (kind: RuleKind, r) => enqueued.push(`${kind} ${r.name}`),
    ...(options.owns ? { owns: options.owns } : {}),
    installationId: INSTALLATION_ID,
    now,
  });
  return {
    kube,
    session,
    sessions,
    events,
    repairs,
    built,
    enqueued,
    advance: (ms) => {
      clock += ms;
    },
    reconcileRule: async (name = "web", ctx = context()) => {
      await ready;
      return rule(key(name), ctx);
    },
    reconcileDevice: async (name = "edge", ctx = context()) => {
      await ready;
      return deviceReconcile(key(name), ctx);
    },
    reconcileDrift: async (name = "edge", ctx = context()) => {
      await ready;
      return drift(key(name), ctx);
    },
    rule: (name = "web") => kube.object<VnfRule>(resources.firewallRule, NS, name),
    device: (name = "edge") => kube.object<VnfDevice>(resources.device, NS, name),
  };
}

/** "Ready=False/VNF_TIMEOUT" for each condition, sorted: what the table cases compare. */
export function conditionsOf(
  obj: { status?: { conditions?: { type: string; status: string; reason: string }[] } } | undefined,
): string[] {
  return (obj?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).sort();
}
