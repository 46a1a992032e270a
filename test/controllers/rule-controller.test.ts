// The rule reconciler's execute path against fakes (cert-manager's expected-actions style): for each
// plan step and each appliance error code, the appliance calls it makes, the API writes, the status
// and Events it leaves, and what it asks of the work queue. No API server, no appliance.
import { describe, expect, it } from "vitest";
import { resourceTypes as resources } from "../../src/api/group.ts";
import type { VnfDevice, VnfRule } from "../../src/api/types.ts";
import { ERROR_CODE_TABLE, ERROR_CODES } from "../../src/dictionary/errors.ts";
import type { ReconcileResult } from "../../src/runtime/controller.ts";
import { CoreResources, type KubeObject, type ResourceType } from "../../src/runtime/resource.ts";
import { opHashOf, vnfError } from "./fakes/fake-session.ts";
import {
  conditionsOf,
  context,
  device,
  FIREWALL_SPEC,
  MARKER_WEB,
  NS,
  readyCondition,
  rule,
  STALLED_RETRY,
  secret,
  T0,
  type World,
  type WorldOptions,
  world,
} from "./fakes/world.ts";

const HASH = opHashOf({ spec: FIREWALL_SPEC, marker: MARKER_WEB });
const EDITED = { ...FIREWALL_SPEC, description: "web v2" };
const HASH_EDITED = opHashOf({ spec: EDITED, marker: MARKER_WEB });
const APPLY = "apply-status vnffirewallrules/web";
const FINALIZER_PATCH = "patch vnffirewallrules/web";

/** The status of a rule applied as vendorRef "7" with the base spec. */
const applied = (extra: Partial<NonNullable<VnfRule["status"]>> = {}): VnfRule["status"] => ({
  observedGeneration: 1,
  vendorRef: "7",
  opHash: HASH,
  appliedAt: T0,
  lastSyncTime: T0,
  conditions: [{ ...readyCondition(), reason: "Applied" }],
  ...extra,
});
const pending = (operation: "create" | "update" | "delete", opHash = HASH, vendorRef?: string) => ({
  operation,
  opHash,
  startedAt: T0,
  attempt: 1,
  deviceEpoch: "1/10",
  ...(vendorRef ? { vendorRef } : {}),
});

interface RuleCase {
  name: string;
  rule?: Parameters<typeof rule>[0];
  /** The device object; null: none. Default: Ready. */
  device?: VnfDevice | null;
  options?: WorldOptions;
  setup?: (w: World) => void;
  expect: {
    calls: string[];
    writes: string[];
    conditions?: string[];
    status?: Record<string, unknown>;
    events?: string[];
    result?: ReconcileResult | "throws";
    /** The rule is gone from the API server (last finalizer released). */
    gone?: boolean;
  };
}

const retryable = ERROR_CODES.filter((code) => ERROR_CODE_TABLE[code].retryable);
// VNF_AUTH is the device's matter first (needs-a-human.test.ts has its whole story).
const terminal = ERROR_CODES.filter((code) => !ERROR_CODE_TABLE[code].retryable && code !== "VNF_AUTH");
/** A Stalled rule is looked at again after the stalled backoff (1 min the first time). */
const STALLED_REQUEUE = { requeueAfterMs: STALLED_RETRY.initialMs };

const cases: RuleCase[] = [
  // ---- before any appliance call
  {
    name: "a new rule gets the finalizer first, nothing else",
    rule: { finalizer: false },
    expect: { calls: [], writes: [FINALIZER_PATCH] },
  },
  {
    name: "device missing (rule just created): waits with DeviceNotFound until the grace period ends",
    device: null,
    options: { session: "none" },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/DeviceNotFound"],
      result: { requeueAfterMs: 120_000 },
    },
  },
  {
    name: "device not Ready: waits with DeviceNotReady",
    device: device({}, { conditions: [{ ...readyCondition(), status: "False", reason: "VNF_AUTH" }] }),
    options: { session: "notReady" },
    expect: { calls: [], writes: [APPLY], conditions: ["Ready=False/DeviceNotReady"] },
  },
  {
    name: "device suspended: Suspended=True DeviceSuspended and no Ready, nothing sent",
    device: device({ suspend: true }),
    expect: { calls: [], writes: [APPLY], conditions: ["Suspended=True/DeviceSuspended"] },
  },
  {
    name: "device Ready by status but its session not rebuilt yet (restart): quiet requeue, no write",
    options: { session: "none" },
    expect: { calls: [], writes: [], result: { requeueAfterMs: 2000 } },
  },
  {
    name: "the request cannot be rendered: Stalled BROKER_INVALID_REQUEST with a Warning",
    setup: (w) => {
      w.session.renderError = "no template for protocol sctp";
    },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/BROKER_INVALID_REQUEST", "Stalled=True/BROKER_INVALID_REQUEST"],
      events: ["Warning InvalidRequest"],
      result: STALLED_REQUEUE,
    },
  },
  {
    name: "in sync: no appliance call and no write",
    rule: { status: applied() },
    expect: { calls: [], writes: [] },
  },
  {
    name: "a spec change that renders the same request: observedGeneration recorded, no appliance call",
    rule: { generation: 2, spec: { deletionPolicy: "Orphan" }, status: applied() },
    expect: {
      calls: [],
      writes: [APPLY],
      status: { observedGeneration: 2 },
      conditions: ["Ready=True/Applied"],
    },
  },
  {
    name: "back from a device outage, in sync: Ready again without an appliance call",
    rule: {
      status: applied({
        conditions: [{ ...readyCondition(), status: "False", reason: "DeviceNotReady" }],
      }),
    },
    expect: { calls: [], writes: [APPLY], conditions: ["Ready=True/Applied"] },
  },
  {
    // Not due only after a stall this operator saw (needs-a-human.test.ts): Stalled is not forever.
    name: "stalled on the same inputs, first look since the operator started: tried once more",
    rule: {
      status: {
        observedGeneration: 1,
        errorCode: "VNF_INVALID",
        pendingOperation: pending("create"),
        conditions: [
          { ...readyCondition(), status: "False", reason: "VNF_INVALID" },
          { ...readyCondition(), type: "Stalled", reason: "VNF_INVALID" },
        ],
      },
    },
    expect: {
      calls: ["findByMarker firewallRule", "create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=True/Applied"],
    },
  },

  // ---- create
  {
    name: "create: intent, create, activate, outcome",
    expect: {
      calls: ["create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=True/Applied"],
      status: { vendorRef: "100", opHash: HASH, observedGeneration: 1, appliedAt: "2026-02-03T04:05:06Z" },
      events: ["Normal RulesCreated"],
    },
  },
  {
    name: "create after a crash (intent pending): our object found by marker is adopted, not created again",
    rule: { status: { pendingOperation: pending("create") } },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "55");
    },
    expect: {
      calls: ["findByMarker firewallRule", "activate"],
      writes: [APPLY, APPLY],
      status: { vendorRef: "55", opHash: HASH },
      events: ["Normal Adopted"],
    },
  },
  {
    name: "create after a crash, our object found but different: adopted and updated",
    rule: { status: { pendingOperation: pending("create") } },
    setup: (w) => {
      w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" }, marker: MARKER_WEB }, "55");
    },
    expect: {
      calls: ["findByMarker firewallRule", "update firewallRule 55", "activate"],
      writes: [APPLY, APPLY],
      status: { vendorRef: "55" },
      events: ["Normal Adopted"],
    },
  },
  {
    name: "create after a crash that never reached the appliance: looked up, then created",
    rule: { status: { pendingOperation: pending("create") } },
    expect: {
      calls: ["findByMarker firewallRule", "create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      status: { vendorRef: "100" },
      events: ["Normal RulesCreated"],
    },
  },
  {
    name: "create: two objects carry our marker: Stalled VNF_CONFLICT, nothing written to the appliance",
    rule: { status: { pendingOperation: pending("create") } },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "55");
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "56");
    },
    expect: {
      calls: ["findByMarker firewallRule"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_CONFLICT", "Stalled=True/VNF_CONFLICT"],
      events: ["Warning VNF_CONFLICT"],
      result: STALLED_REQUEUE,
    },
  },

  // ---- update
  {
    name: "spec changed: get, update in place, activate",
    rule: { generation: 2, spec: { description: "web v2" }, status: applied() },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: ["get firewallRule 7", "update firewallRule 7", "activate"],
      writes: [APPLY, APPLY],
      status: { vendorRef: "7", opHash: HASH_EDITED, observedGeneration: 2 },
      events: ["Normal Updated"],
    },
  },
  {
    name: "spec changed but the object was deleted behind our back: recreated (adoption checked first)",
    rule: { generation: 2, spec: { description: "web v2" }, status: applied() },
    expect: {
      calls: ["get firewallRule 7", "findByMarker firewallRule", "create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      status: { vendorRef: "100", opHash: HASH_EDITED },
      events: ["Normal RulesCreated"],
    },
  },
  {
    name: "update after a crash whose write landed: verified, recorded without sending it again",
    rule: {
      generation: 2,
      spec: { description: "web v2" },
      status: applied({ pendingOperation: pending("update", HASH_EDITED, "7") }),
    },
    setup: (w) => {
      w.session.put("firewallRule", { spec: EDITED, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: ["get firewallRule 7", "activate"],
      writes: [APPLY, APPLY],
      status: { opHash: HASH_EDITED, appliedAt: T0 },
      conditions: ["Ready=True/Applied"],
      events: [],
    },
  },
  {
    name: "stalled, then the device's epoch changed (credentials rotated): tried again",
    rule: {
      status: {
        errorCode: "VNF_AUTH",
        pendingOperation: { ...pending("create"), deviceEpoch: "0/1" },
        conditions: [{ ...readyCondition(), type: "Stalled", reason: "VNF_AUTH" }],
      },
    },
    expect: {
      calls: ["findByMarker firewallRule", "create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=True/Applied"],
    },
  },

  // ---- errors, by code (create path)
  ...retryable.map(
    (code): RuleCase => ({
      name: `create fails with ${code} (retryable): Ready=False ${code}, Reconciling, backoff requeue`,
      setup: (w) => {
        w.session.script("create", vnfError(code));
      },
      expect: {
        calls: ["create firewallRule"],
        writes: [APPLY, APPLY],
        conditions: [`Ready=False/${code}`, "Reconciling=True/RetryingAfterError"],
        status: { errorCode: code, pendingOperation: { operation: "create", opHash: HASH, attempt: 1 } },
        events: [`Warning ${code}`],
        result: { requeue: true },
      },
    }),
  ),
  ...terminal.map(
    (code): RuleCase => ({
      name: `create fails with ${code} (not retryable): Stalled ${code}, looked at again after the stalled backoff, intent kept`,
      setup: (w) => {
        w.session.script("create", vnfError(code));
      },
      expect: {
        calls: ["create firewallRule"],
        writes: [APPLY, APPLY],
        conditions: [`Ready=False/${code}`, `Stalled=True/${code}`],
        status: { errorCode: code, pendingOperation: { operation: "create", opHash: HASH } },
        events: [`Warning ${code}`],
        result: STALLED_REQUEUE,
      },
    }),
  ),
  {
    name: "create fails with VNF_AUTH (after the session's fresh login): the device checks its credentials again, the rule retries",
    setup: (w) => {
      w.session.script("create", vnfError("VNF_AUTH"));
    },
    expect: {
      calls: ["create firewallRule"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_AUTH", "Reconciling=True/CredentialsRecheck"],
      status: { errorCode: "VNF_AUTH", pendingOperation: { operation: "create", opHash: HASH } },
      events: ["Warning VNF_AUTH"],
      result: { requeue: true },
    },
  },
  {
    name: "429 with Retry-After: requeued after exactly that long",
    setup: (w) => {
      w.session.script("create", vnfError("VNF_RATE_LIMIT", { retryAfterMs: 7000 }));
    },
    expect: {
      calls: ["create firewallRule"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_RATE_LIMIT", "Reconciling=True/RetryingAfterError"],
      events: ["Warning VNF_RATE_LIMIT"],
      result: { requeueAfterMs: 7000 },
    },
  },
  {
    name: "a Retry-After longer than --max-retry-delay (60 s): tried again after 60 s",
    setup: (w) => {
      w.session.script("create", vnfError("VNF_CAPACITY", { retryAfterMs: 600_000 }));
    },
    expect: {
      calls: ["create firewallRule"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_CAPACITY", "Reconciling=True/RetryingAfterError"],
      result: { requeueAfterMs: 60_000 },
    },
  },
  {
    name: "the activation fails after the create: retrying, the intent stays (the next attempt verifies)",
    setup: (w) => {
      w.session.script("activate", vnfError("VNF_UPSTREAM"));
    },
    expect: {
      calls: ["create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_UPSTREAM", "Reconciling=True/RetryingAfterError"],
      status: { pendingOperation: { operation: "create" } },
      result: { requeue: true },
    },
  },
  {
    name: "update fails with VNF_INVALID: Stalled, the update's intent kept",
    rule: { generation: 2, spec: { description: "web v2" }, status: applied() },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
      w.session.script("update", vnfError("VNF_INVALID"));
    },
    expect: {
      calls: ["get firewallRule 7", "update firewallRule 7"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_INVALID", "Stalled=True/VNF_INVALID"],
      status: {
        vendorRef: "7",
        opHash: HASH,
        pendingOperation: { operation: "update", opHash: HASH_EDITED },
      },
      result: STALLED_REQUEUE,
    },
  },

  // ---- API server errors
  {
    name: "409 on the intent write (the rule changed since it was read): nothing sent to the appliance",
    setup: (w) => w.kube.fail({ verb: "apply-status", status: 409 }),
    expect: { calls: [], writes: [`${APPLY} -> 409`], result: "throws" },
  },
  {
    name: "410 Gone on the intent write: an error (retried), nothing sent to the appliance",
    setup: (w) => w.kube.fail({ verb: "apply-status", status: 410 }),
    expect: { calls: [], writes: [`${APPLY} -> 410`], result: "throws" },
  },
  {
    name: "500 on the outcome write: an error (retried); the intent stays on the API server",
    setup: (w) => w.kube.fail({ verb: "apply-status", status: 500, skip: 1 }),
    expect: {
      calls: ["create firewallRule", "activate"],
      writes: [APPLY, `${APPLY} -> 500`],
      status: { pendingOperation: { operation: "create", opHash: HASH } },
      result: "throws",
    },
  },
  {
    name: "a conflict on the finalizer patch: an error (retried), nothing else",
    rule: { finalizer: false },
    setup: (w) => w.kube.fail({ verb: "patch", status: 409 }),
    expect: { calls: [], writes: [`${FINALIZER_PATCH} -> 409`], result: "throws" },
  },

  // ---- deletion
  {
    name: "delete: intent, delete by vendorRef, activate, finalizer released",
    rule: { deleting: true, status: applied() },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: ["delete firewallRule 7", "activate"],
      writes: [APPLY, FINALIZER_PATCH],
      events: ["Normal RulesDeleted"],
      gone: true,
    },
  },
  {
    name: "delete of a rule whose create may have landed: found by marker, deleted",
    rule: { deleting: true, status: { pendingOperation: pending("create") } },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "55");
    },
    expect: {
      calls: ["findByMarker firewallRule", "delete firewallRule 55", "activate"],
      writes: [APPLY, FINALIZER_PATCH],
      gone: true,
    },
  },
  {
    name: "delete after a crash between the delete and its activation: nothing left to delete, activated all the same",
    rule: { deleting: true, status: { pendingOperation: pending("delete") } },
    expect: {
      calls: ["findByMarker firewallRule", "activate"],
      writes: [APPLY, FINALIZER_PATCH],
      gone: true,
    },
  },
  {
    name: "delete of a rule never applied: finalizer released, no appliance call",
    rule: { deleting: true },
    expect: { calls: [], writes: [FINALIZER_PATCH], gone: true },
  },
  {
    name: "delete while the device is gone: released with a Warning",
    rule: { deleting: true, status: applied() },
    device: null,
    options: { session: "none" },
    expect: { calls: [], writes: [FINALIZER_PATCH], events: ["Warning DeviceMissing"], gone: true },
  },
  {
    name: "delete while the device is not Ready: waits, the finalizer stays",
    rule: { deleting: true, status: applied() },
    device: device({}, { conditions: [{ ...readyCondition(), status: "False", reason: "VNF_TIMEOUT" }] }),
    options: { session: "notReady" },
    expect: { calls: [], writes: [APPLY], conditions: ["Ready=False/DeviceNotReady"] },
  },
  {
    name: "delete fails with VNF_TIMEOUT: retried, the finalizer stays",
    rule: { deleting: true, status: applied() },
    setup: (w) => {
      w.session.script("delete", vnfError("VNF_TIMEOUT"));
    },
    expect: {
      calls: ["delete firewallRule 7"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=False/VNF_TIMEOUT", "Reconciling=True/RetryingAfterError"],
      events: ["Warning VNF_TIMEOUT"],
      result: { requeue: true },
    },
  },
  {
    name: "deletionPolicy Orphan: the object stays, its marker disowned, finalizer released",
    rule: { deleting: true, spec: { deletionPolicy: "Orphan" }, status: applied() },
    setup: (w) => {
      w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
    },
    expect: {
      calls: ["update firewallRule 7", "activate"],
      writes: [FINALIZER_PATCH],
      events: ["Normal Orphaned"],
      gone: true,
    },
  },
  {
    name: "deletionPolicy Orphan, the object already gone: released all the same",
    rule: { deleting: true, spec: { deletionPolicy: "Orphan" }, status: applied() },
    expect: {
      calls: ["update firewallRule 7"],
      writes: [FINALIZER_PATCH],
      events: ["Normal Orphaned"],
      gone: true,
    },
  },

  // ---- drift repair and rule numbers
  {
    name: "a repair the drift controller asked for: written again in full, recorded as a repair",
    rule: { status: applied() },
    setup: (w) => {
      w.session.put("firewallRule", { spec: { ...FIREWALL_SPEC, action: "deny" }, marker: MARKER_WEB }, "7");
      w.repairs.request("uid-web", { opHash: HASH });
    },
    expect: {
      calls: ["get firewallRule 7", "update firewallRule 7", "activate"],
      writes: [APPLY, APPLY],
      conditions: ["Ready=True/Applied"],
      events: ["Normal Repaired"],
    },
  },
  {
    name: "rule numbers: the first free one is allocated and recorded with the intent",
    setup: (w) => {
      w.session.ruleNumbers = { min: 10, max: 20 };
    },
    expect: {
      calls: ["create firewallRule", "activate"],
      writes: [APPLY, APPLY],
      status: { ruleNumber: 10, vendorRef: "100" },
    },
  },
  {
    name: "rule numbers exhausted: Stalled VNF_CAPACITY before any appliance call",
    setup: (w) => {
      w.session.ruleNumbers = { min: 1, max: 1 };
      w.kube.add(
        resources.firewallRule,
        rule({ name: "other", uid: "uid-other", status: { ruleNumber: 1 } }),
      );
    },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/VNF_CAPACITY", "Stalled=True/VNF_CAPACITY"],
      result: STALLED_REQUEUE,
    },
  },
];

describe("rule reconciler: execute path", () => {
  it.each(cases)("$name", async (c) => {
    const objects: Array<[ResourceType, KubeObject]> = [
      [CoreResources.secrets, secret()],
      [resources.firewallRule, rule(c.rule)],
    ];
    if (c.device !== null) objects.push([resources.device, c.device ?? device()]);
    const w = world(objects, c.options);
    c.setup?.(w);
    const outcome = await w.reconcileRule().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (c.expect.result === "throws") expect("error" in outcome, "the reconcile should fail").toBe(true);
    else {
      if ("error" in outcome) throw outcome.error;
      expect(outcome.result).toEqual(c.expect.result);
    }
    expect(w.session.calls).toEqual(c.expect.calls);
    expect(w.kube.summary()).toEqual(c.expect.writes);
    const stored = w.rule();
    if (c.expect.gone) expect(stored).toBeUndefined();
    if (c.expect.conditions) expect(conditionsOf(stored)).toEqual(c.expect.conditions);
    if (c.expect.status) expect(stored?.status).toMatchObject(c.expect.status);
    if (c.expect.events) expect(w.events.summary()).toEqual(c.expect.events);
  });
});

describe("rule reconciler: Events", () => {
  it("a routine create or delete is told once per device (an Event series), not per rule", async () => {
    const created = world([
      [CoreResources.secrets, secret()],
      [resources.firewallRule, rule()],
      [resources.device, device()],
    ]);
    await created.reconcileRule();
    expect(created.events.recorded).toMatchObject([
      {
        type: "Normal",
        reason: "RulesCreated",
        about: "edge",
        note: expect.stringContaining("VnfFirewallRule"),
      },
    ]);
    const deleted = world([
      [CoreResources.secrets, secret()],
      [resources.firewallRule, rule({ deleting: true, status: applied() })],
      [resources.device, device()],
    ]);
    await deleted.reconcileRule();
    expect(deleted.events.recorded).toMatchObject([
      { type: "Normal", reason: "RulesDeleted", about: "edge" },
    ]);
    // The same note every time: the recorder turns repeats into one Event whose count grows.
    expect(deleted.events.recorded[0]?.note).toBe(
      created.events.recorded[0]?.note.replace("created on", "deleted from"),
    );
  });
});

describe("rule reconciler: journal safety across attempts", () => {
  it("a failed outcome write leaves the intent; the next reconcile verifies instead of creating twice", async () => {
    const w = world([
      [CoreResources.secrets, secret()],
      [resources.device, device()],
      [resources.firewallRule, rule()],
    ]);
    w.kube.fail({ verb: "apply-status", status: 500, skip: 1 });
    await expect(w.reconcileRule()).rejects.toThrow(/500/);
    expect(w.rule()?.status?.pendingOperation).toMatchObject({ operation: "create", opHash: HASH });
    await w.reconcileRule();
    expect(w.session.calls).toEqual([
      "create firewallRule",
      "activate",
      "findByMarker firewallRule",
      "activate",
    ]);
    expect(w.session.objects.size).toBe(1);
    expect(w.rule()?.status).toMatchObject({ vendorRef: "100", opHash: HASH });
    expect(w.rule()?.status?.pendingOperation).toBeUndefined();
  });

  it("the rule controller writes only its own fields: the drift record survives its writes", async () => {
    const w = world([
      [CoreResources.secrets, secret()],
      [resources.device, device()],
      [resources.firewallRule, rule({ generation: 2, spec: { description: "web v2" }, status: applied() })],
    ]);
    w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: MARKER_WEB }, "7");
    const drift = { detectedAt: T0, fields: ["action"], action: "Repaired" as const };
    // The drift controller's record, applied under its own field manager.
    await w.kube.request({
      method: "PATCH",
      path: `/apis/vnf-operator.io/v1alpha1/namespaces/${NS}/vnffirewallrules/web/status`,
      query: { fieldManager: "vnf-drift-controller", force: true },
      contentType: "application/apply-patch+yaml",
      body: { status: { drift } },
    });
    await w.reconcileRule();
    expect(w.rule()?.status?.drift).toEqual(drift);
    for (const body of w.kube.applied("vnf-rule-controller")) expect(body).not.toHaveProperty("drift");
  });
});

describe("rule reconciler: cancellation (shutdown, lost lease)", () => {
  const setup = () =>
    world([
      [CoreResources.secrets, secret()],
      [resources.device, device()],
      [resources.firewallRule, rule()],
    ]);

  it("aborted during the create: nothing more is sent, nothing recorded beyond the intent", async () => {
    const w = setup();
    w.session.script("create", "hang");
    const stop = new AbortController();
    const running = w.reconcileRule("web", context(stop.signal));
    await waitFor(() => w.session.calls.length === 1);
    stop.abort(new Error("leader election lost"));
    await expect(running).rejects.toThrow("leader election lost");
    expect(w.session.calls).toEqual(["create firewallRule"]);
    expect(w.kube.summary()).toEqual([APPLY]); // the intent only: the next leader verifies
    expect(w.rule()?.status?.pendingOperation).toMatchObject({ operation: "create" });
    expect(w.events.summary()).toEqual([]);
  });

  it("aborted while waiting for the activation: the wait ends, no outcome is written", async () => {
    const w = setup();
    w.session.script("activate", "hang");
    const stop = new AbortController();
    const running = w.reconcileRule("web", context(stop.signal));
    await waitFor(() => w.session.calls.includes("activate"));
    stop.abort(new Error("shutdown"));
    await expect(running).rejects.toThrow("shutdown");
    expect(w.kube.summary()).toEqual([APPLY]);
  });

  it("a reconcile that starts after the abort sends nothing to the appliance nor to the API server", async () => {
    const w = setup();
    const stop = new AbortController();
    stop.abort(new Error("leader election lost"));
    await expect(w.reconcileRule("web", context(stop.signal))).rejects.toThrow();
    expect(w.session.calls).toEqual([]);
    expect(w.kube.summary({ gets: true })).toEqual([]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(condition()).toBe(true);
}
