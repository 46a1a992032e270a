// How one outcome is told to each client family: the status code and error code per dialect, and
// that "final" vs "ask again" comes from the operator's retryable-code table.
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isRetryable } from "../../../src/dictionary/errors.ts";
import {
  type Dialect,
  FAILURE_STATUS,
  failureReply,
  type Operation,
  ruleReply,
  verdictOf,
} from "../../../src/shim/dialects.ts";
import { HttpError, toFailure } from "../../../src/shim/errors.ts";
import type { RuleAnswer } from "../../../src/shim/outcome.ts";

const completed: RuleAnswer = {
  state: "Completed",
  vendorRef: "17",
  appliedAt: "2026-01-01T00:00:00Z",
  message: "ok",
};
const refused: RuleAnswer = { state: "Failed", errorCode: "VNF_INVALID", message: "400 from the appliance" };
const pendingPlain: RuleAnswer = { state: "Pending", message: "not Ready within 20s" };
const pendingUnreachable: RuleAnswer = { state: "Pending", errorCode: "VNF_UNREACHABLE", message: "down" };
const pendingRateLimited: RuleAnswer = { state: "Pending", errorCode: "VNF_RATE_LIMIT", message: "429" };

function reply(dialect: Dialect, answer: RuleAnswer, operation: Operation = "create", created = true) {
  const r = ruleReply(dialect, { answer, ruleId: "r1", instanceId: "42", created, operation }, "req-1");
  return { status: r.status, body: r.body as Record<string, unknown> };
}

describe("verdictOf: the retryable-code table decides final vs ask again", () => {
  it.each(ERROR_CODES)("a Stalled rule with %s", (code) => {
    expect(verdictOf({ state: "Failed", errorCode: code, message: "" }).kind).toBe(
      isRetryable(code) ? "retry" : "refused",
    );
  });

  it("Pending is always ask again; Completed is done; unknown codes are final", () => {
    expect(verdictOf(pendingPlain)).toEqual({ kind: "retry", code: "VNF_TIMEOUT" });
    expect(verdictOf(completed)).toEqual({ kind: "done" });
    expect(verdictOf({ state: "Failed", errorCode: "SOMETHING_ELSE", message: "" }).kind).toBe("refused");
  });
});

describe("ruleReply", () => {
  it.each<[string, Dialect, RuleAnswer, Operation, boolean, number, string | null]>([
    // network element: exactly 200 for success, non-200 + errorCode for every failure, retries only
    // VNF_TIMEOUT and VNF_RATE_LIMIT.
    ["ne created", "network-element", completed, "create", true, 200, null],
    ["ne repeat", "network-element", completed, "create", false, 200, null],
    ["ne refused", "network-element", refused, "create", true, 422, "VNF_INVALID"],
    ["ne undecided", "network-element", pendingPlain, "create", true, 504, "VNF_TIMEOUT"],
    ["ne device down", "network-element", pendingUnreachable, "create", true, 504, "VNF_TIMEOUT"],
    ["ne appliance 429", "network-element", pendingRateLimited, "create", true, 429, "VNF_RATE_LIMIT"],
    ["ne deleted", "network-element", completed, "delete", false, 200, null],
    // service: 2xx success, 4xx refusal, 5xx ask again.
    ["svc created", "service", completed, "create", true, 201, null],
    ["svc repeat", "service", completed, "create", false, 200, null],
    ["svc updated", "service", completed, "update", false, 200, null],
    ["svc refused", "service", refused, "create", true, 422, "VNF_INVALID"],
    ["svc undecided", "service", pendingUnreachable, "create", true, 504, "VNF_UNREACHABLE"],
    // enhanced: 201 new / 200 existing, 400 refusal, 429, 503.
    ["enh created", "enhanced", completed, "create", true, 201, null],
    ["enh repeat", "enhanced", completed, "create", false, 200, null],
    ["enh refused", "enhanced", refused, "create", true, 400, "VNF_INVALID"],
    ["enh undecided", "enhanced", pendingUnreachable, "create", true, 503, "VNF_UNREACHABLE"],
    ["enh rate limited", "enhanced", pendingRateLimited, "create", true, 429, "VNF_RATE_LIMIT"],
  ])("%s", (_name, dialect, answer, operation, created, status, code) => {
    const r = reply(dialect, answer, operation, created);
    expect(r.status).toBe(status);
    expect(r.body.errorCode ?? null).toBe(code);
    expect(r.body.success).toBe(answer.state === "Completed");
  });

  it("tells the network element the underlying code next to the one that makes it retry", () => {
    const r = reply("network-element", pendingUnreachable);
    expect(r.body).toMatchObject({
      errorCode: "VNF_TIMEOUT",
      lastErrorCode: "VNF_UNREACHABLE",
      vendorRef: null,
    });
    expect(r.body.error).toEqual({ code: "VNF_TIMEOUT", message: "down", retryable: true });
  });

  it("gives a repeat the same body (no time or request id in the broker answer)", () => {
    expect(reply("network-element", completed).body).toEqual(
      reply("network-element", completed, "create", false).body,
    );
    expect(reply("network-element", completed).body).toMatchObject({
      vendorRef: "17",
      appliedAt: "2026-01-01T00:00:00Z",
      errorCode: null,
    });
  });

  it("answers the enhanced family with its status words", () => {
    expect(reply("enhanced", completed, "create", true).body.status).toBe("created");
    expect(reply("enhanced", completed, "create", false).body.status).toBe("exists");
    expect(reply("enhanced", completed, "update", false).body.status).toBe("updated");
    expect(reply("enhanced", completed, "delete", false).body.status).toBe("deleted");
    expect(reply("enhanced", pendingRateLimited).body.retry_after).toBe(1);
  });
});

describe("failureReply", () => {
  const failure = (error: unknown) => toFailure(error, () => {});
  it("tells a busy shim to the service as a 5xx (it does not retry 4xx)", () => {
    const limited = failure(new HttpError("rate_limited", "too many"));
    expect(failureReply("network-element", limited, "r").status).toBe(429);
    expect((failureReply("network-element", limited, "r").body as { errorCode: string }).errorCode).toBe(
      "VNF_RATE_LIMIT",
    );
    expect(failureReply("service", limited, "r").status).toBe(503);
    expect(failureReply("enhanced", limited, "r").status).toBe(429);
  });

  it("validation: 422 for the network element (and the scaffold), 400 elsewhere, 'Validation error' for the enhanced", () => {
    const invalid = failure(new HttpError("invalid", "bad"));
    expect(FAILURE_STATUS.invalid).toEqual({ "network-element": 422, service: 400, enhanced: 400 });
    expect((failureReply("enhanced", invalid, "r").body as { error: string }).error).toBe("Validation error");
  });

  it("a token: missing is 401 everywhere; invalid is 401, except 403 for the enhanced family", () => {
    const missing = failure(new HttpError("unauthenticated", "no token", { reason: "missing" }));
    const expired = failure(new HttpError("unauthenticated", "expired", { reason: "expired" }));
    for (const dialect of ["network-element", "service", "enhanced"] as const)
      expect(failureReply(dialect, missing, "r").status).toBe(401);
    expect(failureReply("network-element", expired, "r").status).toBe(401);
    expect(failureReply("service", expired, "r").status).toBe(401);
    expect(failureReply("enhanced", expired, "r").status).toBe(403);
  });

  it("every failure carries a JSON errorCode (what the network element reads)", () => {
    for (const category of Object.keys(FAILURE_STATUS) as Array<keyof typeof FAILURE_STATUS>) {
      const body = failureReply("network-element", failure(new HttpError(category, "x")), "r").body as {
        errorCode: string;
      };
      expect(body.errorCode, category).toMatch(/^(VNF|BROKER)_[A-Z_]+$/);
    }
  });
});
