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
  /** Create only: the neighbour the new rule goes next to (never part of the opHash). */
  position?: Position;
}

/** Where a rule goes: next to another object (its vendorRef), or (numbered ordering) at a number. */
export interface Position {
  where: "before" | "after";
  pivot: string;
  /** A create placed after `pivot`: the rule that should follow it, when one is on the appliance. */
  next?: string;
  number?: number;
}

/** An appliance object as the dictionary reads it back. */
export interface ObservedObject {
  vendorRef: string;
  marker?: string;
  normalized: Record<string, unknown>;
  /** Objects without a marker: whether the reverse mapping expresses it as a rule (vnf-operator import). */
  importable?: boolean;
  /** Listed objects of an ordered kind: the scope they are ordered in, and their number if numbered. */
  scope?: string;
  number?: number;
}

/** How a device orders the rules of a kind (dictionary `ordering`). */
export interface OrderingFacts {
  /** Numbered ordering: range and spacing of the numbers. */
  numbers?: { min: number; max: number; step: number };
  /** Moves are `move` calls; false: the number is the rule's identity and an update renumbers. */
  movable: boolean;
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
  /** The object carrying one of these markers; more than one is a VNF_CONFLICT. */
  findByMarker(
    kind: RuleKind,
    markers: readonly string[],
    signal?: AbortSignal,
  ): Promise<ObservedObject | undefined>;
  /** Every object of the kind, in the appliance's order. */
  list(kind: RuleKind, signal?: AbortSignal): Promise<ObservedObject[]>;
  /**
   * Returns where the object is afterwards when the update moved it (a renumber) or renamed it (a
   * vendorRef made of the marker, rewritten).
   */
  update(
    kind: RuleKind,
    vendorRef: string,
    request: RuleRequest,
    signal?: AbortSignal,
  ): Promise<{ vendorRef?: string } | undefined>;
  /** How the device orders this kind's rules; undefined (or absent): it does not. */
  ordering?(kind: RuleKind): OrderingFacts | undefined;
  /** The ordering scope of a rule spec. */
  orderScope?(kind: RuleKind, spec: unknown): string;
  /** Moves one object to its place (ordered kinds with `movable`). */
  move?(kind: RuleKind, vendorRef: string, position: Position, signal?: AbortSignal): Promise<void>;
  /** Where an update of this request leaves the object, when updates can renumber it. */
  updatedVendorRef?(kind: RuleKind, request: RuleRequest): string | undefined;
  /** Absent is success. `request`: the rule being deleted (none for an orphan). */
  delete(kind: RuleKind, vendorRef: string, signal?: AbortSignal, request?: RuleRequest): Promise<void>;
  /**
   * Asks for the device's activation (apply/commit); coalesced per the device's activation mode.
   * Resolves when an activation covering this caller's writes has finished. With a `member` (what
   * the caller wrote), a batch that fails because of other members still activates this one, and
   * fails this one only when it is at fault; `slot` is the one its write took with beginWrite().
   */
  activate(signal?: AbortSignal, options?: { member?: ActivationMember; slot?: WriteSlot }): Promise<void>;
  /**
   * Safe apply (present when the device takes a savepoint before writes): call before writing; the
   * returned slot ends with activate(…, {slot}), or release() when nothing was written.
   */
  beginWrite?(signal?: AbortSignal): Promise<WriteSlot>;
  /** Whether a kind's writes can be withdrawn from a batch (failure isolation). */
  canWithdraw?(kind: RuleKind): boolean;
  /** Withdraws an object's write that is not activated yet (the dictionary's `revert`). */
  revert?(kind: RuleKind, vendorRef: string, signal?: AbortSignal): Promise<void>;
}

/** A write's place in the batch its savepoint protects (safe apply). */
export interface WriteSlot {
  release(): void;
}

/** One rule's write in a batch awaiting activation. */
export interface ActivationMember {
  kind: RuleKind;
  /** The written object; after a rewrite, where it is now. */
  vendorRef: string;
  /** Takes the write back out of the configuration not yet activated. */
  withdraw(): Promise<void>;
  /** Writes it again; returns the object's vendorRef. */
  rewrite(): Promise<string>;
}

export interface SessionLookup {
  /** The Ready session of a device, if the device controller established one. */
  get(device: ObjectKey): DeviceSession | undefined;
}
