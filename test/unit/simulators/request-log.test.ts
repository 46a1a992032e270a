import { describe, expect, it } from "vitest";
import { createRedactor, RequestLog } from "../../simulators/common/request-log.ts";

describe("createRedactor", () => {
  const credentials = { username: "admin", password: "pa:ss/word", token: "tok-0123456789" };
  const redactor = createRedactor({ headers: ["x-vendor-secret"], query: ["sid"] }, () => credentials);

  it("redacts credential headers, keeping the auth scheme", () => {
    expect(
      redactor.headers({
        authorization: "Bearer tok-0123456789",
        "x-api-key": "k",
        "x-vendor-secret": "s",
        cookie: "a=b",
        accept: "application/json",
      }),
    ).toEqual({
      authorization: "Bearer [REDACTED]",
      "x-api-key": "[REDACTED]",
      "x-vendor-secret": "[REDACTED]",
      cookie: "[REDACTED]",
      accept: "application/json",
    });
    expect(redactor.headers({ authorization: "opaque" }).authorization).toBe("[REDACTED]");
  });

  it("redacts credential query parameters, repeated ones too", () => {
    const query = new URLSearchParams("access_token=x&sid=1&sid=2&page=3&key=k");
    expect(redactor.query(query)).toEqual({
      access_token: "[REDACTED]",
      sid: ["[REDACTED]", "[REDACTED]"],
      page: "3",
      key: "[REDACTED]",
    });
  });

  it("removes credential values anywhere in text, raw, URL-encoded or as Basic base64, but not the user name", () => {
    const basic = Buffer.from("admin:pa:ss/word").toString("base64");
    const text = `user admin pass pa:ss/word enc ${encodeURIComponent("pa:ss/word")} basic ${basic} tok tok-0123456789`;
    expect(redactor.text(text)).toBe(
      "user admin pass [REDACTED] enc [REDACTED] basic [REDACTED] tok [REDACTED]",
    );
  });

  it("follows credential rotation", () => {
    let current: Record<string, string> = { token: "first-token" };
    const rotating = createRedactor({}, () => current);
    current = { token: "second-token" };
    expect(rotating.text("first-token second-token")).toBe("first-token [REDACTED]");
  });
});

describe("RequestLog", () => {
  const arrival = { time: "t", method: "GET", path: "/a", query: {}, headers: {}, body: "" };

  it("numbers entries, completes them once, filters and keeps the newest within capacity", () => {
    const log = new RequestLog(2);
    const first = log.start(arrival);
    log.finish(first, "answered", 200, performance.now());
    log.finish(first, "aborted", null, performance.now());
    log.start({ ...arrival, method: "POST", path: "/b" });
    log.start({ ...arrival, path: "/a/c" });
    expect(log.total).toBe(3);
    expect(log.list().map((e) => e.seq)).toEqual([2, 3]);
    expect(log.list({ method: "post" }).map((e) => e.path)).toEqual(["/b"]);
    expect(log.list({ pathPrefix: "/a" }).map((e) => e.seq)).toEqual([3]);
    expect(first).toMatchObject({ outcome: "answered", status: 200 });
    log.clear();
    expect(log.list()).toEqual([]);
    expect(log.total).toBe(3);
  });
});
