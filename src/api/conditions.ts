// Pure helpers for status.conditions (metav1.Condition semantics). The operator computes each
// controller's conditions client-side: lastTransitionTime moves only when status flips, which keeps
// "since when is it not Ready" truthful and lets an unchanged status compare equal (no status write).
//
// The mark* helpers encode, once, the rules kstatus (Flux, kpt, Argo CD's kstatus-based checks) reads
// conditions by: Ready is the summary; Reconciling and Stalled are "abnormal-true" (present only while
// True) and never both; Stalled comes with Ready=False; becoming Ready ends both. (kstatus reads
// Reconciling=True as InProgress before it looks at Ready, so an update in progress on a Ready object
// may keep Ready=True.) Suspended=True replaces all three: a suspended object is neither Ready nor
// waiting, so kstatus reads it as Current (a wait ends) while `kubectl wait --for=condition=Ready` does
// not pass and Argo CD's health check shows Suspended. Controllers say what happened (ready,
// reconciling, stalled, waiting, suspended) and never set these four by hand.
import type { Condition, ConditionStatus } from "./types.generated.ts";

/** The condition types the operator writes (kstatus: Ready summary, abnormal-true Reconciling/Stalled). */
export const ConditionType = {
  Ready: "Ready",
  Reconciling: "Reconciling",
  Stalled: "Stalled",
  Suspended: "Suspended",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  /** One CamelCase word, e.g. Applied (the API server refuses anything else). */
  reason: string;
  message?: string;
  /** The metadata.generation this condition was computed from. */
  observedGeneration?: number;
}

/** The API server's limit on condition messages; longer ones are cut rather than refused. */
export const MAX_CONDITION_MESSAGE = 32768;
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const TYPE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;

/** RFC 3339 with whole seconds, as Kubernetes writes metav1.Time. */
export function kubeTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Whether condition `type` is True. With `generation`, also that it was computed from that generation
 * (as `kubectl wait --for=condition` requires): a True left over from an older spec does not count.
 */
export function isTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
  generation?: number,
): boolean {
  const condition = getCondition(conditions, type);
  if (condition?.status !== "True") return false;
  if (generation === undefined) return true;
  return condition.observedGeneration !== undefined && condition.observedGeneration >= generation;
}

/**
 * Returns a new list with `update` applied: an existing condition of that type is replaced in place
 * (keeping its lastTransitionTime unless the status changes), a new one is appended with
 * lastTransitionTime = now. Throws on a type or reason the API server would refuse.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  if (!TYPE.test(update.type) || update.type.length > 316)
    throw new Error(`invalid condition type "${update.type}": CamelCase, e.g. Ready`);
  if (!REASON.test(update.reason) || update.reason.length > 1024)
    throw new Error(`invalid condition reason "${update.reason}": one CamelCase word, e.g. Applied`);
  const list = conditions ?? [];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime:
      previous !== undefined && previous.status === update.status
        ? previous.lastTransitionTime
        : kubeTime(now),
    reason: update.reason,
    message: truncate(update.message ?? "", MAX_CONDITION_MESSAGE),
  };
  return index >= 0 ? list.map((c, i) => (i === index ? next : c)) : [...list, next];
}

/** Returns a new list without condition `type` (e.g. Reconciling and Stalled once Ready). */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What a mark* helper records: the reason (one CamelCase word), a message and the generation. */
export interface Mark {
  reason: string;
  message: string;
  /** The metadata.generation the conditions were computed from. */
  observedGeneration: number;
}

/** Ready=True; Reconciling, Stalled and Suspended removed (kstatus: Current). */
export function markReady(conditions: readonly Condition[] | undefined, mark: Mark, now: Date): Condition[] {
  const list = setCondition(conditions, { type: ConditionType.Ready, status: "True", ...mark }, now);
  return without(list, ConditionType.Reconciling, ConditionType.Stalled, ConditionType.Suspended);
}

/**
 * Ready=False with `mark`, Reconciling and Stalled removed: not ready, and nothing in progress that
 * this object could finish by itself (e.g. waiting for its device). kstatus: InProgress.
 */
export function markNotReady(
  conditions: readonly Condition[] | undefined,
  mark: Mark,
  now: Date,
): Condition[] {
  const list = setCondition(conditions, { type: ConditionType.Ready, status: "False", ...mark }, now);
  return without(list, ConditionType.Reconciling, ConditionType.Stalled, ConditionType.Suspended);
}

/**
 * Reconciling=True with `mark`, Stalled removed (kstatus: InProgress). With `notReady`, Ready=False
 * with that reason and message too (e.g. retrying after an error); without it Ready is left as it is
 * (an update in progress on an object that was Ready).
 */
export function markReconciling(
  conditions: readonly Condition[] | undefined,
  mark: Mark,
  now: Date,
  notReady?: Omit<Mark, "observedGeneration">,
): Condition[] {
  let list = conditions ?? [];
  if (notReady) {
    list = setCondition(
      list,
      {
        type: ConditionType.Ready,
        status: "False",
        ...notReady,
        observedGeneration: mark.observedGeneration,
      },
      now,
    );
  }
  list = setCondition(list, { type: ConditionType.Reconciling, status: "True", ...mark }, now);
  return without(list, ConditionType.Stalled, ConditionType.Suspended);
}

/**
 * Stalled=True and Ready=False, both with the reason; Reconciling removed (kstatus: Failed, what stops
 * a `flux`/`kpt` wait early). `stalledMessage` says what would unstick it; default: `mark.message`.
 */
export function markStalled(
  conditions: readonly Condition[] | undefined,
  mark: Mark,
  now: Date,
  stalledMessage: string = mark.message,
): Condition[] {
  let list = setCondition(conditions, { type: ConditionType.Ready, status: "False", ...mark }, now);
  list = setCondition(
    list,
    { type: ConditionType.Stalled, status: "True", ...mark, message: stalledMessage },
    now,
  );
  return without(list, ConditionType.Reconciling, ConditionType.Suspended);
}

/**
 * Suspended=True with `mark`; Ready, Reconciling and Stalled removed. kstatus: Current (nothing in
 * progress, nothing failed: a wait on a suspended object ends); Argo CD: Suspended; `kubectl wait
 * --for=condition=Ready` does not pass. Any other mark* ends the suspension.
 */
export function markSuspended(
  conditions: readonly Condition[] | undefined,
  mark: Mark,
  now: Date,
): Condition[] {
  const list = setCondition(conditions, { type: ConditionType.Suspended, status: "True", ...mark }, now);
  return without(list, ConditionType.Ready, ConditionType.Reconciling, ConditionType.Stalled);
}

function without(conditions: readonly Condition[], ...types: string[]): Condition[] {
  return conditions.filter((c) => !types.includes(c.type));
}
