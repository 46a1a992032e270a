import { describe, expect, it } from "vitest";
import {
  mayHoldUnrecordedObject,
  planRule,
  type RuleFacts,
  type RulePlan,
} from "../../../src/controllers/rule-plan.ts";

const ready = { state: "ready", epoch: "3/100" } as const;

function facts(overrides: Partial<RuleFacts>): RuleFacts {
  return {
    generation: 2,
    deleting: false,
    hasFinalizer: true,
    deletionPolicy: "Delete",
    device: ready,
    desired: { opHash: "h2" },
    ...overrides,
  };
}

const inSyncFacts = { observedGeneration: 2, appliedOpHash: "h2", vendorRef: "1700000001" };

const cases: Array<[string, Partial<RuleFacts>, RulePlan]> = [
  // creation path
  ["new rule gets the finalizer before anything else", { hasFinalizer: false }, { step: "addFinalizer" }],
  [
    "finalizer before the device check, so cleanup is always possible",
    { hasFinalizer: false, device: { state: "missing" } },
    { step: "addFinalizer" },
  ],
  [
    "device missing within the grace period: wait, and look again when it ends",
    {
      device: { state: "missing" },
      deviceGraceLeftMs: 90_000,
      deviceRef: { namespace: "prod", name: "edge" },
    },
    {
      step: "waitForDevice",
      reason: "DeviceNotFound",
      message: "VnfDevice edge does not exist (yet): waiting up to 90 s more for it, then Stalled",
      retryInMs: 90_000,
    },
  ],
  [
    "device missing past the grace period: Stalled, saying what to do",
    { device: { state: "missing" }, deviceGraceLeftMs: 0, deviceRef: { namespace: "prod", name: "edge" } },
    {
      step: "blockedByDevice",
      reason: "DeviceNotFound",
      message:
        "VnfDevice edge does not exist in namespace prod: create it, or delete this rule and create it again with the right device (spec.deviceRef is immutable)",
    },
  ],
  [
    "device Stalled (a person must act on it): the rule is Stalled too, naming the device's problem",
    {
      device: { state: "stalled", epoch: "3/100", reason: "VNF_AUTH", message: "credentials refused" },
      deviceRef: { namespace: "prod", name: "edge" },
    },
    {
      step: "blockedByDevice",
      reason: "DeviceStalled",
      message:
        "VnfDevice edge is Stalled (VNF_AUTH: credentials refused); this rule resumes by itself when the device is Ready",
    },
  ],
  [
    "device not ready: wait with its reason",
    { device: { state: "notReady", epoch: "1/100", reason: "VNF_AUTH", message: "login refused" } },
    {
      step: "waitForDevice",
      reason: "DeviceNotReady",
      message: "the VnfDevice is not Ready (VNF_AUTH: login refused)",
    },
  ],
  [
    "device suspended: suspended too",
    { device: { state: "suspended", epoch: "4/100" } },
    {
      step: "suspend",
      message: "the VnfDevice is suspended (spec.suspend): nothing is sent to the appliance",
    },
  ],
  [
    "unrenderable rule stalls",
    { desired: { renderError: "template error: x" } },
    { step: "stallInvalid", message: "template error: x" },
  ],
  [
    "never applied: create (with adoption)",
    {},
    { step: "apply", action: "create", opHash: "h2", verifyFirst: false },
  ],
  ["steady state: nothing to do", inSyncFacts, { step: "inSync", recordGeneration: false }],
  [
    "spec change that renders the same request: only record the generation",
    { ...inSyncFacts, generation: 3 },
    { step: "inSync", recordGeneration: true },
  ],
  [
    "spec changed (generation ahead): update",
    { ...inSyncFacts, generation: 3, desired: { opHash: "h3" } },
    { step: "apply", action: "update", opHash: "h3", vendorRef: "1700000001", verifyFirst: false },
  ],
  [
    "device parameters changed the request (same generation): update",
    { ...inSyncFacts, desired: { opHash: "h9" } },
    { step: "apply", action: "update", opHash: "h9", vendorRef: "1700000001", verifyFirst: false },
  ],
  [
    "generation bumped without a request change (e.g. description-only no-op): re-verify, no blind send",
    { ...inSyncFacts, generation: 3, pendingOperation: { operation: "update", opHash: "h2" } },
    { step: "apply", action: "update", opHash: "h2", vendorRef: "1700000001", verifyFirst: true },
  ],
  [
    "crash after create, before status: create again means adopt-by-marker, verify first",
    { pendingOperation: { operation: "create", opHash: "h2" } },
    { step: "apply", action: "create", opHash: "h2", verifyFirst: true },
  ],
  [
    "an intent for an older spec (edited after a create that may have landed): look first, adopt, update",
    { pendingOperation: { operation: "create", opHash: "h1" } },
    { step: "apply", action: "create", opHash: "h2", verifyFirst: true },
  ],
  [
    "an update intent for an older spec: compare first",
    {
      ...inSyncFacts,
      generation: 3,
      desired: { opHash: "h3" },
      pendingOperation: { operation: "update", opHash: "h2" },
    },
    { step: "apply", action: "update", opHash: "h3", vendorRef: "1700000001", verifyFirst: true },
  ],
  [
    "applied once but the vendorRef is gone from the status: look first",
    { observedGeneration: 2, appliedOpHash: "h1" },
    { step: "apply", action: "create", opHash: "h2", verifyFirst: true },
  ],
  [
    "stalled on the same inputs, not due: stay stalled, look again when due",
    {
      stalledOn: { generation: 2, opHash: "h2", deviceEpoch: "3/100" },
      stallRetry: { due: false, inMs: 5000 },
    },
    { step: "stayStalled", inMs: 5000 },
  ],
  [
    "stalled on the same inputs, due (backoff over, or the device recovered since): try again",
    { stalledOn: { generation: 2, opHash: "h2", deviceEpoch: "3/100" }, stallRetry: { due: true } },
    { step: "apply", action: "create", opHash: "h2", verifyFirst: false },
  ],
  [
    "stalled, then the device changed: try again",
    { stalledOn: { generation: 2, opHash: "h2", deviceEpoch: "2/100" } },
    { step: "apply", action: "create", opHash: "h2", verifyFirst: false },
  ],
  [
    "stalled, then the spec changed: try again",
    {
      generation: 3,
      desired: { opHash: "h3" },
      stalledOn: { generation: 2, opHash: "h2", deviceEpoch: "3/100" },
    },
    { step: "apply", action: "create", opHash: "h3", verifyFirst: false },
  ],
  // deletion path
  ["deleted without our finalizer: done", { deleting: true, hasFinalizer: false }, { step: "done" }],
  [
    "Orphan policy: disown the appliance object (so drift never takes it for our orphan), then release",
    { ...inSyncFacts, deleting: true, deletionPolicy: "Orphan" },
    { step: "disownOnAppliance", vendorRef: "1700000001" },
  ],
  [
    "Orphan policy, create intent without vendorRef: disown by marker (the create may have landed)",
    { deleting: true, deletionPolicy: "Orphan", pendingOperation: { operation: "create", opHash: "h2" } },
    { step: "disownOnAppliance" },
  ],
  [
    "Orphan policy, never applied: release at once",
    { deleting: true, deletionPolicy: "Orphan" },
    { step: "releaseFinalizer", why: "orphaned" },
  ],
  [
    "Orphan policy, device gone: release (nothing can be disowned)",
    { ...inSyncFacts, deleting: true, deletionPolicy: "Orphan", device: { state: "missing" } },
    { step: "releaseFinalizer", why: "deviceMissing" },
  ],
  [
    "Orphan policy, appliance down: wait, disown after recovery",
    {
      ...inSyncFacts,
      deleting: true,
      deletionPolicy: "Orphan",
      device: { state: "notReady", epoch: "3/100", reason: "VNF_UNREACHABLE", message: "refused" },
    },
    {
      step: "waitForDevice",
      reason: "DeviceNotReady",
      message:
        "the VnfDevice is not Ready (VNF_UNREACHABLE); the appliance object is disowned (deletionPolicy Orphan) when it recovers",
    },
  ],
  [
    "device gone: nothing can be cleaned, release",
    { ...inSyncFacts, deleting: true, device: { state: "missing" } },
    { step: "releaseFinalizer", why: "deviceMissing" },
  ],
  [
    "never applied and no intent: release at once",
    { deleting: true },
    { step: "releaseFinalizer", why: "deleted" },
  ],
  [
    "applied: delete by vendorRef",
    { ...inSyncFacts, deleting: true },
    { step: "deleteOnAppliance", vendorRef: "1700000001" },
  ],
  [
    "create intent without vendorRef: delete by marker (the create may have landed)",
    { deleting: true, pendingOperation: { operation: "create", opHash: "h2" } },
    { step: "deleteOnAppliance" },
  ],
  [
    "appliance down during delete: wait, then complete after recovery",
    {
      ...inSyncFacts,
      deleting: true,
      device: {
        state: "notReady",
        epoch: "3/100",
        reason: "VNF_UNREACHABLE",
        message: "connect ECONNREFUSED",
      },
    },
    {
      step: "waitForDevice",
      reason: "DeviceNotReady",
      message: "the VnfDevice is not Ready (VNF_UNREACHABLE); deletion completes when it recovers",
    },
  ],
  [
    "device suspended during delete: suspended, deleted on resume",
    { ...inSyncFacts, deleting: true, device: { state: "suspended", epoch: "3/100" } },
    {
      step: "suspend",
      message:
        "the VnfDevice is suspended (spec.suspend): nothing is sent to the appliance; the appliance object is deleted when it resumes",
    },
  ],
  [
    "device Stalled during delete: deletion blocked, saying what to do",
    {
      ...inSyncFacts,
      deleting: true,
      device: { state: "stalled", epoch: "3/100", reason: "VNF_AUTH", message: "credentials refused" },
    },
    {
      step: "blockedByDevice",
      reason: "DeviceStalled",
      message:
        "deletion blocked: the referenced VnfDevice is Stalled (VNF_AUTH: credentials refused); the appliance object is deleted as soon as the device is Ready (to give up on it instead, remove the finalizer vnf-operator.io/cleanup)",
    },
  ],
  // drift repair (asked for by the drift controller)
  [
    "repair requested on an in-sync rule: write it again in full, without comparing first",
    { ...inSyncFacts, repair: {} },
    {
      step: "apply",
      action: "update",
      opHash: "h2",
      vendorRef: "1700000001",
      verifyFirst: false,
      repair: true,
    },
  ],
  [
    "repair of an object found under another id: update that one",
    { ...inSyncFacts, repair: { vendorRef: "1700000099" } },
    {
      step: "apply",
      action: "update",
      opHash: "h2",
      vendorRef: "1700000099",
      verifyFirst: false,
      repair: true,
    },
  ],
  [
    "repair requested but the spec changed meanwhile: the ordinary update, which completes the repair",
    { ...inSyncFacts, appliedOpHash: "h1", repair: {} },
    {
      step: "apply",
      action: "update",
      opHash: "h2",
      vendorRef: "1700000001",
      verifyFirst: false,
      repair: true,
    },
  ],
  [
    "repair whose first attempt may have landed (intent pending): compare first, still the repair",
    { ...inSyncFacts, pendingOperation: { operation: "update", opHash: "h2" }, repair: {} },
    {
      step: "apply",
      action: "update",
      opHash: "h2",
      vendorRef: "1700000001",
      verifyFirst: true,
      repair: true,
    },
  ],
  [
    "repair requested on a stalled rule: it stays stalled",
    {
      ...inSyncFacts,
      repair: {},
      stalledOn: { generation: 2, opHash: "h2", deviceEpoch: "3/100" },
      stallRetry: { due: false, inMs: 60_000 },
    },
    { step: "stayStalled", inMs: 60_000 },
  ],
];

describe("planRule", () => {
  it.each(cases)("%s", (_name, overrides, expected) => {
    expect(planRule(facts(overrides))).toEqual(expected);
  });
});

describe("mayHoldUnrecordedObject: the one place the exactly-once invariant is decided", () => {
  it.each([
    ["nothing ever recorded: no create can have been sent", {}, false],
    ["applied and recorded, nothing pending", { appliedOpHash: "h1", vendorRef: "7" }, false],
    [
      "a create intent pending (same opHash)",
      { pendingOperation: { operation: "create", opHash: "h2" } },
      true,
    ],
    [
      "a create intent pending for an older spec",
      { pendingOperation: { operation: "create", opHash: "h1" } },
      true,
    ],
    [
      "an update intent pending (vendorRef known)",
      { appliedOpHash: "h1", vendorRef: "7", pendingOperation: { operation: "update", opHash: "h2" } },
      true,
    ],
    ["a delete intent pending", { pendingOperation: { operation: "delete", opHash: "h1" } }, true],
    ["applied once, vendorRef lost", { appliedOpHash: "h1" }, true],
  ] as const)("%s → %s", (_name, partial, expected) => {
    expect(mayHoldUnrecordedObject(partial)).toBe(expected);
  });
});
