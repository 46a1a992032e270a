import { describe, expect, it } from "vitest";
import { type Check, evaluateChecks, parseAddress } from "../../../src/runtime/probes.ts";

const checks = new Map<string, Check>([
  ["ping", () => {}],
  ["informers", () => Promise.reject(new Error("caches not synced yet: configmaps"))],
  ["leader", async () => {}],
]);
const healthy = new Map<string, Check>([
  ["ping", () => {}],
  ["leader", async () => {}],
]);

describe("evaluateChecks (controller-runtime healthz semantics)", () => {
  it.each([
    { name: "all pass, terse", checks: healthy, opts: {}, status: 200, body: "ok" },
    {
      name: "all pass, verbose",
      checks: healthy,
      opts: { verbose: true },
      status: 200,
      body: "[+]ping ok\n[+]leader ok\nreadyz check passed\n",
    },
    {
      name: "one fails: 500 with the list",
      checks,
      opts: {},
      status: 500,
      body: "[+]ping ok\n[-]informers failed: caches not synced yet: configmaps\n[+]leader ok\nreadyz check failed\n",
    },
    {
      name: "the failing one excluded",
      checks,
      opts: { exclude: ["informers"], verbose: true },
      status: 200,
      body: "[+]ping ok\n[+]informers excluded: ok\n[+]leader ok\nreadyz check passed\n",
    },
    { name: "single check passes", checks, opts: { only: "ping" }, status: 200, body: "ok" },
    {
      name: "single check fails",
      checks,
      opts: { only: "informers" },
      status: 500,
      body: "internal server error: caches not synced yet: configmaps\n",
    },
    {
      name: "unknown single check",
      checks,
      opts: { only: "nope" },
      status: 404,
      body: 'no readyz check named "nope"\n',
    },
  ])("$name", async ({ checks, opts, status, body }) => {
    expect(await evaluateChecks("readyz", checks, opts)).toEqual({ status, body });
  });
});

describe("parseAddress", () => {
  it.each([
    { address: ":8081", expected: { host: undefined, port: 8081 } },
    { address: "127.0.0.1:0", expected: { host: "127.0.0.1", port: 0 } },
    { address: "[::1]:9000", expected: { host: "::1", port: 9000 } },
    { address: "0", expected: undefined },
    { address: "", expected: undefined },
  ])("$address", ({ address, expected }) => {
    expect(parseAddress(address)).toEqual(expected);
  });

  it.each(["8081", ":http", ":70000"])("rejects %s", (address) => {
    expect(() => parseAddress(address)).toThrow();
  });
});
