// What the rule controller is built with (RuleControllerDeps, the operator's wiring) and what its
// steps share once built (RuleRuntime: the journal, the clock, the stall book). Apart from
// rule-controller.ts so that the steps kept in their own modules (rule-removal.ts) read the same deps.
import { GROUP } from "../api/group.ts";
import type { VnfDevice, VnfRule } from "../api/types.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { ObjectKey, ResourceType } from "../runtime/resource.ts";
import type { RenumberRequests } from "./order-step.ts";
import type { RuleKind, SessionLookup } from "./ports.ts";
import type { RepairRequests } from "./repair-requests.ts";
import type { FailureDeps } from "./rule-failure.ts";
import { type Journal, recordOutcome } from "./rule-journal.ts";
import type { RuleNumberReservations } from "./rule-numbers.ts";
import type { StallBook, StalledRetryPolicy } from "./stalled.ts";

export const FINALIZER = `${GROUP}/cleanup`;

export interface RuleKindInfo {
  kind: RuleKind;
  resource: ResourceType;
}

export interface RuleControllerDeps {
  kind: RuleKindInfo;
  rules: ObjectCache<VnfRule>;
  devices: ObjectCache<VnfDevice>;
  sessions: SessionLookup;
  http: KubeRequester;
  events: EventSink;
  /**
   * This operator installation's id: it keys the ownership markers (markers.ts), so that another
   * installation's objects on the same appliance are never taken for ours.
   */
  installationId: string;
  /** Repairs the drift controller asked for (absent: drift repair is not wired). */
  repairs?: RepairRequests;
  /** The longest wait before retrying, also for an appliance's Retry-After; default 60 s. */
  maxRetryDelayMs?: number;
  /** How long a rule waits for a missing VnfDevice after its creation before it is Stalled. */
  gracePeriodMs?: number;
  /** When a Stalled rule is tried again. */
  stalledRetry?: StalledRetryPolicy;
  /**
   * The appliance refused the device's credentials on a rule's call (after the session's renewal):
   * the device must check them again before its rules use the session (wiring: mark the session not
   * Ready, enqueue the device).
   */
  onCredentialsRefused?: (device: ObjectKey) => void;
  now?: () => Date;
  /** Called after a successful repair of drift (metrics). */
  onRepair?: (kind: RuleKind) => void;
  /** New numbers the order step asked for (appliances where a rule's number is its identity). */
  renumbers?: RenumberRequests;
  /** Rule numbers reserved by reconciles that have not recorded them yet (shared with the order step). */
  reservations?: RuleNumberReservations;
  /** Called after the rule was written to (or removed from) its device: the order step follows. */
  onWritten?: (device: ObjectKey, kind: RuleKind) => void;
}

/** What the steps work with besides the deps: the journal, the clock and the stall book. */
export interface RuleRuntime extends RuleControllerDeps {
  journal: Journal;
  now: () => Date;
  stalls: StallBook;
}

/** rule-failure.ts's deps: outcomes go through the journal (a 409 re-reads, never drops). */
export function failureDeps(deps: RuleRuntime): FailureDeps {
  return {
    ...deps,
    write: (rule, compute, signal) => recordOutcome(deps.journal, rule, compute, signal),
  };
}

/** The rule's object reference, for finalizer patches. */
export function refOf(deps: RuleRuntime, rule: VnfRule) {
  return {
    resource: deps.kind.resource,
    namespace: rule.metadata.namespace ?? "",
    name: rule.metadata.name ?? "",
  };
}
