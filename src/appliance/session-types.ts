// The shapes an ApplianceSession takes and gives (session.ts): its options, and what each operation
// returns. Apart from the class so that code needing only the shapes (ports, tests, the CLI) reads them
// without the machinery.
import type { Logger } from "pino";
import type { CompiledDictionary, OperationName } from "../dictionary/compiled.ts";
import type { Position } from "../dictionary/executor.ts";
import type { ApplianceObject } from "../dictionary/normalize.ts";
import type { HashableOperation } from "../dictionary/op-hash.ts";
import type { RenderedRequest } from "../dictionary/render.ts";
import type { ResourceKind } from "../dictionary/rule-input.ts";
import type { SessionLimits, TransportRetry } from "./channel.ts";
import type { EndpointGuard } from "./guarded-connect.ts";
import type { TlsOptions } from "./http.ts";
import type { ApplianceMetrics } from "./metrics.ts";

export interface ApplianceSessionOptions {
  dictionary: CompiledDictionary;
  endpoint: string;
  credentials: Record<string, string>;
  tls?: TlsOptions;
  parameters?: Record<string, string>;
  limits?: SessionLimits;
  logger?: Logger;
  metrics?: ApplianceMetrics;
  /** The `vendor` metric label (default: the dictionary's vendor). */
  vendorLabel?: string;
  /** Overrides TRANSPORT_RETRY (tests). */
  transportRetry?: Partial<TransportRetry>;
  /** Sent as User-Agent unless the dictionary sets one (appliance logs tell who called). */
  userAgent?: string;
  clock?: { now?: () => number; sleep?: (ms: number) => Promise<void> };
  /** Where credentials may be sent, checked on every connection (the operator always passes one). */
  endpointGuard?: EndpointGuard;
}

export interface HealthResult {
  version?: string;
  serial?: string;
  /** Whether the reported version is inside the dictionary's firmware range (undefined: no version). */
  compatible?: boolean;
  /** Every value the health check extracted. */
  outputs: Record<string, unknown>;
}

export interface ActivationResult {
  /** False when the dictionary has no activation (writes are live). */
  activated: boolean;
  /** Asynchronous job ids waited for (e.g. a PAN-OS commit job). */
  jobs: string[];
  outputs: Record<string, unknown>;
}

export interface WriteInput {
  /** The rule's spec (a CRD spec; defaults are applied here). */
  rule: unknown;
  /** The owner id written as ownership marker (e.g. the resource's uid). */
  marker: string;
  /** The client-allocated number, for dictionaries that declare `ruleNumbers`. */
  ruleNumber?: number;
  /** Create only: next to which rule the new one goes (not part of the opHash). */
  position?: Position;
}

/** How a dictionary orders the rules of a kind (its `ordering`). */
export interface OrderingInfo {
  /** Numbered ordering: the range and spacing of numbers. */
  numbers?: { min: number; max: number; step: number };
  /** The dictionary has a `move` operation (else numbers are identities: updates renumber). */
  movable: boolean;
}

/** A listed object with its place in the appliance's order. */
export interface ListedObject extends ApplianceObject {
  /** The ordering scope (dictionaries with `ordering`). */
  scope?: string;
  /** Numbered ordering: its number. */
  number?: number;
}

export interface CreateResult {
  vendorRef: string;
  /** True when an existing object carrying the marker was found and adopted instead of created. */
  adopted: boolean;
}

/** The exact requests an operation would send (credentials masked as ***), and their opHash. */
export interface RenderedOperation extends HashableOperation {
  kind: ResourceKind;
  operation: OperationName;
  requests: RenderedRequest[];
  opHash: string;
  /** The same requests with every secret masked (render never holds credentials: identical). */
  redacted(): RenderedRequest[];
}

/** What render() and the input checks take: any part of a write, plus the object it addresses. */
export type RenderInput = Partial<WriteInput> & { vendorRef?: string; position?: Position };
