// OPNsense simulator driven by the two OPNsense clients on PyPI: oxl-opnsense-client 26.1.11 (its `rule`
// module) and pyopnsense 0.4.0 (FirewallClient).
import { afterEach, describe, expect, it } from "vitest";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { describeRun, resultOf, runSdk } from "./run-sdk.ts";
import { recordLayerTiming } from "./timing.ts";

recordLayerTiming(import.meta.filename, ["oxl-opnsense-client 26.1.11", "pyopnsense 0.4.0"]);

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

type Rule = Record<string, string>;
type View = { candidate: Rule[]; running: Rule[] };

describe("oxl-opnsense-client 26.1.11, rule module", () => {
  it("on OPNsense 26.1: creates and applies a rule, finds it unchanged on a second run, updates it, removes it", async () => {
    sim = await startSimulator("opnsense", { version: "26.1.11", rollbackSeconds: 600 });
    const handle = sim;
    const seen: Record<string, View> = {};
    const run = await runSdk("opnsense_oxl_opnsense_client", handle, {
      onCheckpoint: async (name) => {
        seen[name] = (await handle.control.objects("firewallRule")) as unknown as View;
      },
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "create")).toMatchObject({ changed: true });
    expect(resultOf(run, "second run")).toMatchObject({ changed: false });
    expect(resultOf(run, "update description")).toMatchObject({ changed: true });
    expect(resultOf(run, "remove")).toMatchObject({ changed: true });

    const created = seen.created?.candidate ?? [];
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      description: "sdk-oxl web",
      action: "pass",
      interface: "lan",
      protocol: "TCP",
      source_net: "10.1.0.0/24",
      destination_port: "443",
      log: "1",
      "divert-to": "",
      "state-policy": "",
    });
    // Applied: `reload: true` posts apply after each change.
    expect(seen.created?.running).toEqual(seen.created?.candidate);
    expect(seen.updated?.candidate.map((r) => r.description)).toEqual(["sdk-oxl web v2"]);
    expect(seen.removed).toMatchObject({ candidate: [], running: [] });

    const paths = (await handle.control.requests({ pathPrefix: "/api/" })).map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(paths).toContain("GET /api/firewall/filter/get");
    expect(paths.filter((p) => /^POST \/api\/firewall\/filter\/(add|set|del)_rule/.test(p))).toHaveLength(3);
    expect(paths.filter((p) => p === "POST /api/firewall/filter/apply")).toHaveLength(3);
    // The second run only read: no write between the first apply and the update.
    const writes = paths.filter((p) => p.startsWith("POST"));
    expect(writes.slice(0, 3)).toEqual([
      "POST /api/firewall/filter/add_rule",
      "POST /api/firewall/filter/apply",
      expect.stringMatching(/^POST \/api\/firewall\/filter\/set_rule\//),
    ]);
  });

  it("on OPNsense 25.7 it cannot read rules back: its 26.1 field list wants `divert-to`, which 25.7.2's model lacks", async () => {
    sim = await startSimulator("opnsense", { version: "25.7.2" });
    const run = await runSdk("opnsense_oxl_opnsense_client", sim);
    expect(resultOf(run, "create")).toMatchObject({ changed: true });
    const second = run.steps.find((s) => s.step === "second run");
    expect(second?.ok).toBe(false);
    expect(second?.error).toMatch(/Failed field: 'divert-to'/);
  });
});

describe("pyopnsense 0.4.0", () => {
  it("searches (floating rules only, as the real searchRule without an interface), reads, toggles and applies", async () => {
    sim = await startSimulator("opnsense");
    const handle = sim;
    const onLan = await handle.control.putObject("firewallRule", {
      interface: "lan",
      protocol: "TCP",
      destination_port: "22",
      description: "ssh from lan",
    });
    const floating = await handle.control.putObject("firewallRule", {
      interface: "",
      action: "block",
      description: "floating block",
    });
    const seen: Record<string, View> = {};
    const run = await runSdk("opnsense_pyopnsense", handle, {
      env: { RULE_UUID: onLan },
      onCheckpoint: async (name) => {
        seen[name] = (await handle.control.objects("firewallRule")) as unknown as View;
      },
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    const search = resultOf<{ total: number; rows: Rule[] }>(run, "get_automation_rules");
    expect(search.total).toBe(1);
    expect(search.rows.map((r) => r.uuid)).toEqual([floating]);
    expect(search.rows[0]).toMatchObject({
      action: "block",
      "%action": "Block",
      prio_group: "200000",
      sort_order: "200000.0000201",
      "%state-policy": "default",
    });
    const got = resultOf<{ rule: Record<string, unknown> }>(run, "get_rule_status");
    expect(got.rule.enabled).toBe("1");
    expect(got.rule.interface).toEqual({
      wan: { value: "WAN", selected: 0 },
      lan: { value: "LAN", selected: 1 },
      opt1: { value: "OPT1", selected: 0 },
    });
    expect(resultOf(run, "toggle_rule (off)")).toEqual({ result: "Disabled", changed: true });
    expect(resultOf(run, "toggle_rule (on)")).toEqual({ result: "Enabled", changed: true });
    const lan = (view: View | undefined, which: "candidate" | "running") =>
      view?.[which].find((r) => r.uuid === onLan)?.enabled;
    expect(lan(seen.disabled, "candidate")).toBe("0");
    expect(lan(seen.disabled, "running")).toBe("1");
    expect(lan(seen.applied, "candidate")).toBe("1");
    expect((await handle.control.stats()).applyCount).toBe(1);
  });
});
