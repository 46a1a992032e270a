// Pins the OPNsense API behaviour of the OPNsense simulator over real HTTPS (Basic key/secret, every
// other outcome HTTP 200 with the result in the body, uuids, getRule/searchRule shapes, port forwards,
// savepoint → apply/{revision} → cancelRollback with the auto-rollback), then the OPNsense dictionary's
// safe apply against it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApplianceSession } from "../../src/appliance/session.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { basicAuth, type RawClient, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

type Body = Record<string, unknown>;

describe("OPNsense simulator", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function api(method: string, path: string, body?: unknown) {
    const response = await client.request(method, `/api/firewall/${path}`, {
      headers: { authorization: basicAuth(sim.credentials.key ?? "", sim.credentials.secret ?? "") },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: response.json<Body>() };
  }
  const add = async (rule: Body, controller = "filter") =>
    (await api("POST", `${controller}/addRule`, { rule })).body as { result: string; uuid: string };

  beforeAll(async () => {
    sim = await startSimulator("opnsense", {
      version: "26.1.11",
      // Long enough that a loaded machine cannot roll back before the test looks.
      rollbackSeconds: 1,
      aliases: ["partner_nets"],
    });
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(async () => {
    await sim.control.reset();
  });

  it("refuses a wrong key with 401 JSON; anything else is HTTP 200", async () => {
    const refused = await client.request("GET", "/api/firewall/filter/searchRule", {
      headers: { authorization: basicAuth(sim.credentials.key ?? "", "wrong") },
    });
    expect([refused.status, refused.json()]).toEqual([
      401,
      { status: 401, message: "Authentication Failed" },
    ]);
    expect(await api("POST", "filter/addRule", { rule: { action: "allow" } })).toEqual({
      status: 200,
      // 26.1's wording (25.7: "Option not in list.").
      body: { result: "failed", validations: { "rule.action": "Option [] not in list." } },
    });
    expect(await api("POST", "filter/addRule", { action: "pass" })).toEqual({
      status: 200,
      body: { result: "failed" },
    });
    expect(await api("GET", "filter/addRule")).toEqual({ status: 200, body: { result: "failed" } });
    expect((await api("GET", "filter/noSuchThing")).status).toBe(404);
  });

  it("adds rules with uuids (duplicates allowed), reads them back, updates partially, deletes", async () => {
    const rule = {
      action: "block",
      interface: "wan",
      protocol: "TCP",
      destination_port: "443",
      description: "d",
    };
    const first = await add(rule);
    const second = await add(rule);
    expect(first.result).toBe("saved");
    expect(first.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.uuid).not.toBe(first.uuid);

    const got = (await api("GET", `filter/getRule/${first.uuid}`)).body.rule as Record<string, unknown>;
    expect(got.action).toEqual({
      pass: { value: "Pass", selected: 0 },
      block: { value: "Block", selected: 1 },
      reject: { value: "Reject", selected: 0 },
    });
    expect(got).toMatchObject({ enabled: "1", destination_port: "443", description: "d", source_net: "any" });
    expect((await api("GET", "filter/getRule/nope")).body).toEqual([]);

    expect((await api("POST", `filter/setRule/${first.uuid}`, { rule: { log: "1" } })).body).toEqual({
      result: "saved",
    });
    expect((await api("POST", "filter/setRule/nope", { rule: { log: "1" } })).body).toEqual({
      result: "failed",
    });
    // Without `interface`, searchRule lists floating rules only (the GUI's "Floating" view).
    expect((await api("GET", "filter/searchRule")).body).toMatchObject({ total: 0, rows: [] });
    const rows = (await api("GET", "filter/searchRule?interface=wan")).body;
    expect(rows).toMatchObject({ total: 2, rowCount: 2, current: 1 });
    expect((rows.rows as Body[])[0]).toMatchObject({
      uuid: first.uuid,
      action: "block",
      "%action": "Block",
      interface: "wan",
      "%interface": "WAN",
      log: "1",
      prio_group: "400000",
    });

    expect((await api("POST", `filter/delRule/${first.uuid}`)).body).toEqual({ result: "deleted" });
    expect((await api("POST", `filter/delRule/${first.uuid}`)).body).toEqual({ result: "not found" });
  });

  it("searches by phrase and pages", async () => {
    for (const d of ["alpha", "beta [vnf:x]", "gamma"]) await add({ action: "pass", description: d });
    const found = (await api("POST", "filter/searchRule", { searchPhrase: "vnf:x" })).body;
    expect((found.rows as Body[]).map((r) => r.description)).toEqual(["beta [vnf:x]"]);
    const page = (await api("GET", "filter/searchRule?current=2&rowCount=2")).body;
    expect(page).toMatchObject({ total: 3, rowCount: 1, current: 2 });
  });

  it("port forwards: nested fields, lower-case protocol, the automatic anti-lockout row", async () => {
    const saved = await add(
      {
        interface: "wan",
        protocol: "TCP/UDP",
        destination: { network: "wanip", port: "27015-27030" },
        target: "10.50.0.20",
        "local-port": "27015",
        descr: "games",
      },
      "d_nat",
    );
    expect(saved.result).toBe("saved");
    const got = (await api("GET", `d_nat/getRule/${saved.uuid}`)).body.rule as Body;
    expect(got).toMatchObject({
      destination: { network: "wanip", port: "27015-27030" },
      target: "10.50.0.20",
    });
    const rows = (await api("GET", "d_nat/searchRule")).body.rows as Body[];
    expect(rows.map((r) => r.uuid)).toEqual(["lockout_0", saved.uuid]);
    expect(rows[0]).toMatchObject({ is_automatic: true, descr: "Anti-Lockout Rule" });
    expect(rows[1]).toMatchObject({
      protocol: "tcp/udp",
      "destination.port": "27015-27030",
      "local-port": "27015",
    });
    expect((await api("POST", "d_nat/addRule", { rule: { interface: "wan" } })).body).toEqual({
      result: "failed",
      validations: { "rule.target": "A target is required." },
    });
  });

  it("apply makes the configuration effective; apply/{revision} rolls back unless confirmed", async () => {
    await add({ action: "pass", description: "kept" });
    const { revision } = (await api("POST", "filter/savepoint")).body as { revision: string };
    expect(revision).toMatch(/^\d+\.\d{4}$/);
    expect((await api("POST", `filter/apply/${revision}`)).body).toEqual({ status: "OK\n\n" });
    expect(await sim.control.objects("firewallRule")).toMatchObject({
      pending: false,
      running: [{ description: "kept" }],
    });
    await add({ action: "block", description: "lost" });
    await api("POST", "filter/apply");
    expect((await sim.control.objects("firewallRule")).running).toHaveLength(2);
    // Nobody confirmed: 1 s later the configuration is the savepoint again.
    await expect
      .poll(async () => (await sim.control.objects("firewallRule")).candidate.map((r) => r.description), {
        timeout: 6000,
      })
      .toEqual(["kept"]);
    expect((await sim.control.objects("firewallRule")).running.map((r) => r.description)).toEqual(["kept"]);
    expect((await sim.control.stats()).applyCount).toBe(2);
  });

  it("cancelRollback keeps the applied configuration; revert goes back to a savepoint", async () => {
    const { revision } = (await api("POST", "filter/savepoint")).body as { revision: string };
    await add({ action: "pass", description: "after savepoint" });
    await api("POST", `filter/apply/${revision}`);
    expect((await api("POST", `filter/cancelRollback/${revision}`)).body).toEqual({ status: "OK\n\n" });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect((await sim.control.objects("firewallRule")).running).toHaveLength(1);
    expect((await api("POST", `filter/revert/${revision}`)).body).toEqual({ status: "ok" });
    expect((await sim.control.objects("firewallRule")).candidate).toEqual([]);
    expect((await api("POST", "filter/revert/123.4567")).body).toEqual({
      status: "unknown (or removed) savepoint",
    });
  });

  it("answers the 25.7 snake_case routes as the camelCase ones (one action, any case)", async () => {
    const saved = (await api("POST", "filter/add_rule", { rule: { interface: "lan", description: "snake" } }))
      .body as { uuid: string };
    expect((await api("GET", `filter/get_rule/${saved.uuid}`)).body).toHaveProperty(
      "rule.description",
      "snake",
    );
    expect((await api("POST", `filter/set_rule/${saved.uuid}`, { rule: { log: "1" } })).body).toEqual({
      result: "saved",
    });
    expect((await api("POST", `filter/toggle_rule/${saved.uuid}/0`)).body).toEqual({
      result: "Disabled",
      changed: true,
    });
    expect((await api("POST", `filter/toggle_rule/${saved.uuid}/0`)).body).toEqual({
      result: "Disabled",
      changed: false,
    });
    expect((await api("GET", "filter/search_rule?interface=lan")).body).toMatchObject({ total: 1 });
    expect((await api("POST", `filter/del_rule/${saved.uuid}`)).body).toEqual({ result: "deleted" });
  });

  it("upserts on setRule with an unknown well-formed uuid; new rules get the next sequence (+100)", async () => {
    const uuid = "2b0f7c8e-5a1d-4c3b-9e6f-0123456789ab";
    expect((await api("POST", `filter/setRule/${uuid}`, { rule: { interface: "lan" } })).body).toEqual({
      result: "saved",
    });
    expect((await api("POST", "filter/setRule/not-a-uuid", { rule: { interface: "lan" } })).body).toEqual({
      result: "failed",
    });
    await add({ interface: "lan" });
    const rows = (await api("GET", "filter/searchRule?interface=lan")).body.rows as Body[];
    expect(rows.map((r) => [r.uuid === uuid, r.sequence])).toEqual([
      [true, "101"],
      [false, "201"],
    ]);
    expect((await api("GET", "filter/getRule")).body).toHaveProperty("rule.sequence", "301");
  });

  it("serves the login page at / without credentials", async () => {
    const page = await client.request("GET", "/");
    expect(page.status).toBe(200);
    expect(page.text).toContain("<title>Login | OPNsense</title>");
  });

  it("reports the firmware version", async () => {
    const status = await client.request("GET", "/api/core/firmware/status", {
      headers: { authorization: basicAuth(sim.credentials.key ?? "", sim.credentials.secret ?? "") },
    });
    expect(status.json()).toMatchObject({
      product: { product_name: "OPNsense", product_version: "26.1.11" },
    });
  });
});

describe("OPNsense simulator playing 25.7", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function api(method: string, path: string, body?: unknown) {
    const response = await client.request(method, `/api/firewall/${path}`, {
      headers: { authorization: basicAuth(sim.credentials.key ?? "", sim.credentials.secret ?? "") },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: response.json<Body>() };
  }
  const add = async (rule: Body) =>
    (await api("POST", "filter/addRule", { rule })).body as { result: string; uuid: string };

  beforeAll(async () => {
    sim = await startSimulator("opnsense", { version: "25.7.2" });
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(async () => {
    await sim.control.reset();
  });

  it("has no port-forward API: d_nat arrived with 26.1", async () => {
    expect(await api("GET", "d_nat/searchRule")).toEqual({
      status: 404,
      body: { errorMessage: "Endpoint not found", errorTitle: "An error occurred" },
    });
    expect(await sim.control.kinds()).not.toContain("natRule");
  });

  it("GET filter/get: the whole Filter model, rules keyed by uuid with every field of 25.7.2's Filter.xml", async () => {
    expect((await api("GET", "filter/get")).body).toEqual({
      filter: { rules: { rule: [] }, snatrules: { rule: [] }, npt: { rule: [] }, onetoone: { rule: [] } },
    });
    const { uuid } = await add({
      interface: "lan",
      protocol: "TCP",
      destination_port: "443",
      description: "web",
    });
    const model = (await api("GET", "filter/get")).body as {
      filter: { rules: { rule: Record<string, Body> } };
    };
    const rule = model.filter.rules.rule[uuid] as Body;
    expect(Object.keys(rule)).toHaveLength(50); // 48 stored fields + sort_order and prio_group
    expect(rule).toMatchObject({
      enabled: "1",
      sequence: "101",
      sort_order: "400000.0000101",
      prio_group: "400000",
      source_net: "any",
      destination_port: "443",
      disablereplyto: "0",
      allowopts: "0",
      statetimeout: "",
      tag: "",
      description: "web",
    });
    expect(rule["state-policy"]).toEqual({
      "": { value: "default", selected: 1 },
      "if-bound": { value: "Bind states to interface", selected: 0 },
      floating: { value: "Floating states", selected: 0 },
    });
    expect(rule.prio).toMatchObject({ "": { value: "Any priority", selected: 1 }, "0": { selected: 0 } });
    expect(rule.gateway).toEqual({
      "": { value: "None", selected: 1 },
      WAN_DHCP: { value: "WAN_DHCP", selected: 0 },
      WAN_DHCP6: { value: "WAN_DHCP6", selected: 0 },
    });
    expect(rule.tcpflags1).toMatchObject({ syn: { value: "syn", selected: 0 } });
    expect(Object.keys(rule.tcpflags1 as Body)).not.toContain(""); // multiple: no empty choice
    expect(rule.tos).toMatchObject({ "": { value: "Any", selected: 1 }, ef: { value: "EF", selected: 0 } });
    expect(rule.direction).toEqual({ in: { value: "In", selected: 1 }, out: { value: "Out", selected: 0 } });
    expect(rule.protocol).toMatchObject({
      TCP: { selected: 1 },
      "TCP/UDP": { selected: 0 },
      any: { selected: 0 },
    });
  });

  it("refuses what 25.7.2's model refuses, all at once", async () => {
    const refused = await api("POST", "filter/addRule", {
      rule: {
        direction: "any",
        source_net: "10.0.0.1,10.0.0.2",
        destination_port: "2000-1000",
        prio: "9",
        statetype: "none",
        max: "100",
        protocol: "UDP",
        tcpflags1: "syn",
        tag: "bad tag!",
      },
    });
    expect(refused.body).toEqual({
      result: "failed",
      validations: {
        "rule.direction": "Option not in list.",
        "rule.source_net": "10.0.0.1,10.0.0.2 is not a valid source IP address or alias.",
        "rule.destination_port": "Please specify a valid portnumber, name, alias or range",
        "rule.prio": "Option not in list.",
        "rule.tag": "Text does not validate.",
        "rule.max": "Invalid option when statetype is none.",
        "rule.tcpflags1": "Invalid option for other than TCP protocol choices.",
        "rule.tcpflags2":
          "If you specify TCP flags that should be set you should specify out of which flags as well.",
      },
    });
  });
});

describe("OPNsense simulator playing 26.1", () => {
  it("serves 26.1.11's filter rule model: divert-to, icmp6type, udp-*, tcpflags_any, direction any", async () => {
    const sim = await startSimulator("opnsense", { version: "26.1.11" });
    const client = rawClient(sim);
    try {
      const auth = { authorization: basicAuth(sim.credentials.key ?? "", sim.credentials.secret ?? "") };
      const defaults = (await client.request("GET", "/api/firewall/filter/getRule", { headers: auth })).json<{
        rule: Body;
      }>().rule;
      expect(Object.keys(defaults)).toHaveLength(56);
      expect(defaults).toMatchObject({
        "udp-first": "",
        tcpflags_any: "0",
        "divert-to": { "": { value: "None" } },
      });
      expect(defaults.direction).toHaveProperty("any", { value: "Both", selected: 0 });
      const refused = await client.request("POST", "/api/firewall/filter/addRule", {
        headers: auth,
        body: { rule: { action: "allow", icmp6type: "128,999" } },
      });
      expect(refused.json()).toEqual({
        result: "failed",
        validations: {
          "rule.action": "Option [] not in list.",
          "rule.icmp6type": "Option [999] not in list.",
        },
      });
    } finally {
      await client.close();
      await sim.stop();
    }
  });
});

describe("OPNsense dictionary: safe apply", () => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;

  beforeAll(async () => {
    sim = await startSimulator("opnsense", { rollbackSeconds: 0.3 });
    session = new ApplianceSession({
      dictionary: await loadDictionaryFile("dictionaries/opnsense-26.1-api.yaml"),
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
      limits: { requestsPerSecond: 1000 },
    });
  });
  afterAll(async () => {
    await session.close();
    await sim.stop();
  });

  it("savepoint → apply/{revision} → cancelRollback: the change stays after the rollback window", async () => {
    const { vendorRef } = await session.create("firewallRule", {
      rule: {
        interface: "wan",
        action: "allow",
        protocol: "udp",
        destination: { port: "51820" },
        description: "vpn",
      },
      marker: "safe/1",
    });
    await session.activate();
    const calls = (await sim.control.requests({ method: "POST" })).map((r) =>
      r.path.replace(/\/[\d.]+$/, "/{rev}"),
    );
    expect(calls.slice(-3)).toEqual([
      "/api/firewall/filter/savepoint",
      "/api/firewall/filter/apply/{rev}",
      "/api/firewall/filter/cancelRollback/{rev}",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const view = await sim.control.objects("firewallRule");
    expect(view.pending).toBe(false);
    expect(view.running.map((r) => r.uuid)).toEqual([vendorRef]);
  });
});
