// What can go wrong with a request, independent of who asked: each failure has a category (what a
// client should do about it) and an error code. dialects.ts turns a failure into the status code and
// body the calling client family understands.
import { isErrorCode, isRetryable } from "../dictionary/errors.ts";
import { KubeApiError } from "../runtime/kube-http.ts";
import { RequestValidationError, type ValidationDetail } from "./wire.ts";

export type FailureCategory =
  /** The request is malformed or names something impossible: fix the request. */
  | "invalid"
  /** No token, or a token that does not verify (missing: `reason` "missing"). */
  | "unauthenticated"
  /** A valid token without the scope the route needs. */
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  /** The ruleId is taken (another instance) or the devices are ambiguous. */
  | "conflict"
  | "too_large"
  /** The shim's own per-subject request budget. */
  | "rate_limited"
  /** The shim cannot decide now (the API server is unavailable): ask again. */
  | "unavailable"
  | "internal";

export interface Failure {
  category: FailureCategory;
  errorCode: string;
  message: string;
  details?: ValidationDetail[];
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
  /** For "unauthenticated": why (missing, expired, bad_signature, …). */
  reason?: string;
}

/** A failure thrown by a handler. */
export class HttpError extends Error {
  readonly failure: Failure;
  constructor(
    category: FailureCategory,
    message: string,
    options: Partial<Omit<Failure, "category" | "message">> = {},
  ) {
    super(message);
    this.failure = { ...options, category, message, errorCode: options.errorCode ?? defaultCode(category) };
  }
}

function defaultCode(category: FailureCategory): string {
  switch (category) {
    case "conflict":
      return "VNF_CONFLICT";
    case "rate_limited":
      return "VNF_RATE_LIMIT";
    case "unavailable":
      return "VNF_TIMEOUT";
    case "internal":
      return "BROKER_INTERNAL";
    default:
      return "BROKER_INVALID_REQUEST";
  }
}

/**
 * Whether a client may send the same request again later and succeed, per the operator's one
 * retryable-code table (src/dictionary/errors.ts). Codes outside the table are not retryable.
 */
export function retryableCode(code: string): boolean {
  return isErrorCode(code) && isRetryable(code);
}

/**
 * API server answers that may pass if asked again (no connection, throttled, overloaded, a write
 * conflict); anything else (forbidden, not found on a path we built) is a configuration error.
 */
function transientApiError(error: KubeApiError): boolean {
  return error.status === 0 || error.status === 409 || error.status === 429 || error.status >= 500;
}

/** Any thrown value → a failure. `onUnexpected` logs what is not a known failure. */
export function toFailure(error: unknown, onUnexpected: (error: unknown) => void): Failure {
  if (error instanceof HttpError) return error.failure;
  if (error instanceof RequestValidationError)
    return {
      category: "invalid",
      errorCode: "BROKER_INVALID_REQUEST",
      message: "Validation error",
      details: error.details,
    };
  if (error instanceof KubeApiError) {
    onUnexpected(error);
    const answered = `the Kubernetes API server answered ${error.status || "nothing"} ${error.reason}`;
    return transientApiError(error)
      ? { category: "unavailable", errorCode: "VNF_TIMEOUT", message: `${answered}; retry` }
      : { category: "internal", errorCode: "BROKER_INTERNAL", message: answered };
  }
  onUnexpected(error);
  return { category: "internal", errorCode: "BROKER_INTERNAL", message: "internal error" };
}

/** API server refusals of a rule (admission, CEL) → field-level validation details. */
export function fromApiError(error: unknown): unknown {
  if (error instanceof KubeApiError && (error.status === 422 || error.status === 400)) {
    const causes =
      (error.details as { causes?: Array<{ field?: string; message?: string; reason?: string }> } | undefined)
        ?.causes ?? [];
    const details: ValidationDetail[] = causes.length
      ? causes.map((c) => ({
          loc: [
            "spec",
            ...(c.field ?? "")
              .replace(/^spec\.?/, "")
              .split(".")
              .filter(Boolean),
          ],
          msg: c.message ?? "invalid",
          type: c.reason ?? "value_error",
        }))
      : [{ loc: ["spec"], msg: error.message, type: "value_error" }];
    return new RequestValidationError(details);
  }
  return error;
}
