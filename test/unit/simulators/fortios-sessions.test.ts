// FortiOS administrator sessions: which cookies /logincheck sets on which firmware, and which requests a
// session authorises (writes need the CSRF token echoed).
import { describe, expect, it } from "vitest";
import type { SimRequest } from "../../simulators/common/vendor.ts";
import { parseFirmware } from "../../simulators/fortios/firmware.ts";
import { AdminSessions } from "../../simulators/fortios/sessions.ts";

const admin = { username: "admin", password: "s3cret" };

function request(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): SimRequest {
  return {
    method,
    path,
    query: new URLSearchParams(),
    headers: { host: "127.0.0.1:10443", ...init.headers },
    body: init.body ?? "",
    remoteAddress: "127.0.0.1",
  };
}

function login(version: string, form = "username=admin&secretkey=s3cret&ajax=1") {
  const sessions = new AdminSessions(admin, "FGVMSIM000000001", parseFirmware(version));
  return { sessions, answer: sessions.login(request("POST", "/logincheck", { body: form })) };
}

const cookieNames = (cookies: string[] | undefined) => (cookies ?? []).map((c) => c.slice(0, c.indexOf("=")));

describe("FortiOS /logincheck", () => {
  it.each([
    ["v6.4.15", ["ccsrftoken", "ccsrftoken_"]],
    ["v7.0.13", ["ccsrftoken", "ccsrftoken_"]],
    ["v7.0.14", ["ccsrftoken_10443"]],
    ["v7.2.3", ["ccsrftoken", "ccsrftoken_"]],
    ["v7.2.4", ["ccsrftoken_10443"]],
    ["v7.4.5", ["ccsrftoken_10443"]],
  ])("%s names its CSRF cookie %j", (version, expected) => {
    const { answer } = login(version);
    expect(answer.body).toBe("1");
    const names = cookieNames(answer.cookies);
    expect(names[0]).toMatch(/^APSCOOKIE_\d+$/);
    expect(
      names
        .slice(1)
        .map((n) => (n.startsWith("ccsrftoken_") && n !== "ccsrftoken_10443" ? "ccsrftoken_" : n)),
    ).toEqual(expected);
  });

  it("from 7.6.3 sets no session cookie", () => {
    const { answer } = login("v7.6.3");
    expect(answer.body).toBe("1");
    expect(answer.cookies).toBeUndefined();
  });

  it("refuses a wrong password with a body starting with 0 and no cookie", () => {
    const { answer } = login("v7.4.5", "username=admin&secretkey=nope");
    expect(String(answer.body).startsWith("0")).toBe(true);
    expect(answer.cookies).toBeUndefined();
  });

  it("authorises reads with the session cookie, writes only with the CSRF token echoed, nothing after logout", () => {
    const { sessions, answer } = login("v7.4.5");
    const [session = "", token = ""] = (answer.cookies ?? []).map((c) => c.slice(0, c.indexOf(";")));
    const csrf = token.slice(token.indexOf("=") + 1).replaceAll('"', "");
    const cookie = `${session}; ${token}`;
    expect(sessions.check(request("GET", "/api/v2/cmdb/firewall/policy", { headers: { cookie } }))).toEqual({
      user: "admin",
    });
    expect(sessions.check(request("POST", "/api/v2/cmdb/firewall/policy", { headers: { cookie } }))).toEqual({
      refused: "csrf",
    });
    expect(
      sessions.check(
        request("POST", "/api/v2/cmdb/firewall/policy", { headers: { cookie, "x-csrftoken": csrf } }),
      ),
    ).toEqual({ user: "admin" });
    sessions.logout(request("GET", "/logout", { headers: { cookie } }));
    expect(sessions.check(request("GET", "/api/v2/cmdb/firewall/policy", { headers: { cookie } }))).toEqual({
      refused: "no-session",
    });
  });
});
