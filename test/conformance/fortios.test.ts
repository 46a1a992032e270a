// FortiOS simulator driven by the two FortiGate SDKs on PyPI: fortigate-api 2.0.8 and fortiosapi 1.0.5,
// each with a REST API token and with an administrator's session (/logincheck + CSRF token).
import { afterEach, describe, expect, it } from "vitest";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { describeRun, resultOf, runSdk } from "./run-sdk.ts";
import { recordLayerTiming } from "./timing.ts";

recordLayerTiming(import.meta.filename, ["fortigate-api 2.0.8", "fortiosapi 1.0.5"]);

const admin = { username: "sdk-admin", password: "Fortinet-Sim-1!" };

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function policyNames(handle: SimulatorHandle): Promise<string[]> {
  return (await handle.control.objects("firewallRule")).candidate.map((p) => String(p.name));
}

async function drive(driver: string, mode: "token" | "session", version?: string) {
  sim = await startSimulator("fortios", { admin, ...(version ? { version } : {}) });
  const handle = sim;
  const seen: Record<string, string[]> = {};
  const run = await runSdk(driver, handle, {
    credentials: { ...handle.credentials, ...admin },
    env: { SDK_MODE: mode },
    onCheckpoint: async (name) => {
      seen[name] = await policyNames(handle);
    },
  });
  const requests = await handle.control.requests();
  return { run, seen, requests };
}

describe("fortigate-api 2.0.8", () => {
  it.each(["token", "session"] as const)(
    "%s: lists VDOMs, creates policies, gets one by filter, moves it, deletes by id and by filter",
    async (mode) => {
      const { run, seen, requests } = await drive("fortios_fortigate_api", mode);
      expect(run.exitCode, describeRun(run)).toBe(0);
      expect(resultOf(run, "vdoms")).toEqual(["root"]);
      expect(resultOf(run, "get by filter")).toMatchObject({ name: `sdk-${mode}-second`, action: "accept" });
      expect(seen).toEqual({
        created: [`sdk-${mode}-first`, `sdk-${mode}-second`],
        moved: [`sdk-${mode}-second`, `sdk-${mode}-first`],
        deleted: [],
      });
      const api = requests.filter((r) => r.path.startsWith("/api/v2/"));
      // Scoped to the root VDOM (all but the token check at login); JSON bodies without a Content-Type.
      const scoped = api.filter((r) => r.path !== "/api/v2/monitor/system/status");
      expect(scoped.length).toBeGreaterThan(5);
      expect(scoped.every((r) => r.query.vdom === "root")).toBe(true);
      const posts = api.filter((r) => r.method === "POST");
      expect(posts).toHaveLength(2);
      expect(posts.every((r) => r.headers["content-type"] === undefined)).toBe(true);
      if (mode === "session") {
        expect(requests.map((r) => r.path)).toContain("/logincheck");
        expect(
          api.every((r) => r.headers.authorization === undefined && r.headers.cookie !== undefined),
        ).toBe(true);
        expect(posts.every((r) => r.headers["x-csrftoken"] === "[REDACTED]")).toBe(true);
        expect(requests.at(-1)?.path).toBe("/logout");
        // The administrator's password never reaches the request log.
        expect(JSON.stringify(requests)).not.toContain(admin.password);
      } else {
        expect(api.every((r) => r.headers.authorization === "Bearer [REDACTED]")).toBe(true);
      }
    },
  );
});

describe("fortiosapi 1.0.5", () => {
  it("tokenlogin: creates policies (POST without Content-Type), gets by filter, moves, deletes", async () => {
    const { run, seen } = await drive("fortios_fortiosapi", "token");
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "get_version")).toBe("v7.4.5");
    expect(resultOf(run, "vdoms")).toEqual(["root"]);
    expect(resultOf(run, "get by filter")).toMatchObject({ name: "fosapi-token-2" });
    expect(seen).toEqual({
      created: ["fosapi-token-1", "fosapi-token-2"],
      moved: ["fosapi-token-2", "fosapi-token-1"],
      deleted: [],
    });
  });

  it("login (session) on FortiOS 6.4, whose CSRF cookie is still named ccsrftoken", async () => {
    const { run, seen, requests } = await drive("fortios_fortiosapi", "session", "v6.4.15");
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "get_version")).toBe("v6.4.15");
    expect(seen).toEqual({
      created: ["fosapi-session-1", "fosapi-session-2"],
      moved: ["fosapi-session-2", "fosapi-session-1"],
      deleted: [],
    });
    const login = requests.find((r) => r.path === "/logincheck");
    expect(new URLSearchParams(login?.body ?? "").get("ajax")).toBe("1");
  });

  it("login (session) on FortiOS 7.4.5: its writes are refused with 403, as on a real 7.2.4+ box (the SDK looks only for a cookie named exactly ccsrftoken)", async () => {
    const { run } = await drive("fortios_fortiosapi", "session");
    expect(resultOf(run, "login")).toBe(true);
    const post = run.steps.find((s) => s.step === "post first");
    expect(post?.ok).toBe(false);
    expect(post?.error).toMatch(/'http_status': 403/);
  });
});
