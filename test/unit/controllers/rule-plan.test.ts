import { describe, expect, it } from "vitest";
import { planRule, type RuleFacts, type RulePlan } from "../../../src/controllers/rule-plan.ts";

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
    "device missing: wait",
    { device: { state: "missing" } },
    { step: "waitForDevice", reason: "DeviceNotFound", message: "the referenced VnfDevice does not exist" },
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
    "device suspended: wait",
    { device: { state: "suspended", epoch: "4/100" } },
    {
      step: "waitForDevice",
      reason: "DeviceSuspended",
      message: "the VnfDevice is suspended (spec.suspend)",
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
    "stale intent for an older spec does not skip verification of the new one",
    { pendingOperation: { operation: "create", opHash: "h1" } },
    { step: "apply", action: "create", opHash: "h2", verifyFirst: false },
  ],
  [
    "stalled on the same inputs: stay stalled",
    { stalledOn: { generation: 2, opHash: "h2", deviceEpoch: "3/100" } },
    { step: "stayStalled" },
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
    "device suspended during delete: wait",
    { ...inSyncFacts, deleting: true, device: { state: "suspended", epoch: "3/100" } },
    {
      step: "waitForDevice",
      reason: "DeviceSuspended",
      message: "the VnfDevice is suspended; the appliance object is deleted when it resumes",
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
    },
    { step: "stayStalled" },
  ],
];

describe("planRule", () => {
  it.each(cases)("%s", (_name, overrides, expected) => {
    expect(planRule(facts(overrides))).toEqual(expected);
  });
});
