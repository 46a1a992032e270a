// Pins the pfSense-pkg-RESTAPI v2 behaviour of the pfSense simulator, over real HTTPS: the engine and its
// dictionaries are written against exactly this.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, type RawClient, type RawRequestInit, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

interface Envelope<T = unknown> {
  code: number;
  status: string;
  response_id: string;
  message: string;
  data: T;
}

type Rule = Record<string, unknown> & { id: number; tracker: number; descr: string };

function rule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "pass",
    interface: ["wan"],
    ipprotocol: "inet",
    protocol: "tcp",
    source: "any",
    destination: "10.0.0.10",
    destination_port: "443",
    descr: "web",
    ...overrides,
  };
}

function portForward(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    interface: "wan",
    protocol: "tcp",
    source: "any",
    destination: "wan:ip",
    destination_port: "8443",
    target: "192.168.1.10",
    local_port: "443",
    descr: "pf",
    ...overrides,
  };
}

describe("pfSense simulator", () => {
  let sim: SimulatorHandle;
  let client: RawClient;
  let basic: string;

  async function api<T = unknown>(method: string, path: string, init: RawRequestInit = {}) {
    const response = await client.request(method, path, {
      ...init,
      headers: { authorization: basic, ...init.headers },
    });
    return {
      status: response.status,
      headers: response.headers,
      text: response.text,
      body: response.json<Envelope<T>>(),
    };
  }
  const create = async (overrides: Record<string, unknown> = {}) =>
    (await api<Rule>("POST", "/api/v2/firewall/rule", { body: rule(overrides) })).body.data;

  beforeAll(async () => {
    sim = await startSimulator("pfsense");
    client = rawClient(sim);
    basic = basicAuth(sim.credentials.username ?? "", sim.credentials.password ?? "");
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(() => sim.control.reset());

  describe("authentication", () => {
    it("accepts Basic against the local user and refuses anything else with the 401 envelope", async () => {
      expect((await api("GET", "/api/v2/firewall/rules")).status).toBe(200);
      const refused = await client.request("GET", "/api/v2/firewall/rules", {
        headers: { authorization: basicAuth("admin", "not-the-password") },
      });
      expect(refused.status).toBe(401);
      expect(refused.json()).toEqual({
        code: 401,
        status: "unauthorized",
        response_id: "AUTH_AUTHENTICATION_FAILED",
        message: "Authentication failed.",
        data: [],
      });
      expect((await client.request("GET", "/api/v2/firewall/rules")).status).toBe(401);
    });

    it("issues JWTs from POST /api/v2/auth/jwt (Basic only) that authenticate as Bearer", async () => {
      const login = await api<{ token: string }>("POST", "/api/v2/auth/jwt", { body: {} });
      expect(login.body).toMatchObject({ code: 200, status: "ok", response_id: "SUCCESS", message: "" });
      const token = login.body.data.token;
      expect(token.split(".")).toHaveLength(3);
      const bearer = { authorization: `Bearer ${token}` };
      expect((await client.request("GET", "/api/v2/firewall/rules", { headers: bearer })).status).toBe(200);
      // The JWT endpoint itself takes only local-database Basic credentials.
      expect((await client.request("POST", "/api/v2/auth/jwt", { headers: bearer, body: {} })).status).toBe(
        401,
      );
      expect((await sim.control.stats()).loginCount).toBe(1);
      expect(
        (
          await client.request("GET", "/api/v2/firewall/rules", {
            headers: { authorization: "Bearer x.y.z" },
          })
        ).status,
      ).toBe(401);
    });

    it("invalidates every JWT on authExpire while Basic keeps working", async () => {
      const token = (await api<{ token: string }>("POST", "/api/v2/auth/jwt", { body: {} })).body.data.token;
      await sim.control.injectFault({ kind: "authExpire", times: 1, pathPrefix: "/api/v2/status" });
      expect(
        (await api("GET", "/api/v2/status/system", { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(401);
      const afterwards = await client.request("GET", "/api/v2/firewall/rules", {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(afterwards.status).toBe(401);
      expect((await api("GET", "/api/v2/firewall/rules")).status).toBe(200);
      const renewed = (await api<{ token: string }>("POST", "/api/v2/auth/jwt", { body: {} })).body.data
        .token;
      expect(
        (
          await client.request("GET", "/api/v2/firewall/rules", {
            headers: { authorization: `Bearer ${renewed}` },
          })
        ).status,
      ).toBe(200);
    });

    it("accepts X-API-Key with a key created by POST /api/v2/auth/key", async () => {
      const created = await api<{ key: string; username: string }>("POST", "/api/v2/auth/key", {
        body: { descr: "operator" },
      });
      expect(created.body.data.username).toBe(sim.credentials.username);
      const key = created.body.data.key;
      expect(
        (await client.request("GET", "/api/v2/firewall/rules", { headers: { "x-api-key": key } })).status,
      ).toBe(200);
      expect(
        (await client.request("GET", "/api/v2/firewall/rules", { headers: { "x-api-key": `${key}0` } }))
          .status,
      ).toBe(401);
    });
  });

  describe("JWT expiry and enabled methods", () => {
    it("expires JWTs after jwtExpirySeconds and honours the enabled authentication methods", async () => {
      let now = Date.parse("2025-01-01T00:00:00Z");
      const timed = await startSimulator("pfsense", {
        clock: () => now,
        jwtExpirySeconds: 60,
        authMethods: ["jwt"],
      });
      const timedClient = rawClient(timed);
      try {
        const auth = basicAuth(timed.credentials.username ?? "", timed.credentials.password ?? "");
        // Basic is not enabled for ordinary endpoints, but still logs in at /auth/jwt.
        expect(
          (await timedClient.request("GET", "/api/v2/firewall/rules", { headers: { authorization: auth } }))
            .status,
        ).toBe(401);
        const login = await timedClient.request("POST", "/api/v2/auth/jwt", {
          headers: { authorization: auth },
          body: {},
        });
        const token = login.json<Envelope<{ token: string }>>().data.token;
        const bearer = { authorization: `Bearer ${token}` };
        expect((await timedClient.request("GET", "/api/v2/firewall/rules", { headers: bearer })).status).toBe(
          200,
        );
        now += 59_000;
        expect((await timedClient.request("GET", "/api/v2/firewall/rules", { headers: bearer })).status).toBe(
          200,
        );
        now += 2_000;
        expect((await timedClient.request("GET", "/api/v2/firewall/rules", { headers: bearer })).status).toBe(
          401,
        );
      } finally {
        await timedClient.close();
        await timed.stop();
      }
    });
  });

  describe("envelope and routing", () => {
    it("answers unknown paths with nginx's HTML 404 and wrong methods with a 405 envelope", async () => {
      const missing = await client.request("GET", "/api/v2/firewall/nothing", {
        headers: { authorization: basic },
      });
      expect(missing.status).toBe(404);
      expect(missing.headers.get("content-type")).toContain("text/html");
      expect(missing.text).toContain("nginx");
      const wrong = await api("PUT", "/api/v2/firewall/rule", { body: {} });
      expect(wrong.status).toBe(405);
      expect(wrong.body).toMatchObject({
        code: 405,
        status: "method not allowed",
        response_id: "ENDPOINT_METHOD_NOT_ALLOWED",
        message: "Resource at /api/v2/firewall/rule does not support the requested HTTP method `PUT`",
        data: [],
      });
    });

    it("refuses bodies that are not JSON objects", async () => {
      const form = await api("POST", "/api/v2/firewall/rule", {
        body: "type=pass",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(form.status).toBe(415);
      const broken = await api("POST", "/api/v2/firewall/rule", {
        body: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect(broken.status).toBe(400);
      const scalar = await api("POST", "/api/v2/firewall/rule", {
        body: "42",
        headers: { "content-type": "application/json" },
      });
      expect(scalar.body.response_id).toBe("MODEL_NON_ARRAY_REPRESENTATION_DATA");
    });

    it("serves system status with a serial and netgate id, and the version", async () => {
      const status = await api<Record<string, unknown>>("GET", "/api/v2/status/system");
      expect(status.body.data).toMatchObject({
        platform: "pfSense",
        serial: expect.any(String),
        netgate_id: expect.any(String),
      });
      const version = await api<Record<string, unknown>>("GET", "/api/v2/system/version");
      expect(version.body.data).toMatchObject({ version: "2.7.2-RELEASE", base: "2.7.2" });
    });
  });

  describe("firewall rules", () => {
    it("starts with pfSense's two default LAN rules (unmanaged objects)", async () => {
      const rules = (await api<Rule[]>("GET", "/api/v2/firewall/rules")).body.data;
      expect(rules.map((r) => [r.id, r.tracker, r.descr])).toEqual([
        [0, 100000101, "Default allow LAN to any rule"],
        [1, 100000102, "Default allow LAN IPv6 to any rule"],
      ]);
      const bare = await startSimulator("pfsense", { factoryRules: false });
      try {
        expect((await bare.control.objects("firewallRule")).candidate).toEqual([]);
      } finally {
        await bare.stop();
      }
    });

    it("creates a rule: id is the array index, tracker a unique increasing integer, defaults filled", async () => {
      const a = await create({ descr: "a" });
      const b = await create({ descr: "b" });
      expect([a.id, b.id]).toEqual([2, 3]);
      expect(Number.isInteger(a.tracker)).toBe(true);
      expect(b.tracker).toBeGreaterThan(a.tracker);
      expect(a).toMatchObject({
        type: "pass",
        interface: ["wan"],
        protocol: "tcp",
        source_port: null,
        destination_port: "443",
        disabled: false,
        log: false,
        statetype: "keep state",
        floating: false,
        quick: null,
        direction: null,
        icmptype: null,
        associated_rule_id: null,
        created_by: `${sim.credentials.username}@127.0.0.1 (API)`,
      });
    });

    it("drops fields whose conditions do not hold (ports without tcp/udp), and null protocol means any", async () => {
      const icmp = await create({ protocol: "icmp", destination_port: "443" });
      expect(icmp).toMatchObject({ protocol: "icmp", destination_port: null, icmptype: ["any"] });
      const any = await create({ protocol: null, destination_port: "443" });
      expect(any).toMatchObject({ protocol: null, destination_port: null });
      const range = await create({ destination_port: "8000:8080" });
      expect(range.destination_port).toBe("8000:8080");
    });

    it.each([
      [{ type: "allow" }, "FIELD_INVALID_CHOICE", "Field `type` must be one of [pass, block, reject]"],
      [{ type: undefined }, "FIELD_IS_REQUIRED", "Field `type` is required."],
      [{ interface: "wan" }, "FIELD_INVALID_MANY_VALUE", "Field `interface` must be of type `array`."],
      [
        { interface: ["dmz9"] },
        "FIELD_INVALID_CHOICE",
        "Field `interface` must be one of [wan, lan, opt1, enc0, openvpn]",
      ],
      [
        { interface: ["wan", "lan"] },
        "FIREWALL_RULE_MULTIPLE_INTERFACE_WITHOUT_FLOATING",
        "Field `interface` cannot contain",
      ],
      [
        { ipprotocol: "ipv4" },
        "FIELD_INVALID_CHOICE",
        "Field `ipprotocol` must be one of [inet, inet6, inet46]",
      ],
      [{ destination_port: 443 }, "FIELD_INVALID_TYPE", "Field `destination_port` must be of type `string`"],
      [
        { destination_port: "70000" },
        "PORT_FIELD_INVALID",
        "Field `destination_port` contains invalid port value `70000`",
      ],
      [{ destination_port: "8000-8080" }, "PORT_FIELD_INVALID", "invalid port value `8000-8080`"],
      [
        { source: "10.0.0.0/33" },
        "FILTER_ADDRESS_FIELD_INVALID",
        "Field `source` value `10.0.0.0/33` is invalid",
      ],
      [{ destination: "!any" }, "FILTER_RULE_ADDRESS_FIELD_WITH_INVERT_ANY", "cannot use invert prefix"],
      [{ disabled: "yes" }, "FIELD_INVALID_TYPE", "Field `disabled` must be of type `boolean`"],
      [{ gateway: "WAN_DHCP" }, "FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND", "Field `gateway` could not locate"],
    ])("refuses %j with %s", async (overrides, responseId, message) => {
      const response = await api("POST", "/api/v2/firewall/rule", { body: rule(overrides) });
      expect(response.status).toBe(responseId === "FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND" ? 404 : 400);
      expect(response.body.response_id).toBe(responseId);
      expect(response.body.message).toContain(message);
      expect(response.body.data).toEqual([]);
      expect((await sim.control.objects("firewallRule")).candidate).toHaveLength(2);
    });

    it("accepts the valid address forms", async () => {
      for (const address of [
        "any",
        "10.0.0.1",
        "10.0.0.0/8",
        "2001:db8::/32",
        "lan",
        "wan:ip",
        "!10.1.0.0/16",
        "(self)",
      ]) {
        const response = await api("POST", "/api/v2/firewall/rule", { body: rule({ source: address }) });
        expect([address, response.status]).toEqual([address, 200]);
      }
    });

    it("reads one rule by id (query parameter) and refuses unknown or missing ids", async () => {
      const created = await create({ descr: "one" });
      const read = await api<Rule>("GET", "/api/v2/firewall/rule", { query: { id: created.id } });
      expect(read.body.data).toEqual(created);
      const missing = await api("GET", "/api/v2/firewall/rule", { query: { id: 99 } });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({
        code: 404,
        status: "not found",
        response_id: "MODEL_OBJECT_NOT_FOUND",
        message: "Object with ID `99` does not exist.",
      });
      expect((await api("GET", "/api/v2/firewall/rule")).status).toBe(400);
    });

    it("shifts ids on delete while trackers stay: the index is never an identity", async () => {
      const a = await create({ descr: "a" });
      const b = await create({ descr: "b" });
      const c = await create({ descr: "c" });
      const deleted = await api<Rule>("DELETE", "/api/v2/firewall/rule", { query: { id: a.id } });
      expect(deleted.body.data).toMatchObject({ id: a.id, tracker: a.tracker, descr: "a" });
      const rules = (await api<Rule[]>("GET", "/api/v2/firewall/rules")).body.data;
      const byTracker = new Map(rules.map((r) => [r.tracker, r]));
      expect(byTracker.get(b.tracker)?.id).toBe(b.id - 1);
      expect(byTracker.get(c.tracker)?.id).toBe(c.id - 1);
      // The old id of `a` now names `b`: deleting "the same id" twice removes the wrong rule.
      const stale = await api<Rule>("GET", "/api/v2/firewall/rule", { query: { id: a.id } });
      expect(stale.body.data.tracker).toBe(b.tracker);
    });

    it("finds rules with query filters, then pages with limit/offset", async () => {
      const a = await create({ descr: "vnf-operator:ns/a" });
      await create({ descr: "vnf-operator:ns/b" });
      await create({ descr: "other", disabled: true });
      const byTracker = await api<Rule[]>("GET", "/api/v2/firewall/rules", { query: { tracker: a.tracker } });
      expect(byTracker.body.data.map((r) => r.descr)).toEqual(["vnf-operator:ns/a"]);
      const marked = await api<Rule[]>("GET", "/api/v2/firewall/rules", {
        query: { descr__contains: "vnf-operator:" },
      });
      expect(marked.body.data.map((r) => r.descr)).toEqual(["vnf-operator:ns/a", "vnf-operator:ns/b"]);
      const disabled = await api<Rule[]>("GET", "/api/v2/firewall/rules", { query: { disabled: true } });
      expect(disabled.body.data.map((r) => r.descr)).toEqual(["other"]);
      const combined = await api<Rule[]>("GET", "/api/v2/firewall/rules", {
        query: { descr__startswith: "vnf-operator:", interface__contains: "wan" },
      });
      expect(combined.body.data).toHaveLength(2);
      const page = await api<Rule[]>("GET", "/api/v2/firewall/rules", { query: { limit: 2, offset: 1 } });
      expect(page.body.data.map((r) => r.id)).toEqual([1, 2]);
      expect((await api("GET", "/api/v2/firewall/rules", { query: { limit: "many" } })).status).toBe(400);
    });

    it("updates by id with PATCH: partial, tracker kept, placement moves, floating not editable", async () => {
      const a = await create({ descr: "a" });
      const patched = await api<Rule>("PATCH", "/api/v2/firewall/rule", {
        body: { id: a.id, descr: "a2", destination_port: "8443", placement: 0 },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toMatchObject({
        id: 0,
        tracker: a.tracker,
        descr: "a2",
        destination_port: "8443",
        type: "pass",
      });
      const rules = (await api<Rule[]>("GET", "/api/v2/firewall/rules")).body.data;
      expect(rules[0]?.tracker).toBe(a.tracker);
      const floating = await api("PATCH", "/api/v2/firewall/rule", { body: { id: 0, floating: true } });
      expect(floating.body.response_id).toBe("FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE");
      expect((await api("PATCH", "/api/v2/firewall/rule", { body: { id: 42, descr: "x" } })).status).toBe(
        404,
      );
      expect((await api("PATCH", "/api/v2/firewall/rule", { body: { descr: "x" } })).status).toBe(400);
    });

    it("refuses a PATCH whose non-editable read-only field names another object (tracker, created_*)", async () => {
      const a = await create({ descr: "cas-a" });
      const b = await create({ descr: "cas-b" });
      const other = await api<Rule>("PATCH", "/api/v2/firewall/rule", {
        body: { id: b.id, tracker: a.tracker, descr: "overwritten" },
      });
      expect(other.status).toBe(400);
      expect(other.body.response_id).toBe("FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE");
      expect(other.body.message).toMatch(/^Field `tracker` is not editable/);
      // A tracker sent as a string is another value (the package compares strictly).
      const text = await api("PATCH", "/api/v2/firewall/rule", {
        body: { id: a.id, tracker: String(a.tracker), descr: "x" },
      });
      expect(text.status).toBe(400);
      const same = await api<Rule>("PATCH", "/api/v2/firewall/rule", {
        body: { id: a.id, tracker: a.tracker, created_time: a.created_time, descr: "cas-a2" },
      });
      expect([same.status, same.body.data.descr, same.body.data.tracker]).toEqual([200, "cas-a2", a.tracker]);
      // updated_time is read-only but editable: ignored.
      const stamp = await api("PATCH", "/api/v2/firewall/rule", { body: { id: a.id, updated_time: 1 } });
      expect(stamp.status).toBe(200);
      const rules = (await sim.control.objects("firewallRule")).candidate;
      expect(rules.find((r) => r.tracker === b.tracker)?.descr).toBe("cas-b");
    });

    it("records what each write touched, as it was before (affected)", async () => {
      const seq = Math.max(0, ...(await sim.control.requests()).map((r) => r.seq));
      const a = await create({ descr: "touched" });
      await api("PATCH", "/api/v2/firewall/rule", { body: { id: a.id, descr: "touched2" } });
      await api("DELETE", "/api/v2/firewall/rules", { query: { tracker: String(a.tracker) } });
      const log = (await sim.control.requests()).filter((r) => r.seq > seq);
      expect(log.map((r) => [r.method, (r.affected ?? []).map((o) => o.descr)])).toEqual([
        ["POST", []],
        ["PATCH", ["touched"]],
        ["DELETE", ["touched2"]],
      ]);
    });

    it("refuses a plural DELETE without any query (Model::delete_many's safety net)", async () => {
      const before = (await sim.control.objects("firewallRule")).candidate.length;
      const refused = await api("DELETE", "/api/v2/firewall/rules");
      expect(refused.status).toBe(400);
      expect(refused.body.response_id).toBe("MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS");
      expect((await sim.control.objects("firewallRule")).candidate).toHaveLength(before);
      // An index and a description together: only the object at that index, if it still matches.
      const x = await create({ descr: "at-index" });
      const miss = await api<Rule[]>("DELETE", "/api/v2/firewall/rules", {
        query: { id: String(x.id), descr: "something else" },
      });
      expect(miss.body.data).toEqual([]);
      const hit = await api<Rule[]>("DELETE", "/api/v2/firewall/rules", {
        query: { id: String(x.id), descr: "at-index" },
      });
      expect(hit.body.data.map((r) => r.tracker)).toEqual([x.tracker]);
    });

    it("deletes by query on the plural endpoint and replaces all with PUT", async () => {
      await create({ descr: "vnf-operator:x" });
      await create({ descr: "vnf-operator:y" });
      const deleted = await api<Rule[]>("DELETE", "/api/v2/firewall/rules", {
        query: { descr__contains: "vnf-operator:" },
      });
      expect(deleted.body.data.map((r) => r.descr)).toEqual(["vnf-operator:x", "vnf-operator:y"]);
      expect((await sim.control.objects("firewallRule")).candidate).toHaveLength(2);
      const replaced = await api<Rule[]>("PUT", "/api/v2/firewall/rules", {
        body: [rule({ descr: "only" })],
      });
      expect(replaced.body.data.map((r) => [r.id, r.descr])).toEqual([[0, "only"]]);
    });

    it("keeps hostile descriptions verbatim", async () => {
      for (const descr of ['x","type":"block', '</entry><entry name="evil">', "../../etc", "é\u0000\n\\'"]) {
        const created = await create({ descr });
        const read = await api<Rule>("GET", "/api/v2/firewall/rule", { query: { id: created.id } });
        expect(read.body.data.descr).toBe(descr);
        expect(read.body.data.type).toBe("pass");
      }
    });
  });

  describe("pending until apply", () => {
    it("keeps writes pending until POST /api/v2/firewall/apply", async () => {
      const a = await create({ descr: "pending" });
      const view = await sim.control.objects("firewallRule");
      expect(view.pending).toBe(true);
      expect(view.candidate.map((r) => r.tracker)).toContain(a.tracker);
      expect(view.running.map((r) => r.tracker)).not.toContain(a.tracker);
      const status = await api("GET", "/api/v2/firewall/apply");
      expect(status.body.data).toEqual({ applied: false, pending_subsystems: ["filter"] });
      const applied = await api("POST", "/api/v2/firewall/apply", { body: {} });
      expect(applied.body.data).toEqual({ applied: true, pending_subsystems: [] });
      const after = await sim.control.objects("firewallRule");
      expect(after.pending).toBe(false);
      expect(after.running).toEqual(after.candidate);
      expect((await sim.control.stats()).applyCount).toBe(1);
    });

    it("marks NAT writes as natconf and a delete as pending too", async () => {
      await api("POST", "/api/v2/firewall/nat/port_forward", { body: portForward() });
      await api("POST", "/api/v2/firewall/apply", { body: {} });
      await api("DELETE", "/api/v2/firewall/nat/port_forward", { query: { id: 0 } });
      expect((await api("GET", "/api/v2/firewall/apply")).body.data).toEqual({
        applied: false,
        pending_subsystems: ["natconf"],
      });
      expect((await sim.control.objects("natRule")).running).toHaveLength(1);
    });

    it("applies at once with the apply control parameter", async () => {
      const created = await api<Rule>("POST", "/api/v2/firewall/rule", { body: { ...rule(), apply: true } });
      const view = await sim.control.objects("firewallRule");
      expect(view.pending).toBe(false);
      expect(view.running.map((r) => r.tracker)).toContain(created.body.data.tracker);
    });
  });

  describe("aliases", () => {
    it("accepts an address naming an existing alias and refuses an unknown one", async () => {
      const aliased = await startSimulator("pfsense", { aliases: ["web_servers"] });
      const aliasedClient = rawClient(aliased);
      const auth = {
        authorization: basicAuth(aliased.credentials.username ?? "", aliased.credentials.password ?? ""),
      };
      try {
        const ok = await aliasedClient.request("POST", "/api/v2/firewall/rule", {
          headers: auth,
          body: rule({ destination: "web_servers" }),
        });
        expect(ok.json<Envelope<Rule>>().data.destination).toBe("web_servers");
        const unknown = await aliasedClient.request("POST", "/api/v2/firewall/rule", {
          headers: auth,
          body: rule({ destination: "db_servers" }),
        });
        expect(unknown.json<Envelope>().response_id).toBe("FILTER_ADDRESS_FIELD_INVALID");
      } finally {
        await aliasedClient.close();
        await aliased.stop();
      }
    });
  });

  describe("apply that takes time", () => {
    it("answers an async apply before it completes, a synchronous one after", async () => {
      const slow = await startSimulator("pfsense", { applyDelayMs: 300 });
      const slowClient = rawClient(slow);
      const auth = {
        authorization: basicAuth(slow.credentials.username ?? "", slow.credentials.password ?? ""),
      };
      try {
        await slowClient.request("POST", "/api/v2/firewall/rule", { headers: auth, body: rule() });
        const started = await slowClient.request("POST", "/api/v2/firewall/apply", {
          headers: auth,
          body: {},
        });
        expect(started.json<Envelope>().data).toEqual({ applied: false, pending_subsystems: ["filter"] });
        await expect
          .poll(
            async () =>
              (await slowClient.request("GET", "/api/v2/firewall/apply", { headers: auth })).json<Envelope>()
                .data,
          )
          .toEqual({ applied: true, pending_subsystems: [] });
        await slowClient.request("POST", "/api/v2/firewall/rule", { headers: auth, body: rule() });
        const waited = await slowClient.request("POST", "/api/v2/firewall/apply", {
          headers: auth,
          body: { async: false },
        });
        expect(waited.json<Envelope>().data).toEqual({ applied: true, pending_subsystems: [] });
        expect((await slow.control.stats()).applyCount).toBe(2);
      } finally {
        await slowClient.close();
        await slow.stop();
      }
    });
  });

  describe("lost parallel writes (pfrest #238)", () => {
    it("acknowledges overlapping writes but keeps only the last; sequential writes are all kept", async () => {
      const racy = await startSimulator("pfsense", { writeLatencyMs: 300, factoryRules: false });
      const racyClient = rawClient(racy);
      const auth = {
        authorization: basicAuth(racy.credentials.username ?? "", racy.credentials.password ?? ""),
      };
      try {
        const parallel = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            racyClient.request("POST", "/api/v2/firewall/rule", {
              headers: auth,
              body: rule({ descr: `p${i}` }),
            }),
          ),
        );
        expect(parallel.map((r) => r.status)).toEqual(Array(8).fill(200));
        const stored = (await racy.control.objects("firewallRule")).candidate;
        expect(stored.length).toBeLessThan(8);
        const lost = (await racy.control.stats()).lostWrites;
        expect(lost + stored.length).toBe(8);

        await racy.control.reset();
        for (let i = 0; i < 3; i += 1) {
          await racyClient.request("POST", "/api/v2/firewall/rule", {
            headers: auth,
            body: rule({ descr: `s${i}` }),
          });
        }
        expect((await racy.control.objects("firewallRule")).candidate.map((r) => r.descr)).toEqual([
          "s0",
          "s1",
          "s2",
        ]);
        expect((await racy.control.stats()).lostWrites).toBe(0);
      } finally {
        await racyClient.close();
        await racy.stop();
      }
    });
  });

  describe("NAT", () => {
    it("creates port forwards without tracker, sorted by interface, so ids shift; found by descr marker", async () => {
      const wan = await api<Rule>("POST", "/api/v2/firewall/nat/port_forward", {
        body: portForward({ descr: "vnf-operator:ns/wan-pf" }),
      });
      expect(wan.body.data).toMatchObject({
        id: 0,
        interface: "wan",
        target: "192.168.1.10",
        local_port: "443",
      });
      expect(wan.body.data).not.toHaveProperty("tracker");
      const lan = await api<Rule>("POST", "/api/v2/firewall/nat/port_forward", {
        body: portForward({ interface: "lan", descr: "vnf-operator:ns/lan-pf" }),
      });
      expect(lan.body.data.id).toBe(0);
      const found = await api<Rule[]>("GET", "/api/v2/firewall/nat/port_forwards", {
        query: { descr__contains: "vnf-operator:ns/wan-pf" },
      });
      expect(found.body.data.map((r) => r.id)).toEqual([1]);
    });

    it("requires protocol and a target address", async () => {
      const noProtocol = await api("POST", "/api/v2/firewall/nat/port_forward", {
        body: portForward({ protocol: undefined }),
      });
      expect(noProtocol.body).toMatchObject({
        code: 400,
        response_id: "FIELD_IS_REQUIRED",
        message: "Field `protocol` is required.",
      });
      const badTarget = await api("POST", "/api/v2/firewall/nat/port_forward", {
        body: portForward({ target: "web01" }),
      });
      expect(badTarget.status).toBe(400);
    });

    it("creates and removes the associated filter rule when asked for a new one", async () => {
      const created = await api<Rule>("POST", "/api/v2/firewall/nat/port_forward", {
        body: portForward({ associated_rule_id: "new", descr: "with rule" }),
      });
      const ruleId = created.body.data.associated_rule_id as string;
      expect(ruleId).toMatch(/^nat_[0-9a-f]+$/);
      const rules = (await sim.control.objects("firewallRule")).candidate;
      expect(rules.find((r) => r.associated_rule_id === ruleId)).toMatchObject({
        destination: "192.168.1.10",
        destination_port: "443",
        descr: "NAT with rule",
      });
      await api("DELETE", "/api/v2/firewall/nat/port_forward", { query: { id: created.body.data.id } });
      expect(
        (await sim.control.objects("firewallRule")).candidate.some((r) => r.associated_rule_id === ruleId),
      ).toBe(false);
    });

    it("serves outbound and 1:1 mappings and the outbound mode", async () => {
      const outbound = await api<Rule>("POST", "/api/v2/firewall/nat/outbound/mapping", {
        body: {
          interface: "wan",
          source: "192.168.1.0/24",
          destination: "any",
          target: "wan:ip",
          descr: "snat",
        },
      });
      expect(outbound.body.data).toMatchObject({ id: 0, interface: "wan", descr: "snat", nonat: false });
      const one = await api<Rule>("POST", "/api/v2/firewall/nat/one_to_one/mapping", {
        body: {
          interface: "wan",
          external: "203.0.113.10",
          source: "192.168.1.10",
          destination: "any",
          descr: "1to1",
        },
      });
      expect(one.body.data).toMatchObject({ id: 0, external: "203.0.113.10" });
      expect((await sim.control.objects("natOutbound")).candidate).toHaveLength(1);
      expect((await sim.control.objects("natOneToOne")).pending).toBe(true);
      const mode = await api<{ mode: string }>("PATCH", "/api/v2/firewall/nat/outbound/mode", {
        body: { mode: "hybrid" },
      });
      expect(mode.body.data).toEqual({ mode: "hybrid" });
      expect(
        (await api("PATCH", "/api/v2/firewall/nat/outbound/mode", { body: { mode: "auto" } })).status,
      ).toBe(400);
    });
  });

  describe("control API", () => {
    it("stores objects as the GUI would: by tracker for rules, applied unless told otherwise", async () => {
      const tracker = await sim.control.putObject("firewallRule", {
        type: "block",
        interface: ["wan"],
        ipprotocol: "inet",
        source: "any",
        destination: "any",
        descr: "added by hand",
      });
      let view = await sim.control.objects("firewallRule");
      expect(view.pending).toBe(false);
      expect(view.running.find((r) => String(r.tracker) === tracker)).toMatchObject({
        descr: "added by hand",
        statetype: "keep state",
      });
      await sim.control.updateObject("firewallRule", tracker, { descr: "edited by hand" }, { apply: false });
      view = await sim.control.objects("firewallRule");
      expect(view.pending).toBe(true);
      expect(view.candidate.find((r) => String(r.tracker) === tracker)?.descr).toBe("edited by hand");
      expect(view.running.find((r) => String(r.tracker) === tracker)?.descr).toBe("added by hand");
      const api_view = await api<Rule[]>("GET", "/api/v2/firewall/rules", {
        query: { tracker: Number(tracker) },
      });
      expect(api_view.body.data[0]?.descr).toBe("edited by hand");
      await sim.control.deleteObject("firewallRule", tracker);
      expect(
        (await sim.control.objects("firewallRule")).candidate.some((r) => String(r.tracker) === tracker),
      ).toBe(false);
      await expect(sim.control.deleteObject("firewallRule", tracker)).rejects.toThrow(/no firewallRule/);
    });

    it("addresses NAT objects by index id", async () => {
      const id = await sim.control.putObject("natRule", portForward({ descr: "by hand" }));
      expect(id).toBe("0");
      await sim.control.updateObject("natRule", id, { local_port: "8080" });
      expect((await sim.control.objects("natRule")).running[0]).toMatchObject({ id: 0, local_port: "8080" });
    });
  });
});
