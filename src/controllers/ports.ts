// What the controllers need from a device's appliance session. The session (src/appliance/) wraps
// the dictionary engine with the device's auth, limits and coalesced activation; the controllers see
// only these verbs, so the reconcile code stays vendor-free and readable. Every call takes the
// reconcile's signal: once it aborts (shutdown, lost lease) the call stops waiting and sends nothing
// more, rejecting with the signal's reason.
import type { ObjectKey } from "../runtime/resource.ts";

export type RuleKind = "firewallRule" | "natRule";

/** What a rule asks of the appliance: its spec (CRD, defaults applied) plus our identity on it. */
export interface RuleRequest {
  spec: unknown;
  /** The ownership marker written into the appliance object, to find it again after a crash. */
  marker: string;
  /** A client-allocated rule number, for appliances whose rules are identified by one. */
  ruleNumber?: number;
}

/** An appliance object as the dictionary reads it back. */
export interface ObservedObject {
  vendorRef: string;
  marker?: string;
  normalized: Record<string, unknown>;
  /** Objects without a marker: whether the reverse mapping expresses it as a rule (vnf-operator import). */
  importable?: boolean;
}

export interface DeviceSession {
  /** What the session was built from (device generation / credentials version). */
  readonly epoch: string;
  /** The rule kinds this device's dictionary can manage. */
  readonly kinds: readonly RuleKind[];
  /** The range of client-allocated rule numbers, when this device's dictionary needs them. */
  readonly ruleNumbers?: { min: number; max: number };
  /** The opHash of the desired request; throws a VnfError (BROKER_INVALID_REQUEST) when it cannot render. */
  desiredOpHash(kind: RuleKind, request: RuleRequest): string;
  /** The rule fields on which `object` differs from `request` (empty when it matches). */
  differences(kind: RuleKind, request: RuleRequest, object: ObservedObject): string[];
  create(kind: RuleKind, request: RuleRequest, signal?: AbortSignal): Promise<{ vendorRef: string }>;
  get(kind: RuleKind, vendorRef: string, signal?: AbortSignal): Promise<ObservedObject | undefined>;
  findByMarker(kind: RuleKind, marker: string, signal?: AbortSignal): Promise<ObservedObject | undefined>;
  list(kind: RuleKind, signal?: AbortSignal): Promise<ObservedObject[]>;
  update(kind: RuleKind, vendorRef: string, request: RuleRequest, signal?: AbortSignal): Promise<void>;
  /** Absent is success. `request`: the rule being deleted (none for an orphan). */
  delete(kind: RuleKind, vendorRef: string, signal?: AbortSignal, request?: RuleRequest): Promise<void>;
  /**
   * Asks for the device's activation (apply/commit); coalesced per the device's activation mode.
   * Resolves when an activation covering this caller's writes has finished.
   */
  activate(signal?: AbortSignal): Promise<void>;
}

export interface SessionLookup {
  /** The Ready session of a device, if the device controller established one. */
  get(device: ObjectKey): DeviceSession | undefined;
}
