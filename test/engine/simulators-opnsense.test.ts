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
    sim = await startSimulator("opnsense", { rollbackSeconds: 0.3, aliases: ["partner_nets"] });
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
      body: { result: "failed", validations: { "rule.action": "Option not in list." } },
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
    const rows = (await api("GET", "filter/searchRule")).body;
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
    // Nobody confirmed: 0.3 s later the configuration is the savepoint again.
    await expect
      .poll(async () => (await sim.control.objects("firewallRule")).candidate.map((r) => r.description), {
        timeout: 3000,
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
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await sim.control.objects("firewallRule")).running).toHaveLength(1);
    expect((await api("POST", `filter/revert/${revision}`)).body).toEqual({ status: "ok" });
    expect((await sim.control.objects("firewallRule")).candidate).toEqual([]);
    expect((await api("POST", "filter/revert/123.4567")).body).toEqual({
      status: "unknown (or removed) savepoint",
    });
  });

  it("reports the firmware version", async () => {
    const status = await client.request("GET", "/api/core/firmware/status", {
      headers: { authorization: basicAuth(sim.credentials.key ?? "", sim.credentials.secret ?? "") },
    });
    expect(status.json()).toMatchObject({ product: { product_name: "OPNsense", product_version: "25.7.2" } });
  });
});

describe("OPNsense dictionary: safe apply", () => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;

  beforeAll(async () => {
    sim = await startSimulator("opnsense", { rollbackSeconds: 0.3 });
    session = new ApplianceSession({
      dictionary: await loadDictionaryFile("dictionaries/opnsense-25-api.yaml"),
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
