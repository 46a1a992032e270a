// How each client family is told an outcome (pure). The same outcome must read the same to every
// client, but the clients read status codes differently:
//  - network-element: CloudStack's client.VnfBrokerClient (the network element's per-device client)
//    takes exactly 200 as success and reads errorCode of any other answer; it retries only
//    VNF_TIMEOUT and VNF_RATE_LIMIT. The scaffold broker family's routes are its routes.
//  - service: CloudStack's broker.VnfBrokerClient (the service's global client): any 2xx is success,
//    4xx is a refusal (not retried), 5xx is retried.
//  - enhanced: the enhanced (Flask) broker family: 201 new / 200 existing, 400 refusals, 401/403
//    tokens, 429 rate limit, 503 "ask later".
// Whether an appliance failure is final or "ask again" comes from the operator's retryable-code table
// (errors.ts retryableCode), never from a list of our own.
import { type Failure, type FailureCategory, retryableCode } from "./errors.ts";
import type { RuleAnswer } from "./outcome.ts";

export type Dialect = "network-element" | "service" | "enhanced";
export type Operation = "create" | "update" | "delete";

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export interface RuleResult {
  answer: RuleAnswer;
  ruleId: string;
  instanceId?: string;
  /** This request created the rule (none of its resources existed before). */
  created: boolean;
  operation: Operation;
}

/** What the caller should do: nothing (it went through), give up (refused), or ask again. */
export type Verdict = { kind: "done" } | { kind: "refused"; code: string } | { kind: "retry"; code: string };

export function verdictOf(answer: RuleAnswer): Verdict {
  switch (answer.state) {
    case "Completed":
      return { kind: "done" };
    case "Failed":
      return retryableCode(answer.errorCode)
        ? { kind: "retry", code: answer.errorCode }
        : { kind: "refused", code: answer.errorCode };
    case "Pending":
      return { kind: "retry", code: answer.errorCode ?? "VNF_TIMEOUT" };
  }
}

/** The only codes client.VnfBrokerClient retries: every "ask again" must be told as one of them. */
export const NETWORK_ELEMENT_RETRY_CODES = ["VNF_TIMEOUT", "VNF_RATE_LIMIT"] as const;

// ---- rule answers ------------------------------------------------------------------------------

/** The code the client is told and the status it is told it with. */
function statusOf(
  dialect: Dialect,
  result: RuleResult,
  verdict: Verdict,
): { status: number; code: string | null } {
  if (verdict.kind === "done") {
    const created = result.operation === "create" && result.created;
    return { status: created && dialect !== "network-element" ? 201 : 200, code: null };
  }
  if (verdict.kind === "refused") return { status: dialect === "enhanced" ? 400 : 422, code: verdict.code };
  const rateLimited = verdict.code === "VNF_RATE_LIMIT";
  switch (dialect) {
    case "network-element":
      return rateLimited ? { status: 429, code: "VNF_RATE_LIMIT" } : { status: 504, code: "VNF_TIMEOUT" };
    case "service":
      return { status: 504, code: verdict.code };
    case "enhanced":
      return { status: rateLimited ? 429 : 503, code: verdict.code };
  }
}

export function ruleReply(dialect: Dialect, result: RuleResult, requestId: string): Reply {
  const { answer } = result;
  const verdict = verdictOf(answer);
  const { status, code } = statusOf(dialect, result, verdict);
  const underlying = answer.state === "Completed" ? undefined : answer.errorCode;
  if (dialect === "enhanced") return { status, body: enhancedRuleBody(result, verdict, code, requestId) };
  const done = answer.state === "Completed";
  // No per-request values (time, request id) in this body: a repeat gets the same body.
  const body: Record<string, unknown> = {
    success: done,
    ok: done,
    ruleId: result.ruleId,
    ...(result.instanceId ? { vnfInstanceId: result.instanceId } : {}),
    state: answer.state,
    vendorRef: done ? answer.vendorRef : null,
    errorCode: code,
    message: answer.message,
    appliedAt: done ? (answer.appliedAt ?? null) : null,
    warnings: [],
  };
  if (code) {
    body.error = { code, message: answer.message, retryable: verdict.kind === "retry" };
    if (underlying && underlying !== code) body.lastErrorCode = underlying;
  }
  return { status, body };
}

const ENHANCED_STATUS: Record<Operation, (created: boolean) => string> = {
  create: (created) => (created ? "created" : "exists"),
  update: () => "updated",
  delete: () => "deleted",
};

function enhancedRuleBody(
  result: RuleResult,
  verdict: Verdict,
  code: string | null,
  requestId: string,
): Record<string, unknown> {
  const { answer } = result;
  const common = {
    ruleId: result.ruleId,
    ...(result.instanceId ? { vnfInstanceId: result.instanceId } : {}),
    request_id: requestId,
  };
  if (answer.state === "Completed")
    return {
      success: true,
      ...common,
      status: ENHANCED_STATUS[result.operation](result.created),
      vendorRef: answer.vendorRef,
      message: answer.message,
      timestamp: answer.appliedAt ?? new Date().toISOString(),
    };
  return {
    success: false,
    ...common,
    error: verdict.kind === "refused" ? "Rejected by the appliance" : "Not applied yet",
    errorCode: code,
    message: answer.message,
    timestamp: new Date().toISOString(),
    ...(code === "VNF_RATE_LIMIT" ? { retry_after: 1 } : {}),
  };
}

// ---- other failures ----------------------------------------------------------------------------

/** Status code of a failure per dialect (docs/cloudstack-shim.md has this table). */
export const FAILURE_STATUS: Readonly<Record<FailureCategory, Readonly<Record<Dialect, number>>>> = {
  invalid: { "network-element": 422, service: 400, enhanced: 400 },
  unauthenticated: { "network-element": 401, service: 401, enhanced: 401 },
  forbidden: { "network-element": 403, service: 403, enhanced: 403 },
  not_found: { "network-element": 404, service: 404, enhanced: 404 },
  method_not_allowed: { "network-element": 405, service: 405, enhanced: 405 },
  conflict: { "network-element": 409, service: 409, enhanced: 409 },
  too_large: { "network-element": 413, service: 413, enhanced: 413 },
  // The service's client does not retry a 4xx: a busy shim is a 5xx to it.
  rate_limited: { "network-element": 429, service: 503, enhanced: 429 },
  unavailable: { "network-element": 503, service: 503, enhanced: 503 },
  internal: { "network-element": 500, service: 500, enhanced: 500 },
};

/** The enhanced family's error texts ("error" member). */
const ENHANCED_ERROR: Record<FailureCategory, string> = {
  invalid: "Validation error",
  unauthenticated: "Unauthorized",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  too_large: "Payload too large",
  rate_limited: "Rate limit exceeded",
  unavailable: "Service unavailable",
  internal: "Internal error",
};

export function failureStatus(dialect: Dialect, failure: Failure): number {
  // The enhanced family answers a token it cannot verify with 403 (no token at all: 401).
  if (dialect === "enhanced" && failure.category === "unauthenticated" && failure.reason !== "missing")
    return 403;
  return FAILURE_STATUS[failure.category][dialect];
}

export function failureReply(dialect: Dialect, failure: Failure, requestId: string): Reply {
  const status = failureStatus(dialect, failure);
  const body: Record<string, unknown> = {
    success: false,
    ...(dialect === "enhanced" ? {} : { ok: false }),
    error: dialect === "enhanced" ? ENHANCED_ERROR[failure.category] : failure.category,
    errorCode: failure.errorCode,
    message: failure.message,
    timestamp: new Date().toISOString(),
    request_id: requestId,
    ...(failure.details ? { details: failure.details } : {}),
    ...(failure.extra ?? {}),
  };
  return { status, body, ...(failure.headers ? { headers: failure.headers } : {}) };
}
