// The public vocabulary of the appliance simulators: what a test, the demo or another process sees.
// Vendor modules implement `VendorSimulator` (vendor.ts); everything here is vendor-neutral.
import type { CertificateAuthority } from "../../support/pki.ts";

/**
 * A kind of appliance object the control API can inspect and mutate. `firewallRule` and `natRule` exist
 * on every vendor; a vendor may add its own (pfSense `natOutbound`, FortiOS `address`...), listed by
 * `GET /__sim/`.
 */
export type ObjectKind = "firewallRule" | "natRule" | (string & {});

/** An appliance object exactly as the vendor's API represents it. */
export type VendorObject = Record<string, unknown>;

/**
 * The stored objects of one kind. `candidate` is the configuration the vendor API reads and writes;
 * `running` is what the appliance enforces. They differ only on vendors with a separate activation step
 * (pfSense until `POST /api/v2/firewall/apply`); on live-write vendors (FortiOS) they are equal.
 */
export interface ObjectsView {
  kind: ObjectKind;
  candidate: VendorObject[];
  running: VendorObject[];
  /** True when `candidate` holds changes not yet activated. */
  pending: boolean;
}

export interface ObjectWriteOptions {
  /**
   * Also activate the change (default true), as an administrator who edits in the GUI and clicks Apply:
   * this activates everything pending, not only this change. Without activation the change stays pending.
   */
  apply?: boolean;
  /** Where to insert a new object (array index); appended when absent. */
  position?: number;
}

/** Which requests a fault applies to. Every criterion is optional; none means every vendor request. */
export interface FaultScope {
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Prefix of the request's raw path (no query string), e.g. `/api/v2/firewall/rule`. */
  pathPrefix?: string;
  /**
   * Text the request's User-Agent must contain (case-insensitive): a fault for one client among several
   * (each operator replica names itself there).
   */
  userAgent?: string;
  /** How many matching requests the fault applies to; absent means until `clearFaults()`. */
  times?: number;
}

export type FaultAction =
  /** Answer with this status. Without `body`, the vendor's own error shape for that status. */
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string> }
  /**
   * Throttle in the vendor's own way: `Retry-After` set to `retryAfterSeconds` (default 1) and the
   * vendor's throttling status (`status` overrides it): FortiOS 429, pfSense 503 (pfSense-pkg-RESTAPI
   * documents 503 + Retry-After as its back-off signal and has no 429 of its own).
   */
  | { kind: "rateLimit"; retryAfterSeconds?: number; status?: number }
  /** Wait this long, then answer normally. */
  | { kind: "latency"; ms: number }
  /** Never answer; the request stays open until the client gives up (or the simulator stops). */
  | { kind: "timeout" }
  /** Answer 200 with a body no parser accepts (or `body`). */
  | { kind: "garbage"; body?: string }
  /** Destroy the connection without an answer. */
  | { kind: "reset" }
  /**
   * The request takes effect on the appliance, but its answer is lost: the connection is held open
   * until the client gives up (a timeout after the commit), or destroyed with `reset: true`.
   */
  | { kind: "lostAnswer"; reset?: boolean }
  /** Invalidate every session/token issued so far and answer this request with the vendor's 401. */
  | { kind: "authExpire" };

export type Fault = FaultScope & FaultAction;
export type FaultKind = FaultAction["kind"];

export interface ActiveFault {
  id: string;
  fault: Fault;
  /** Matching requests it still applies to; null = until cleared. */
  remaining: number | null;
  /** Requests it has been applied to so far. */
  hits: number;
}

export type RequestOutcome = "pending" | "answered" | "reset" | "timeout" | "aborted";

/** One vendor API request as the simulator received it, credentials redacted. */
export interface RequestLogEntry {
  /** 1-based order of arrival. */
  seq: number;
  /** ISO-8601 arrival time. */
  time: string;
  method: string;
  /** Raw path as sent (percent-encoding preserved), without the query string. */
  path: string;
  /** Decoded query parameters; a repeated name yields an array. */
  query: Record<string, string | string[]>;
  /** Lower-case header names; credentials replaced by `[REDACTED]` (the auth scheme is kept). */
  headers: Record<string, string>;
  /** Request body as text, credentials redacted. */
  body: string;
  /** Status answered, or null when no answer was sent (reset, timeout, client gave up). */
  status: number | null;
  outcome: RequestOutcome;
  /** The injected fault applied to this request, if any. */
  fault: FaultKind | null;
  durationMs: number;
  /**
   * The objects a write changed, moved or removed, as they were just before it (vendors that record it:
   * pfSense). Set when the write took effect, even if its answer was then lost; absent otherwise.
   */
  affected?: VendorObject[];
}

export interface RequestFilter {
  method?: string;
  pathPrefix?: string;
}

export interface SimulatorStats {
  /** Vendor API requests received (control requests excluded). */
  requests: number;
  /** Vendor API requests in flight right now, and the most ever in flight at once. */
  inFlight: number;
  maxInFlight: number;
  /** Activations performed through the vendor API (pfSense apply; 0 on live-write vendors). */
  applyCount: number;
  /** Sessions/tokens issued through the vendor API (pfSense JWT logins, PAN-OS keygen...). */
  loginCount: number;
  /** Writes acknowledged to the client but silently overwritten by an overlapping write (pfSense). */
  lostWrites: number;
  /** Requests refused because too many were in flight (FortiOS 429 under parallel load). */
  throttled: number;
}

/**
 * Control of a running simulator: inspect and mutate the appliance's state behind the client's back,
 * read the request log, inject faults, take the appliance off the network. Implemented in-process
 * (`SimulatorHandle.control`) and over HTTP (`connectSimulatorControl`, the `/__sim/` endpoints).
 */
export interface SimulatorControl {
  /** Back to the initial state: objects, faults, request log, stats, sessions. Credentials are kept. */
  reset(): Promise<void>;
  /** Vendor object kinds this simulator stores. */
  kinds(): Promise<ObjectKind[]>;
  objects(kind: ObjectKind): Promise<ObjectsView>;
  /**
   * Store an object as the appliance's own GUI would (defaults filled, no API validation). Returns the
   * id to use with updateObject/deleteObject: see each vendor's README section.
   */
  putObject(kind: ObjectKind, object: VendorObject, options?: ObjectWriteOptions): Promise<string>;
  updateObject(
    kind: ObjectKind,
    id: string,
    patch: VendorObject,
    options?: ObjectWriteOptions,
  ): Promise<void>;
  deleteObject(kind: ObjectKind, id: string, options?: ObjectWriteOptions): Promise<void>;
  requests(filter?: RequestFilter): Promise<RequestLogEntry[]>;
  clearRequests(): Promise<void>;
  /** Returns the fault's id. */
  injectFault(fault: Fault): Promise<string>;
  faults(): Promise<ActiveFault[]>;
  clearFaults(): Promise<void>;
  /**
   * Refuse connections: close the listener and every open connection. `forMs` re-opens it on the same
   * port after that long (the only way back when the control API is used over HTTP).
   */
  down(options?: { forMs?: number }): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  stats(): Promise<SimulatorStats>;
  /** Replace the accepted credentials (rotation): the old ones stop working at once. */
  setCredentials(credentials: Record<string, string>): Promise<void>;
}

export interface SimulatorHandle {
  vendor: string;
  /** `https://127.0.0.1:PORT` (or `http://` with `tls: false`). */
  url: string;
  /** PEM of the CA that signed the server certificate ("" with `tls: false`). */
  caPem: string;
  /** Exactly the keys a VnfDevice credentials Secret holds for this vendor. */
  credentials: Record<string, string>;
  control: SimulatorControl;
  stop(): Promise<void>;
}

/** Options every simulator understands; vendors add their own. */
export interface CommonSimulatorOptions {
  /** TCP port; 0 (default) picks a free one, kept across down/up. */
  port?: number;
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /** Credentials to accept instead of generated ones (same keys as `SimulatorHandle.credentials`). */
  credentials?: Record<string, string>;
  /** `false` serves plain HTTP. */
  tls?: boolean;
  /** Sign the server certificate with this CA (share one CA between several simulators). */
  ca?: CertificateAuthority;
  /** How long an activation takes (pfSense apply); 0 = instant. */
  applyDelayMs?: number;
  /** Added before every vendor API answer (a slow appliance). */
  latencyMs?: number;
  /** Request-log capacity; older entries are dropped (default 10 000). */
  maxLogEntries?: number;
  /** Wall clock in ms since the epoch (token expiry, trackers, timestamps); default Date.now. */
  clock?: () => number;
}
