import { describe, expect, it } from "vitest";
import type { VnfDevice, VnfRule } from "../../../src/api/types.ts";
import {
  type DeviceEvent,
  deviceEventAffectsOrder,
  deviceEventAffectsRules,
  deviceEventNeedsReconcile,
  type RuleEvent,
  ruleEventNeedsReconcile,
  secretEventNeedsReconcile,
} from "../../../src/controllers/event-filters.ts";

const base: VnfRule = {
  apiVersion: "vnf-operator.io/v1alpha1",
  kind: "VnfFirewallRule",
  metadata: { name: "r", namespace: "ns", uid: "u", generation: 2, resourceVersion: "10", finalizers: ["f"] },
  spec: { deviceRef: { name: "d" }, interface: "wan", action: "allow" },
  status: { vendorRef: "7", opHash: "h", observedGeneration: 2 },
} as VnfRule;

const changed = (patch: (r: VnfRule) => void): VnfRule => {
  const copy = structuredClone(base);
  copy.metadata.resourceVersion = "11";
  patch(copy);
  return copy;
};

const update = (obj: VnfRule): RuleEvent => ({ type: "update", obj, oldObj: base });

const cases: Array<[string, RuleEvent, boolean]> = [
  ["add", { type: "add", obj: base }, true],
  ["delete", { type: "delete", obj: base }, true],
  ["resync (same resourceVersion)", { type: "update", obj: base, oldObj: base }, true],
  [
    "spec change (generation)",
    update(
      changed((r) => {
        r.metadata.generation = 3;
      }),
    ),
    true,
  ],
  [
    "deletion requested",
    update(
      changed((r) => {
        r.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
      }),
    ),
    true,
  ],
  [
    "finalizer added or removed",
    update(
      changed((r) => {
        r.metadata.finalizers = [];
      }),
    ),
    true,
  ],
  [
    "annotation (a user's nudge)",
    update(
      changed((r) => {
        r.metadata.annotations = { touched: "1" };
      }),
    ),
    true,
  ],
  [
    "the drift controller's record (status.drift): no re-queue (it re-queues what it asks to repair)",
    update(
      changed((r) => {
        r.status = { ...r.status, drift: { detectedAt: "2026-01-01T00:00:00Z", action: "Repaired" } };
      }),
    ),
    false,
  ],
  [
    "our own status write (intent, outcome, retrying): no re-queue",
    update(
      changed((r) => {
        r.status = { ...r.status, errorCode: "VNF_RATE_LIMIT", opHash: "h2" };
      }),
    ),
    false,
  ],
];

describe("ruleEventNeedsReconcile", () => {
  it.each(cases)("%s", (_name, event, expected) => {
    expect(ruleEventNeedsReconcile(event)).toBe(expected);
  });
});

const device: VnfDevice = {
  apiVersion: "vnf-operator.io/v1alpha1",
  kind: "VnfDevice",
  metadata: { name: "d", namespace: "ns", uid: "d1", generation: 1, resourceVersion: "20" },
  spec: { vendor: "pfsense", endpoint: "https://192.0.2.1", credentialsSecretRef: { name: "s" } },
  status: {
    managedRules: 3,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "HealthCheckPassed",
        message: "ok",
        observedGeneration: 1,
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  },
} as VnfDevice;

const deviceChanged = (patch: (d: VnfDevice) => void): DeviceEvent => {
  const copy = structuredClone(device);
  copy.metadata.resourceVersion = "21";
  patch(copy);
  return { type: "update", obj: copy, oldObj: device };
};

const deviceCases: Array<[string, DeviceEvent, boolean]> = [
  ["device added", { type: "add", obj: device }, true],
  ["device deleted", { type: "delete", obj: device }, true],
  [
    "spec change (suspend, parameters…)",
    deviceChanged((d) => {
      d.metadata.generation = 2;
    }),
    true,
  ],
  [
    "Ready flips",
    deviceChanged((d) => {
      const ready = d.status?.conditions?.[0];
      if (ready) Object.assign(ready, { status: "False", reason: "VNF_UNREACHABLE" });
    }),
    true,
  ],
  [
    "counters and timestamps only (managedRules, lastHealthCheckTime)",
    deviceChanged((d) => {
      d.status = { ...d.status, managedRules: 4, lastHealthCheckTime: "2026-01-01T00:05:00Z" };
    }),
    false,
  ],
];

describe("deviceEventAffectsRules", () => {
  it.each(deviceCases)("%s", (_name, event, expected) => {
    expect(deviceEventAffectsRules(event)).toBe(expected);
  });
});

describe("deviceEventAffectsOrder (the order controller: spec.ruleOrder, a new device)", () => {
  it.each<[string, DeviceEvent, boolean]>([
    ["device added", { type: "add", obj: device }, true],
    ["device deleted", { type: "delete", obj: device }, false],
    [
      "spec change (ruleOrder…)",
      deviceChanged((d) => {
        d.metadata.generation = 2;
      }),
      true,
    ],
    [
      "an annotation (a requested drift check)",
      deviceChanged((d) => {
        d.metadata.annotations = { a: "1" };
      }),
      false,
    ],
    [
      "Ready flips",
      deviceChanged((d) => {
        d.status = { ...d.status, conditions: [] };
      }),
      false,
    ],
    ["resync", { type: "update", obj: device, oldObj: device }, false],
  ])("%s", (_name, event, expected) => {
    expect(deviceEventAffectsOrder(event)).toBe(expected);
  });
});

describe("deviceEventNeedsReconcile (the device controller's own events)", () => {
  const device = {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind: "VnfDevice",
    metadata: { name: "d", namespace: "ns", generation: 1, resourceVersion: "5" },
    spec: { vendor: "pfsense", endpoint: "https://192.0.2.1", credentialsSecretRef: { name: "c" } },
  } as VnfDevice;
  const next = (patch: (d: VnfDevice) => void): VnfDevice => {
    const copy = structuredClone(device);
    copy.metadata.resourceVersion = "6";
    patch(copy);
    return copy;
  };
  it.each([
    ["add", { type: "add", obj: device }, true],
    ["resync", { type: "update", obj: device, oldObj: device }, true],
    ["spec change", { type: "update", oldObj: device, obj: next((d) => (d.metadata.generation = 2)) }, true],
    [
      "its own status write (health, activation, managedRules): no health check",
      { type: "update", oldObj: device, obj: next((d) => (d.status = { managedRules: 3 })) },
      false,
    ],
    [
      "the drift controller's counters: no health check",
      {
        type: "update",
        oldObj: device,
        obj: next((d) => (d.status = { lastDriftCheckTime: "2026-01-01T00:00:00Z" })),
      },
      false,
    ],
    [
      "an annotation (e.g. a requested drift check)",
      { type: "update", oldObj: device, obj: next((d) => (d.metadata.annotations = { a: "1" })) },
      true,
    ],
  ] as Array<[string, DeviceEvent, boolean]>)("%s", (_name, event, expected) => {
    expect(deviceEventNeedsReconcile(event)).toBe(expected);
  });
});

describe("secretEventNeedsReconcile", () => {
  const secret = { metadata: { name: "c", namespace: "ns", resourceVersion: "9" } };
  it.each([
    ["created", { type: "add" as const, obj: secret }, true],
    ["deleted", { type: "delete" as const, obj: secret }, true],
    [
      "changed",
      {
        type: "update" as const,
        oldObj: secret,
        obj: { metadata: { ...secret.metadata, resourceVersion: "10" } },
      },
      true,
    ],
    ["resync (unchanged)", { type: "update" as const, oldObj: secret, obj: secret }, false],
  ])("%s", (_name, event, expected) => {
    expect(secretEventNeedsReconcile(event)).toBe(expected);
  });
});
