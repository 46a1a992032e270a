// The contract between the shared server (server.ts) and one vendor's simulation. The server owns the
// socket, TLS, the control API, faults, the request log and down/up; a vendor only turns a request into
// a response and keeps the appliance's state.
import type { IncomingHttpHeaders } from "node:http";
import type {
  CommonSimulatorOptions,
  ObjectKind,
  ObjectsView,
  ObjectWriteOptions,
  VendorObject,
} from "./types.ts";

export interface SimRequest {
  method: string;
  /** Raw path, percent-encoding preserved. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  remoteAddress: string;
}

/** A JSON-serialisable value. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** `Set-Cookie` values, one header each. */
  cookies?: string[];
  /** A string is sent as is (set `content-type` in headers); anything else is sent as JSON. */
  body?: string | Json;
  /** The objects this write changed, moved or removed, as they were before it: recorded in the request log. */
  affected?: VendorObject[];
}

/** Counters a vendor increments; the server adds request counts. */
export interface VendorCounters {
  applyCount: number;
  loginCount: number;
  lostWrites: number;
  throttled: number;
}

export interface VendorContext {
  /** Vendor requests in flight, this one included. */
  inFlight(): number;
  counters: VendorCounters;
  /** Wall clock in ms (overridable for tests that need to move time). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** A control-API failure the HTTP layer turns into a status. */
export class SimulatorControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "SimulatorControlError";
    this.status = status;
  }
}

export interface Redaction {
  /** Header names (lower-case) whose values are credentials. `authorization` is always redacted. */
  headers?: string[];
  /** Query parameter names that carry credentials. */
  query?: string[];
  /** Secret values besides the credentials (e.g. an administrator's password), redacted anywhere. */
  values?: () => string[];
}

export interface VendorSimulator {
  readonly credentials: Record<string, string>;
  readonly redaction: Redaction;
  /** Object kinds the control API exposes. */
  readonly kinds: ObjectKind[];
  /**
   * Called when a request arrives, before faults and latency: an answer here refuses the request at once
   * (FortiOS 429 when too many requests are in flight). `inFlight()` already counts this request.
   */
  admit?(request: SimRequest): SimResponse | undefined;
  handle(request: SimRequest): Promise<SimResponse>;
  /** The vendor's own error answer for a status (injected `status` faults, unexpected exceptions). */
  errorResponse(status: number, request: SimRequest): SimResponse;
  /** The vendor's own throttling answer. */
  rateLimitResponse(retryAfterSeconds: number, request: SimRequest, status?: number): SimResponse;
  /** The vendor's answer to a request whose credentials are not (or no longer) accepted. */
  authFailureResponse(request: SimRequest): SimResponse;
  /** Invalidate every session or token issued so far. */
  expireSessions(): void;
  setCredentials(credentials: Record<string, string>): void;
  reset(): void;
  objects(kind: ObjectKind): ObjectsView;
  putObject(kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions): string;
  updateObject(kind: ObjectKind, id: string, patch: VendorObject, options: ObjectWriteOptions): void;
  deleteObject(kind: ObjectKind, id: string, options: ObjectWriteOptions): void;
  /** Stop timers (pending activations...). */
  dispose(): void;
}

export interface VendorDefinition<Options> {
  vendor: string;
  /** Keys of the credentials Secret, in order (documentation and CLI). */
  credentialKeys: string[];
  create(context: VendorContext, options: Options & CommonSimulatorOptions): VendorSimulator;
}
