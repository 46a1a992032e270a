// The drift reconciler against fakes: one bulk list per rule kind, compared with the applied rules;
// what it records on the rules and the device, which repairs it asks the rule controller for, which
// orphans it removes, and that a steady state writes nothing.
import { describe, expect, it } from "vitest";
import { resourceTypes as resources } from "../../src/api/group.ts";
import type { VnfDevice, VnfRule } from "../../src/api/types.ts";
import type { ReconcileResult } from "../../src/runtime/controller.ts";
import { CoreResources, type KubeObject, type ResourceType } from "../../src/runtime/resource.ts";
import { opHashOf, vnfError } from "./fakes/fake-session.ts";
import {
  conditionsOf,
  device,
  disownedMarker,
  FIREWALL_SPEC,
  MARKER_WEB,
  markerOf,
  readyCondition,
  rule,
  secret,
  T0,
  type World,
  type WorldOptions,
  world,
} from "./fakes/world.ts";

const HASH = opHashOf({ spec: FIREWALL_SPEC, marker: MARKER_WEB });
const RULE = "apply-status vnffirewallrules/web";
const DEVICE = "apply-status vnfdevices/edge";
const LISTS = ["list firewallRule", "list natRule"];
/** Whether the device is still this replica's (the sharding case flips it mid-check). */
const handover = { owned: true };

const appliedRule = (extra: Partial<NonNullable<VnfRule["status"]>> = {}) =>
  rule({
    status: {
      observedGeneration: 1,
      vendorRef: "7",
      opHash: HASH,
      appliedAt: T0,
      conditions: [{ ...readyCondition(), reason: "Applied" }],
      ...extra,
    },
  });
const withDrift = (
  mode: "Repair" | "Report",
  unmanaged: "Ignore" | "Report" = "Ignore",
  status?: VnfDevice["status"],
) => device({ driftDetection: { interval: "5m", mode, unmanaged } }, status);

interface DriftCase {
  name: string;
  device?: VnfDevice;
  rules?: VnfRule[];
  options?: WorldOptions;
  setup?: (w: World) => void;
  expect: {
    calls: string[];
    writes: string[];
    ruleConditions?: string[];
    ruleDrift?: unknown;
    deviceStatus?: Record<string, unknown>;
    /** Device status fields that must be gone. */
    deviceStatusAbsent?: string[];
    /** How many unmanaged objects the device's status lists. */
    unmanagedListed?: number;
    events?: string[];
    repairs?: string[];
    result?: ReconcileResult | "throws";
  };
}

const cases: DriftCase[] = [
  {
    name: "no driftDetection: nothing at all",
    device: device(),
    rules: [appliedRule()],
    expect: { calls: [], writes: [], result: undefined },
  },
  {
    name: "device without a Ready session: checked again an interval later, no call",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    options: { session: "notReady" },
    expect: { calls: [], writes: [], result: { requeueAfterMs: 300_000 } },
  },
  {
    name: "suspended device: no check",
    device: { ...withDrift("Repair"), spec: { ...withDrift("Repair").spec, suspend: true } },
    rules: [appliedRule()],
    expect: { calls: [], writes: [], result: { requeueAfterMs: 300_000 } },
  },
  {
    name: "rule caches not synced yet: wait (our objects would look like orphans)",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    setup: (w) => w.kube.setSynced(false),
    expect: { calls: [], writes: [], result: { requeueAfterMs: 1000 } },
  },
  {
    name: "steady state: one list per kind, nothing written anywhere",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
    },
    expect: { calls: LISTS, writes: [], repairs: [], result: { requeueAfterMs: 300_000 } },
  },
  {
    name: "Repair: our object was deleted on the appliance → drift recorded, repair requested, rule re-queued",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    expect: {
      calls: LISTS,
      writes: [RULE, DEVICE],
      ruleDrift: { detectedAt: "2026-02-03T04:05:06Z", fields: ["missing"], action: "Repaired" },
      events: ["Warning DriftDetected"],
      repairs: ["firewallRule web"],
      deviceStatus: { lastDriftCheckTime: "2026-02-03T04:05:06Z" },
    },
  },
  {
    name: "Repair: our object was edited on the appliance → the same, with the fields that differ",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    setup: (w) => {
      w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" }, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: LISTS,
      writes: [RULE, DEVICE],
      ruleDrift: { fields: ["spec"], action: "Repaired" },
      repairs: ["firewallRule web"],
    },
  },
  {
    name: "Repair: our object found under another id (recreated by hand) → the repair targets that id",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "8");
    },
    expect: {
      calls: LISTS,
      writes: [RULE, DEVICE],
      ruleDrift: { fields: ["vendorRef"] },
      repairs: ["firewallRule web"],
    },
  },
  {
    name: "Report: the rule is flagged (status.drift, Drifted) and the appliance left alone",
    device: withDrift("Report"),
    rules: [appliedRule()],
    setup: (w) => {
      w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" }, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: LISTS,
      writes: [RULE, DEVICE],
      ruleDrift: { fields: ["spec"], action: "Reported" },
      ruleConditions: ["Drifted=True/ApplianceDiffers", "Ready=True/Applied"],
      events: ["Warning DriftDetected"],
      repairs: [],
    },
  },
  {
    name: "Report: the same drift found again → nothing written (no Event storm, no status churn)",
    device: withDrift("Report"),
    rules: [
      appliedRule({
        drift: { detectedAt: T0, fields: ["spec"], action: "Reported" },
        conditions: [
          { ...readyCondition(), reason: "Applied" },
          { ...readyCondition(), type: "Drifted", reason: "ApplianceDiffers" },
        ],
      }),
    ],
    setup: (w) => {
      w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" }, marker: MARKER_WEB }, "7");
    },
    expect: { calls: LISTS, writes: [], events: [] },
  },
  {
    name: "Report: a flag that no longer holds is cleared",
    device: withDrift("Report"),
    rules: [
      appliedRule({
        drift: { detectedAt: T0, fields: ["spec"], action: "Reported" },
        conditions: [
          { ...readyCondition(), reason: "Applied" },
          { ...readyCondition(), type: "Drifted", reason: "ApplianceDiffers" },
        ],
      }),
    ],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: LISTS,
      writes: [RULE, DEVICE],
      ruleDrift: undefined,
      ruleConditions: ["Ready=True/Applied"],
    },
  },
  {
    name: "Repair: an object with our marker whose rule no longer exists is left in place and reported, never deleted",
    device: withDrift("Repair"),
    rules: [],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: markerOf("uid-gone") }, "9");
    },
    // A verbatim copy of a managed rule's marker looks exactly like this: no delete, no activation.
    expect: { calls: LISTS, writes: [], events: ["Warning OrphansFound"] },
  },
  {
    name: "Repair, unmanaged Report: such an object is counted and listed with the unmanaged ones",
    device: withDrift("Repair", "Report"),
    rules: [],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: markerOf("uid-gone") }, "9");
    },
    expect: {
      calls: LISTS,
      writes: [DEVICE],
      events: ["Warning OrphansFound"],
      deviceStatus: {
        unmanagedObjects: 1,
        unmanagedObjectList: [{ kind: "VnfFirewallRule", vendorRef: "9", importable: false }],
      },
    },
  },
  {
    name: "sharding: the device handed over while it was listed: the check stops, nothing is an orphan",
    device: withDrift("Repair"),
    rules: [],
    // The handover drops the device's rules from this replica's caches: every object of ours would
    // look like an orphan if the check went on.
    options: { owns: () => handover.owned },
    setup: (w) => {
      handover.owned = true;
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: "uid-other-replica" }, "9");
      const list = w.session.list.bind(w.session);
      w.session.list = async (...args) => {
        const objects = await list(...args);
        handover.owned = false;
        return objects;
      };
    },
    expect: { calls: ["list firewallRule"], writes: [], events: [] },
  },
  {
    name: "Report: an orphan of ours is left alone and reported",
    device: withDrift("Report"),
    rules: [],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: markerOf("uid-gone") }, "9");
    },
    expect: { calls: LISTS, writes: [], events: ["Warning OrphansFound"] },
  },
  {
    name: "unmanaged: Report counts and lists objects that are not ours (also disowned ones), never deletes them",
    device: withDrift("Repair", "Report"),
    rules: [],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC }, "1");
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: disownedMarker("uid-old") }, "2");
      const first = w.session.objects.get("1");
      if (first) first.importable = true;
    },
    expect: {
      calls: LISTS,
      writes: [DEVICE],
      deviceStatus: {
        unmanagedObjects: 2,
        unmanagedObjectList: [
          { kind: "VnfFirewallRule", vendorRef: "1", importable: true },
          { kind: "VnfFirewallRule", vendorRef: "2", importable: false },
        ],
      },
    },
  },
  {
    name: "unmanaged: Report, nothing changed since the last check (keys in the API server's order): no write",
    device: withDrift("Repair", "Report", {
      unmanagedObjects: 1,
      unmanagedObjectList: [{ importable: false, vendorRef: "1", kind: "VnfFirewallRule" }],
    }),
    rules: [],
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC }, "1");
    },
    expect: { calls: LISTS, writes: [] },
  },
  {
    name: "unmanaged: Report lists at most 50, the count says how many there are",
    device: withDrift("Repair", "Report"),
    rules: [],
    setup: (w) => {
      for (let i = 0; i < 60; i++) w.session.put("firewallRule", { spec: FIREWALL_SPEC }, String(1000 + i));
    },
    expect: { calls: LISTS, writes: [DEVICE], deviceStatus: { unmanagedObjects: 60 }, unmanagedListed: 50 },
  },
  {
    name: "unmanaged: Ignore removes a count and a list left from Report",
    device: withDrift("Repair", "Ignore", {
      unmanagedObjects: 3,
      unmanagedObjectList: [{ kind: "VnfFirewallRule", vendorRef: "1", importable: true }],
    }),
    rules: [],
    expect: {
      calls: LISTS,
      writes: [DEVICE],
      deviceStatusAbsent: ["unmanagedObjects", "unmanagedObjectList"],
    },
  },
  {
    name: "a rule with an intent in flight is not compared (it may be mid-write)",
    device: withDrift("Repair"),
    rules: [
      appliedRule({ pendingOperation: { operation: "update", opHash: HASH, startedAt: T0, attempt: 1 } }),
    ],
    expect: { calls: LISTS, writes: [], repairs: [] },
  },
  {
    name: "the appliance list fails: an error (retried with backoff), nothing recorded",
    device: withDrift("Repair"),
    rules: [appliedRule()],
    setup: (w) => {
      w.session.script("list", vnfError("VNF_TIMEOUT"));
    },
    expect: { calls: ["list firewallRule"], writes: [], repairs: [], result: "throws" },
  },
];

describe("drift reconciler", () => {
  it.each(cases)("$name", async (c) => {
    const objects: Array<[ResourceType, KubeObject]> = [
      [resources.device, c.device ?? device()],
      [CoreResources.secrets, secret()],
      ...(c.rules ?? []).map((r): [ResourceType, KubeObject] => [resources.firewallRule, r]),
    ];
    const w = world(objects, c.options);
    c.setup?.(w);
    const outcome = await w.reconcileDrift().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (c.expect.result === "throws") expect("error" in outcome, "the reconcile should fail").toBe(true);
    else {
      if ("error" in outcome) throw outcome.error;
      if ("result" in c.expect) expect(outcome.result).toEqual(c.expect.result);
    }
    expect(w.session.calls).toEqual(c.expect.calls);
    expect(w.kube.summary()).toEqual(c.expect.writes);
    if ("ruleDrift" in c.expect) {
      if (c.expect.ruleDrift === undefined) expect(w.rule()?.status?.drift).toBeUndefined();
      else expect(w.rule()?.status?.drift).toMatchObject(c.expect.ruleDrift as object);
    }
    if (c.expect.ruleConditions) expect(conditionsOf(w.rule())).toEqual(c.expect.ruleConditions);
    if (c.expect.deviceStatus) expect(w.device()?.status).toMatchObject(c.expect.deviceStatus);
    for (const field of c.expect.deviceStatusAbsent ?? [])
      expect(w.device()?.status ?? {}).not.toHaveProperty(field);
    if (c.expect.unmanagedListed !== undefined)
      expect(w.device()?.status?.unmanagedObjectList).toHaveLength(c.expect.unmanagedListed);
    if (c.expect.events) expect(w.events.summary()).toEqual(c.expect.events);
    if (c.expect.repairs) expect(w.enqueued).toEqual(c.expect.repairs);
    // The drift controller never writes the rule controller's journal.
    for (const body of w.kube.applied("vnf-drift-controller")) {
      expect(
        Object.keys(body).every((k) =>
          ["drift", "conditions", "unmanagedObjects", "unmanagedObjectList", "lastDriftCheckTime"].includes(
            k,
          ),
        ),
      ).toBe(true);
    }
  });

  it("a check is not repeated within the interval; a repaired rule is in sync at the next one", async () => {
    const w = world([
      [resources.device, withDrift("Repair")],
      [CoreResources.secrets, secret()],
      [resources.firewallRule, appliedRule()],
    ]);
    expect(await w.reconcileDrift()).toEqual({ requeueAfterMs: 300_000 });
    expect(w.repairs.pending("uid-web", HASH)).toEqual({ opHash: HASH });
    // The rule controller performs the repair, then the next check finds the rule in sync.
    await w.reconcileRule();
    expect(w.repairs.size).toBe(0);
    expect(w.session.calls).toEqual([
      ...LISTS,
      "get firewallRule 7",
      "findByMarker firewallRule",
      "create firewallRule",
      "activate",
    ]);
    expect(w.rule()?.status).toMatchObject({ vendorRef: "100", opHash: HASH, drift: { action: "Repaired" } });
    expect(w.events.summary()).toContain("Normal Repaired");
    // Within the interval: no check.
    w.advance(60_000);
    expect(await w.reconcileDrift()).toEqual({ requeueAfterMs: 240_000 });
    expect(w.session.calls.filter((c) => c.startsWith("list"))).toHaveLength(2);
    // An interval later: the repaired rule is in sync; nothing requested, nothing written.
    w.advance(240_000);
    const writes = w.kube.summary().length;
    expect(await w.reconcileDrift()).toEqual({ requeueAfterMs: 300_000 });
    expect(w.session.calls.filter((c) => c.startsWith("list"))).toHaveLength(4);
    expect(w.repairs.size).toBe(0);
    expect(w.kube.summary()).toHaveLength(writes);
  });
});
