// A small model of kstatus, the status library of sigs.k8s.io/cli-utils, as of v0.37.2: what Flux
// health checks (kustomize-controller, helm-controller), kpt and `cli-utils` waits conclude from an
// object. Written from kstatus's documented rules (its README and the package documentation of
// pkg/kstatus/status), not from its code; the tests assert it on live objects read back from the real
// API server, so "Current/InProgress/Failed" in our docs is what those tools see.
//
// The rules, in the order kstatus applies them to a custom resource:
//   1. metadata.deletionTimestamp set                                        → Terminating
//   2. metadata.generation and status.observedGeneration both present and
//      different (a top-level field; the conditions' own observedGeneration
//      is not read)                                                         → InProgress
//   3. the first condition, in list order, that is Reconciling=True          → InProgress
//      or Stalled=True                                                       → Failed
//   4. (type-specific rules exist only for built-in kinds such as Deployment: none for ours)
//   5. a Ready condition: True → Current; False or Unknown                   → InProgress
//   6. otherwise (no observedGeneration, no known condition)                 → Current
// Rule 6 is why an object the operator has not touched yet would read as Current, and why the CRDs
// default status.observedGeneration to -1.

export type KstatusStatus = "InProgress" | "Failed" | "Current" | "Terminating";

/** The kstatus version this model stands for. */
export const KSTATUS_VERSION = "sigs.k8s.io/cli-utils v0.37.2";

interface ConditionLike {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

export interface ObjectLike {
  metadata?: { generation?: unknown; deletionTimestamp?: unknown };
  status?: { observedGeneration?: unknown; conditions?: unknown };
}

export interface KstatusResult {
  status: KstatusStatus;
  /** Which rule decided (for test messages). */
  rule: "deletion" | "generation" | "Reconciling" | "Stalled" | "Ready" | "default";
  message: string;
}

/** kstatus's decision for one object. */
export function kstatus(obj: ObjectLike): KstatusResult {
  const deletion = obj.metadata?.deletionTimestamp;
  if (typeof deletion === "string" && deletion !== "") {
    return { status: "Terminating", rule: "deletion", message: "Resource scheduled for deletion" };
  }
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  if (typeof generation === "number" && typeof observed === "number" && observed !== generation) {
    return {
      status: "InProgress",
      rule: "generation",
      message: `generation is ${generation}, but latest observed generation is ${observed}`,
    };
  }
  const conditions = (Array.isArray(obj.status?.conditions) ? obj.status.conditions : []) as ConditionLike[];
  for (const c of conditions) {
    if (c.type === "Reconciling" && c.status === "True")
      return { status: "InProgress", rule: "Reconciling", message: String(c.message ?? "") };
    if (c.type === "Stalled" && c.status === "True")
      return { status: "Failed", rule: "Stalled", message: String(c.message ?? "") };
  }
  const ready = conditions.find((c) => c.type === "Ready");
  if (ready?.status === "True") return { status: "Current", rule: "Ready", message: "Resource is Ready" };
  if (ready?.status === "False" || ready?.status === "Unknown")
    return { status: "InProgress", rule: "Ready", message: String(ready.message ?? "") };
  return { status: "Current", rule: "default", message: "Resource is current" };
}
