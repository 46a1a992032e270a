// Error mapping: each status class to its code, dictionary rules first, Retry-After parsed; and the
// retryability table, one decision per code.
import { describe, expect, it } from "vitest";
import { transportError } from "../../../src/appliance/http.ts";
import type { CompiledErrorRule } from "../../../src/dictionary/compiled.ts";
import { codeForStatus, mapResponseError, parseRetryAfter } from "../../../src/dictionary/error-mapping.ts";
import {
  ERROR_CODE_TABLE,
  ERROR_CODES,
  type ErrorCode,
  isRetryable,
  RETRYABLE_CODES,
  VnfError,
} from "../../../src/dictionary/errors.ts";
import { compilePredicate } from "../../../src/dictionary/predicates.ts";

describe("retryability table", () => {
  const decided: Record<ErrorCode, boolean> = {
    VNF_TIMEOUT: true,
    VNF_AUTH: false,
    VNF_CONFLICT: false,
    VNF_INVALID: false,
    VNF_UPSTREAM: true,
    VNF_UNREACHABLE: true,
    VNF_CAPACITY: true,
    VNF_RATE_LIMIT: true,
    BROKER_INVALID_REQUEST: false,
    BROKER_INTERNAL: false,
  };

  it("covers exactly the ten codes", () => {
    expect(Object.keys(ERROR_CODE_TABLE).sort()).toEqual([...ERROR_CODES].sort());
    expect(ERROR_CODES).toHaveLength(10);
  });

  it.each(Object.entries(decided))("%s retryable = %s", (code, retryable) => {
    expect(isRetryable(code as ErrorCode)).toBe(retryable);
    expect(new VnfError(code as ErrorCode, "m").retryable).toBe(retryable);
  });

  it("RETRYABLE_CODES is derived from the table (what the shim tells its clients)", () => {
    expect([...RETRYABLE_CODES].sort()).toEqual(
      Object.entries(decided)
        .filter(([, retryable]) => retryable)
        .map(([code]) => code)
        .sort(),
    );
  });

  it("a transport failure is marked as such, and stays marked when scrubbed", () => {
    const error = new VnfError("VNF_UNREACHABLE", "reset by peer secret", { transport: true });
    expect(error.transport).toBe(true);
    expect(error.scrubbed((t) => t.replace("secret", "***")).transport).toBe(true);
    expect(new VnfError("VNF_UPSTREAM", "500").transport).toBe(false);
  });
});

describe("built-in status mapping", () => {
  it.each([
    [400, "VNF_INVALID"],
    [401, "VNF_AUTH"],
    [403, "VNF_AUTH"],
    [404, "VNF_INVALID"],
    [408, "VNF_TIMEOUT"],
    [409, "VNF_CONFLICT"],
    [422, "VNF_INVALID"],
    [424, "VNF_INVALID"],
    [429, "VNF_RATE_LIMIT"],
    [500, "VNF_UPSTREAM"],
    [502, "VNF_UPSTREAM"],
    [503, "VNF_CAPACITY"],
    [504, "VNF_TIMEOUT"],
    [200, "VNF_UPSTREAM"],
  ])("HTTP %i → %s", (status, code) => {
    expect(codeForStatus(status)).toBe(code);
  });
});

describe("dictionary error rules", () => {
  const rules: CompiledErrorRule[] = [
    {
      when: compilePredicate({ status: 424, path: "$.error", equals: -5 }, []),
      code: "VNF_CONFLICT",
      message: { describe: "$.cli_error", optional: false, path: "$.cli_error" },
    },
    {
      when: compilePredicate({ path: "$.result", equals: "failed" }, []),
      code: "VNF_INVALID",
      message: { describe: "$.validations", optional: false, path: "$.validations" },
    },
    { when: compilePredicate({ path: "$.response['@status']", equals: "error" }, []), code: "VNF_INVALID" },
  ];
  const map = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    mapResponseError({ response: { status, headers, body }, rules, context: {}, label: "op", now: 0 });

  it("matches the first rule in order and takes the vendor message from it", () => {
    const e = map(424, { error: -5, cli_error: "duplicate entry" });
    expect(e.code).toBe("VNF_CONFLICT");
    expect(e.vendorMessage).toBe("duplicate entry");
    expect(e.message).toBe("op: HTTP 424: duplicate entry");
    expect(e.retryable).toBe(false);
  });

  it("maps a 200 whose body says it failed (OPNsense style)", () => {
    const e = map(200, { result: "failed", validations: { "rule.action": "Option not in list." } });
    expect(e.code).toBe("VNF_INVALID");
    expect(e.vendorMessage).toBe('{"rule.action":"Option not in list."}');
  });

  it("escapes control characters and caps the extracted vendor message", () => {
    const e = map(424, { error: -5, cli_error: `bad\u001b[2J\r\nFAKE LOG LINE ${"x".repeat(600)}` });
    expect(e.vendorMessage?.startsWith("bad\\u001b[2J\\r\\nFAKE LOG LINE xxx")).toBe(true);
    expect(e.vendorMessage).toMatch(/… \(\d+ more characters\)$/);
    expect([...e.message].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
  });

  it("maps parsed XML error envelopes (PAN-OS style)", () => {
    expect(map(200, { response: { "@status": "error", "@code": "12" } }).code).toBe("VNF_INVALID");
  });

  it("falls back to the status table and keeps Retry-After", () => {
    const e = map(429, "<html>busy</html>", { "retry-after": "3" });
    expect(e.code).toBe("VNF_RATE_LIMIT");
    expect(e.retryAfterMs).toBe(3000);
    expect(e.retryable).toBe(true);
    expect(e.httpStatus).toBe(429);
  });
});

describe("Retry-After", () => {
  it.each([
    ["5", 5000],
    ["0", 0],
    ["1.5", 1500],
    [new Date(10_000).toUTCString(), 10_000],
    ["garbage", undefined],
    [undefined, undefined],
  ])("%j → %j ms", (value, ms) => {
    expect(parseRetryAfter(value, 0)).toBe(ms);
  });
});

describe("transport failures", () => {
  const withCode = (code: string, name = "Error") => Object.assign(new Error("x"), { code, name });
  it.each([
    ["UND_ERR_HEADERS_TIMEOUT", "VNF_TIMEOUT"],
    ["UND_ERR_BODY_TIMEOUT", "VNF_TIMEOUT"],
    ["UND_ERR_CONNECT_TIMEOUT", "VNF_UNREACHABLE"],
    ["ECONNREFUSED", "VNF_UNREACHABLE"],
    ["ECONNRESET", "VNF_UNREACHABLE"],
    ["UND_ERR_SOCKET", "VNF_UNREACHABLE"],
    ["ENOTFOUND", "VNF_UNREACHABLE"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "VNF_AUTH"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "VNF_AUTH"],
  ])("%s → %s", (code, expected) => {
    expect(transportError(withCode(code), "req").code).toBe(expected);
  });

  it("finds the code on a wrapped cause", () => {
    const wrapped = Object.assign(new Error("fetch failed"), { cause: withCode("ECONNREFUSED") });
    expect(transportError(wrapped, "req").message).toContain("ECONNREFUSED");
  });
});

describe("scrubbing", () => {
  it("removes secrets from message and vendor message, keeping the rest", () => {
    const withBody = new VnfError("VNF_AUTH", "login with tok3n failed", {
      vendorMessage: "bad tok3n",
      httpStatus: 401,
      responseBody: "echo: tok3n",
    });
    const s = withBody.scrubbed((t) => t.split("tok3n").join("***"));
    expect(s.message).toBe("login with *** failed");
    expect(s.vendorMessage).toBe("bad ***");
    expect(s.responseBody).toBe("echo: ***");
    expect(JSON.stringify(s.toJSON())).not.toContain("echo");
    expect(s.httpStatus).toBe(401);
    expect(s.code).toBe("VNF_AUTH");
  });
});
