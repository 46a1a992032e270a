// pfSense simulator driven by pyfsense-client 0.5.0 (PyPI), the Python client of pfSense-pkg-RESTAPI v2.
import { afterEach, describe, expect, it } from "vitest";
import { basicAuth, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { describeRun, resultOf, runSdk } from "./run-sdk.ts";
import { recordLayerTiming } from "./timing.ts";

recordLayerTiming(import.meta.filename, ["pyfsense-client 0.5.0"]);

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

/** An administrator creates an API key for the SDK (the package's own endpoint, Basic auth). */
async function apiKey(handle: SimulatorHandle): Promise<string> {
  const client = rawClient(handle);
  try {
    const { username = "", password = "" } = handle.credentials;
    const response = await client.request("POST", "/api/v2/auth/key", {
      headers: { authorization: basicAuth(username, password) },
      body: { descr: "pyfsense-client" },
    });
    return response.json<{ data: { key: string } }>().data.key;
  } finally {
    await client.close();
  }
}

type View = { candidate: unknown[]; running: unknown[]; pending: boolean };

describe("pyfsense-client 0.5.0", () => {
  it("manages aliases, a rule that names them, the apply status and apply, with an API key", async () => {
    sim = await startSimulator("pfsense", { factoryRules: true });
    const handle = sim;
    const seen: Record<string, { aliases: View; rules: View }> = {};
    const run = await runSdk("pfsense_pyfsense_client", handle, {
      credentials: { ...handle.credentials, api_key: await apiKey(handle) },
      onCheckpoint: async (name) => {
        seen[name] = {
          aliases: await handle.control.objects("alias"),
          rules: await handle.control.objects("firewallRule"),
        };
      },
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "authenticate_jwt refused")).toMatch(/401/);
    expect(resultOf(run, "create host alias")).toEqual({
      id: 0,
      name: "sdk_web",
      type: "host",
      descr: "web servers",
      address: ["10.0.0.5", "10.0.0.6"],
      detail: [expect.stringMatching(/^Entry added /), expect.stringMatching(/^Entry added /)],
    });
    expect(resultOf(run, "create port alias")).toMatchObject({
      id: 1,
      detail: ["https", expect.any(String)],
    });
    expect(resultOf(run, "get_firewall_aliases")).toEqual(["sdk_web", "sdk_ports"]);
    expect(resultOf(run, "update_firewall_alias")).toMatchObject({
      address: ["10.0.0.5", "10.0.0.6", "10.0.0.7"],
    });
    expect(resultOf(run, "create rule naming the aliases")).toMatchObject({
      destination: "sdk_web",
      destination_port: "sdk_ports",
      tracker: expect.any(Number),
    });
    expect(resultOf(run, "get_firewall_apply_status")).toEqual({
      applied: false,
      pending_subsystems: ["aliases", "filter"],
    });
    expect(resultOf(run, "apply status after apply")).toEqual({ applied: true, pending_subsystems: [] });
    expect(resultOf(run, "delete aliases by query")).toEqual(["sdk_web", "sdk_ports"]);

    const names = (objects: unknown[]) => objects.map((o) => (o as { name?: string; descr?: string }).name);
    const ruleDescrs = (objects: unknown[]) => objects.map((o) => (o as { descr: string }).descr);
    expect(names(seen.created?.aliases.candidate ?? [])).toEqual(["sdk_web", "sdk_ports"]);
    expect(seen.created?.aliases.running).toEqual([]);
    expect(ruleDescrs(seen.created?.rules.candidate ?? [])).toContain("created by pyfsense-client");
    expect(ruleDescrs(seen.created?.rules.running ?? [])).not.toContain("created by pyfsense-client");
    expect(names(seen.applied?.aliases.running ?? [])).toEqual(["sdk_web", "sdk_ports"]);
    expect(ruleDescrs(seen.applied?.rules.running ?? [])).toContain("created by pyfsense-client");
    expect(seen.deleted?.aliases).toMatchObject({ candidate: [], running: [], pending: false });
    expect(ruleDescrs(seen.deleted?.rules.running ?? [])).not.toContain("created by pyfsense-client");
  });
});
