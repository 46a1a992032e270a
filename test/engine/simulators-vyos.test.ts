// Pins the VyOS HTTP API behaviour of the VyOS simulator over real HTTPS (form and JSON requests, one
// commit per command list, ConfigSessionError discarding the list, the global lock, save), then the
// VyOS dictionary against it: a rule the appliance refuses changes nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApplianceSession } from "../../src/appliance/session.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type RawClient, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

type Answer = { success: boolean; data: unknown; error: string | null };
const RULE = ["firewall", "ipv4", "name", "WAN_IN", "rule", "10"];

describe("VyOS simulator", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function form(path: string, data: unknown, key = sim.credentials.key ?? "") {
    const response = await client.request("POST", path, {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ data: JSON.stringify(data), key }).toString(),
    });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: response.json<Answer>(),
    };
  }
  const configure = (commands: unknown) => form("/configure", commands);
  const show = async (path: string[]) => (await form("/retrieve", { op: "showConfig", path })).body;

  beforeAll(async () => {
    sim = await startSimulator("vyos", { commitDelayMs: 150, serial: "VYOS-TEST-1" });
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(async () => {
    await sim.control.reset();
  });

  describe("requests", () => {
    it("takes form fields data + key, or a JSON body with key; answers JSON as text/html", async () => {
      const viaForm = await form("/retrieve", { op: "showConfig", path: ["system", "host-name"] });
      expect(viaForm).toEqual({
        status: 200,
        type: "text/html; charset=utf-8",
        body: { success: true, data: { "host-name": "vyos" }, error: null },
      });
      const viaJson = await client.request("POST", "/retrieve", {
        body: { key: sim.credentials.key, op: "returnValue", path: ["system", "host-name"] },
      });
      expect(viaJson.json()).toEqual({ success: true, data: "vyos", error: null });
    });

    it("401 without a valid key, 422 without data, 400 for malformed commands; /info needs no key", async () => {
      expect(await form("/retrieve", { op: "showConfig", path: [] }, "wrong")).toMatchObject({
        status: 401,
        body: { success: false, error: "Valid API key is required", data: null },
      });
      const noData = await client.request("POST", "/retrieve", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `key=${sim.credentials.key}`,
      });
      expect([noData.status, noData.json<Answer>().error]).toEqual([422, "Non-empty data field is required"]);
      expect((await configure([{ op: "set" }])).body.error).toBe(
        `Malformed command '{"op":"set"}': missing 'path' field`,
      );
      expect((await configure({ op: "set", path: [] })).status).toBe(400);
      const info = await client.request("GET", "/info");
      expect(info.json()).toEqual({
        success: true,
        data: { version: "1.4.0", hostname: "vyos", banner: "Welcome to VyOS" },
        error: null,
      });
      expect((await client.request("GET", "/retrieve")).status).toBe(405);
    });
  });

  describe("configure", () => {
    it("applies a list of commands as one commit (live at once, saved only by /config-file save)", async () => {
      const answer = await configure([
        { op: "set", path: [...RULE, "action"], value: "accept" },
        { op: "set", path: [...RULE, "protocol", "tcp"] },
        { op: "set", path: [...RULE, "destination", "port"], value: "22" },
        { op: "comment", path: RULE, value: "ignored" },
      ]);
      expect(answer).toMatchObject({ status: 200, body: { success: true } });
      expect((await show(RULE)).data).toEqual({
        action: "accept",
        protocol: "tcp",
        destination: { port: "22" },
      });
      const view = await sim.control.objects("firewallRule");
      expect(view).toMatchObject({
        pending: true,
        candidate: [{ path: RULE.join(" "), action: "accept" }],
        running: [],
      });
      const saved = await form("/config-file", { op: "save" });
      expect(saved.body.data).toBe("Saving configuration to '/config/config.boot'...\nDone\n");
      expect(await sim.control.objects("firewallRule")).toMatchObject({
        pending: false,
        running: [{ action: "accept" }],
      });
      expect((await sim.control.stats()).applyCount).toBe(1);
    });

    it.each([
      [
        "a value the validator refuses",
        { op: "set", path: [...RULE, "action"], value: "permit" },
        "Value validation failed",
      ],
      ["a path outside the schema", { op: "set", path: [...RULE, "colour"], value: "red" }, "is not valid"],
      [
        "a delete of nothing",
        { op: "delete", path: ["nat", "destination", "rule", "5"] },
        "Nothing to delete",
      ],
      ["an unknown operation", { op: "rename", path: RULE }, "'rename' is not a valid operation"],
    ])(
      "a list with %s fails with 400 ConfigSessionError and applies nothing",
      async (_name, bad, message) => {
        const answer = await configure([{ op: "set", path: [...RULE, "action"], value: "accept" }, bad]);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ success: false, data: null });
        expect(answer.body.error).toContain(message);
        expect((await show(RULE)).error).toBe("Configuration under specified path is empty");
      },
    );

    it("the commit verifies the result: a rule without action is refused whole, html-escaped", async () => {
      const answer = await configure([
        { op: "set", path: [...RULE, "description"], value: "a <b> & c" },
        { op: "set", path: [...RULE, "protocol"], value: "tcp" },
      ]);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toContain("Rule action must be defined");
      expect(answer.body.error).toContain("[[firewall]] failed");
      const bad = await configure([
        { op: "set", path: [...RULE, "action"], value: "accept" },
        { op: "set", path: [...RULE, "description"], value: "<&>" },
        { op: "set", path: [...RULE, "destination", "port"], value: "22" },
      ]);
      expect(bad.body.error).toContain("Protocol must be tcp, udp, or tcp_udp");
    });

    it("serialises configure calls behind one global lock: a second call waits, it is not refused", async () => {
      const started = performance.now();
      const answers = await Promise.all(
        ["1", "2", "3"].map((n) =>
          configure([
            { op: "set", path: ["nat", "source", "rule", n, "outbound-interface", "name"], value: "eth0" },
            { op: "set", path: ["nat", "source", "rule", n, "translation", "address"], value: "masquerade" },
          ]),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 150 - 20);
      expect((await sim.control.stats()).maxInFlight).toBe(3);
      expect((await sim.control.objects("natRule")).candidate.map((o) => o.path)).toEqual([
        "nat source rule 1",
        "nat source rule 2",
        "nat source rule 3",
      ]);
    });

    it("load restores the saved configuration", async () => {
      await configure([{ op: "set", path: [...RULE, "action"], value: "drop" }]);
      const loaded = await form("/config-file", { op: "load", file: "/config/config.boot" });
      expect(loaded.status).toBe(200);
      expect((await show(RULE)).error).toBe("Configuration under specified path is empty");
    });
  });

  describe("retrieve", () => {
    it("showConfig (json, raw), returnValue(s), exists", async () => {
      await configure([
        { op: "set", path: [...RULE, "action"], value: "accept" },
        { op: "set", path: ["firewall", "group", "address-group", "G", "address"], value: "10.0.0.1" },
        { op: "set", path: ["firewall", "group", "address-group", "G", "address"], value: "10.0.0.2" },
      ]);
      const get = async (data: Record<string, unknown>) => (await form("/retrieve", data)).body.data;
      expect(await get({ op: "showConfig", path: [...RULE.slice(0, 5)] })).toEqual({
        "10": { action: "accept" },
      });
      expect(await get({ op: "showConfig", path: RULE, configFormat: "raw" })).toBe("action accept");
      expect(await get({ op: "returnValue", path: [...RULE, "action"] })).toBe("accept");
      expect(
        await get({ op: "returnValues", path: ["firewall", "group", "address-group", "G", "address"] }),
      ).toEqual(["10.0.0.1", "10.0.0.2"]);
      expect(await get({ op: "exists", path: RULE })).toBe(true);
      expect(await get({ op: "exists", path: [...RULE.slice(0, 5), "11"] })).toBe(false);
      expect((await form("/show", { op: "show", path: ["version"] })).body.data).toContain(
        "Hardware S/N:     VYOS-TEST-1",
      );
    });
  });
});

describe("VyOS dictionary: the appliance's refusals", () => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;

  beforeAll(async () => {
    sim = await startSimulator("vyos");
    session = new ApplianceSession({
      dictionary: await loadDictionaryFile("dictionaries/vyos-1.4-httpapi.yaml"),
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

  it("a rule naming a group that does not exist fails the commit: VNF_INVALID, nothing applied", async () => {
    const error = await session
      .create("firewallRule", {
        rule: { interface: "eth0", action: "allow", source: { alias: "partners" }, description: "x" },
        marker: "refused/1",
        ruleNumber: 1000,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(VnfError);
    expect((error as VnfError).code).toBe("VNF_INVALID");
    expect((error as VnfError).vendorMessage).toContain('Invalid address-group "partners"');
    expect((await sim.control.objects("firewallRule")).candidate).toEqual([]);
  });

  it("needs a rule number from the operator", async () => {
    const error = await session
      .create("firewallRule", { rule: { interface: "eth0", action: "allow" }, marker: "refused/2" })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as VnfError).code).toBe("BROKER_INVALID_REQUEST");
  });

  it("moves a rule between families in one commit when its addresses change", async () => {
    const base = { interface: "eth0", action: "allow", description: "v" };
    const { vendorRef } = await session.create("firewallRule", {
      rule: { ...base, source: { cidr: "10.0.0.0/8" } },
      marker: "family/1",
      ruleNumber: 1200,
    });
    await session.update("firewallRule", vendorRef, {
      rule: { ...base, source: { cidr: "2001:db8::/32" } },
      marker: "family/1",
      ruleNumber: 1200,
    });
    expect((await sim.control.objects("firewallRule")).candidate.map((o) => o.path)).toEqual([
      "firewall ipv6 name WAN_IN rule 1200",
    ]);
    expect((await session.get("firewallRule", vendorRef))?.normalized.source).toEqual({
      cidr: "2001:db8::/32",
    });
  });
});
