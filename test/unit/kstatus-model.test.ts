// The kstatus model of the test support code (test/support/kstatus.ts) against kstatus's documented
// rules, one row per rule and per precedence between rules. The integration tests then assert the model
// on live objects; this table makes sure the model says what kstatus says.
import { describe, expect, it } from "vitest";
import { KSTATUS_VERSION, type KstatusStatus, kstatus, type ObjectLike } from "../support/kstatus.ts";

const cond = (type: string, status: string, reason = "Why", message = "") => ({
  type,
  status,
  reason,
  message,
});

const rows: Array<[string, ObjectLike, KstatusStatus, string]> = [
  [
    "no status at all (nothing observed yet): the documented fallback",
    { metadata: { generation: 1 } },
    "Current",
    "default",
  ],
  [
    "observedGeneration -1 (a CRD default) on generation 1",
    { metadata: { generation: 1 }, status: { observedGeneration: -1 } },
    "InProgress",
    "generation",
  ],
  [
    "observedGeneration behind generation, even with Ready=True",
    { metadata: { generation: 3 }, status: { observedGeneration: 2, conditions: [cond("Ready", "True")] } },
    "InProgress",
    "generation",
  ],
  [
    "only the top-level observedGeneration counts, not a condition's",
    {
      metadata: { generation: 3 },
      status: { observedGeneration: 3, conditions: [{ ...cond("Ready", "True"), observedGeneration: 1 }] },
    },
    "Current",
    "Ready",
  ],
  [
    "no metadata.generation: the generation rule is skipped",
    { status: { observedGeneration: 5, conditions: [cond("Ready", "True")] } },
    "Current",
    "Ready",
  ],
  [
    "deletionTimestamp wins over everything",
    {
      metadata: { generation: 2, deletionTimestamp: "2026-01-01T00:00:00Z" },
      status: { observedGeneration: 1, conditions: [cond("Stalled", "True")] },
    },
    "Terminating",
    "deletion",
  ],
  [
    "Reconciling=True",
    {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [cond("Reconciling", "True")] },
    },
    "InProgress",
    "Reconciling",
  ],
  [
    "Stalled=True",
    {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [cond("Ready", "False"), cond("Stalled", "True")] },
    },
    "Failed",
    "Stalled",
  ],
  [
    "Stalled=True outranks Ready=True",
    {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [cond("Ready", "True"), cond("Stalled", "True")] },
    },
    "Failed",
    "Stalled",
  ],
  [
    "Reconciling and Stalled both True: the first in list order decides",
    {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [cond("Stalled", "True"), cond("Reconciling", "True")] },
    },
    "Failed",
    "Stalled",
  ],
  [
    "Reconciling=False and Stalled=False are normal (abnormal-true conditions)",
    {
      metadata: { generation: 1 },
      status: {
        observedGeneration: 1,
        conditions: [cond("Reconciling", "False"), cond("Stalled", "False"), cond("Ready", "True")],
      },
    },
    "Current",
    "Ready",
  ],
  [
    "Ready=False",
    { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [cond("Ready", "False")] } },
    "InProgress",
    "Ready",
  ],
  [
    "Ready=Unknown",
    {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [cond("Ready", "Unknown")] },
    },
    "InProgress",
    "Ready",
  ],
  [
    "other conditions only (e.g. Suspended=True): the fallback",
    {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [cond("Suspended", "True")] },
    },
    "Current",
    "default",
  ],
];

describe(`kstatus model (${KSTATUS_VERSION})`, () => {
  it.each(rows)("%s → %s", (_name, obj, status, rule) => {
    expect(kstatus(obj)).toMatchObject({ status, rule });
  });
});
