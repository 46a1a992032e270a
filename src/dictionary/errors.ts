// The ten error codes every appliance failure is mapped to, each with ONE retryability — this table
// is the only place it is decided; the controllers (requeue or stall) and the CloudStack shim (what it
// tells its clients) read it.
//
// The original broker's documents disagreed (UPSTREAM and CAPACITY retryable or not; RATE_LIMIT and
// BROKER_* undocumented). The rule decided here: a code is retryable when sending the *same* request
// again later can succeed without anyone changing anything. Who retries: the controller (after the
// appliance's Retry-After, else its backoff); the session only re-sends within one call after a short
// transport failure (a reset connection), never after an answer with a code. Creates are made safe to
// retry by the intent the rule controller writes first, and by the session's marker lookup.

export const ERROR_CODES = [
  "VNF_TIMEOUT",
  "VNF_AUTH",
  "VNF_CONFLICT",
  "VNF_INVALID",
  "VNF_UPSTREAM",
  "VNF_UNREACHABLE",
  "VNF_CAPACITY",
  "VNF_RATE_LIMIT",
  "BROKER_INVALID_REQUEST",
  "BROKER_INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorCodeInfo {
  retryable: boolean;
  meaning: string;
}

/**
 * The retryability table (also written in docs/dictionary-format.md). A Retry-After the appliance
 * sends with a retryable code is honoured by the controller.
 */
export const ERROR_CODE_TABLE: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  VNF_TIMEOUT: {
    retryable: true,
    meaning: "no response in time (408, 504, headers/body timeout, job poll timeout)",
  },
  VNF_AUTH: {
    retryable: false,
    meaning: "credentials refused (401/403) after the one automatic re-login",
  },
  VNF_CONFLICT: {
    retryable: false,
    meaning:
      "the appliance state contradicts the request (409, duplicate, object vanished, ambiguous marker)",
  },
  VNF_INVALID: {
    retryable: false,
    meaning: "the appliance rejected the request's content (400, 422, validation errors in the body)",
  },
  VNF_UPSTREAM: {
    retryable: true,
    meaning: "the appliance failed (500, 502, unparseable or unexpected response)",
  },
  VNF_UNREACHABLE: {
    retryable: true,
    meaning: "no connection (refused, reset, DNS, TLS handshake, connect timeout)",
  },
  VNF_CAPACITY: {
    retryable: true,
    meaning: "the appliance is busy or temporarily full (503, configuration lock held, commit running)",
  },
  VNF_RATE_LIMIT: {
    retryable: true,
    meaning: "too many requests (429)",
  },
  BROKER_INVALID_REQUEST: {
    retryable: false,
    meaning: "the rule cannot be expressed for this appliance (template refused it, missing input)",
  },
  BROKER_INTERNAL: {
    retryable: false,
    meaning: "a bug in the operator or the dictionary",
  },
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODE_TABLE[code].retryable;
}

/** The retryable codes, derived from the table (for clients that list them, e.g. the shim). */
export const RETRYABLE_CODES: readonly ErrorCode[] = ERROR_CODES.filter(isRetryable);

export interface VnfErrorOptions {
  retryAfterMs?: number;
  httpStatus?: number;
  vendorMessage?: string;
  /** The object the operation addressed does not exist on the appliance. */
  notFound?: boolean;
  /** The appliance's raw answer (capped, control characters escaped): for the debug log only. */
  responseBody?: string;
  /** A condition reason more specific than the code (e.g. EndpointNotAllowed). */
  reason?: string;
  /**
   * A transport failure before any answer (connection refused or reset): the one kind of failure the
   * session re-sends within a call, briefly.
   */
  transport?: boolean;
  cause?: unknown;
}

/** An appliance operation failure. Its message never carries credentials (the session scrubs them). */
export class VnfError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly httpStatus?: number;
  readonly vendorMessage?: string;
  readonly notFound: boolean;
  readonly transport: boolean;
  /** Debug log only: never in the message, status or Events (the appliance's own words). */
  readonly responseBody?: string;
  /** A condition reason more specific than the code (e.g. EndpointNotAllowed). */
  readonly reason?: string;

  constructor(code: ErrorCode, message: string, options: VnfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VnfError";
    this.code = code;
    this.retryable = isRetryable(code);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
    if (options.vendorMessage !== undefined) this.vendorMessage = options.vendorMessage;
    this.notFound = options.notFound ?? false;
    this.transport = options.transport ?? false;
    if (options.responseBody !== undefined) this.responseBody = options.responseBody;
    if (options.reason !== undefined) this.reason = options.reason;
  }

  /** A copy whose texts went through `scrub` (used to remove secrets before an error leaves a session). */
  scrubbed(scrub: (text: string) => string): VnfError {
    const options: VnfErrorOptions = { notFound: this.notFound, transport: this.transport };
    if (this.retryAfterMs !== undefined) options.retryAfterMs = this.retryAfterMs;
    if (this.httpStatus !== undefined) options.httpStatus = this.httpStatus;
    if (this.vendorMessage !== undefined) options.vendorMessage = scrub(this.vendorMessage);
    if (this.responseBody !== undefined) options.responseBody = scrub(this.responseBody);
    if (this.reason !== undefined) options.reason = this.reason;
    return new VnfError(this.code, scrub(this.message), options);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      retryable: this.retryable,
      message: this.message,
      ...(this.httpStatus === undefined ? {} : { httpStatus: this.httpStatus }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.vendorMessage === undefined ? {} : { vendorMessage: this.vendorMessage }),
      ...(this.notFound ? { notFound: true } : {}),
    };
  }
}

/** Raised by the `fail()` template function: the dictionary refuses this input on purpose. */
export class TemplateRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateRefusal";
  }
}
