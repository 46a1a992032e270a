// Pins the FortiOS REST API v2 behaviour of the FortiOS simulator, over real HTTPS: the engine and its
// dictionaries are written against exactly this.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RawClient, type RawRequestInit, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

type FoBody = Record<string, unknown> & {
  http_method: string;
  status: string;
  http_status: number;
  results?: Record<string, unknown>[];
  mkey?: unknown;
  error?: number;
  cli_error?: string;
  revision?: string;
  revision_changed?: boolean;
  old_revision?: string;
};

const members = (...names: string[]) => names.map((name) => ({ name }));

function policy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "web",
    srcintf: members("port1"),
    dstintf: members("port2"),
    srcaddr: members("all"),
    dstaddr: members("all"),
    service: members("HTTPS"),
    schedule: "always",
    action: "accept",
    comments: "managed",
    ...overrides,
  };
}

function vip(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "web-vip",
    extip: "203.0.113.10",
    extintf: "port1",
    mappedip: [{ range: "192.168.1.10" }],
    portforward: "enable",
    extport: "8443",
    mappedport: "443",
    comment: "managed",
    ...overrides,
  };
}

describe("FortiOS simulator", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function api(method: string, path: string, init: RawRequestInit = {}) {
    const response = await client.request(method, `/api/v2/cmdb/firewall/${path}`, {
      ...init,
      headers: { authorization: `Bearer ${sim.credentials.token}`, ...init.headers },
    });
    return {
      status: response.status,
      text: response.text,
      headers: response.headers,
      body: response.json<FoBody>(),
    };
  }

  beforeAll(async () => {
    sim = await startSimulator("fortios", { vdoms: ["root", "dmz"] });
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(() => sim.control.reset());

  describe("authentication", () => {
    it("takes the REST API admin token as Bearer and answers anything else with the HTML 401 page", async () => {
      expect((await api("GET", "policy")).status).toBe(200);
      const attempts: Record<string, string>[] = [
        {},
        { authorization: "Bearer wrong" },
        { authorization: `Basic ${sim.credentials.token}` },
      ];
      for (const headers of attempts) {
        const response = await client.request("GET", "/api/v2/cmdb/firewall/policy", { headers });
        expect(response.status).toBe(401);
        expect(response.headers.get("content-type")).toContain("text/html");
        expect(response.text).toContain("401 Authorization Required");
      }
    });

    it("refuses ?access_token= by default (7.4.5+), accepts it when enabled, and never logs it", async () => {
      const query = { access_token: sim.credentials.token ?? "" };
      expect((await client.request("GET", "/api/v2/cmdb/firewall/policy", { query })).status).toBe(401);
      const legacy = await startSimulator("fortios", { allowAccessTokenQuery: true });
      const legacyClient = rawClient(legacy);
      try {
        const ok = await legacyClient.request("GET", "/api/v2/cmdb/firewall/policy", {
          query: { access_token: legacy.credentials.token ?? "" },
        });
        expect(ok.status).toBe(200);
        const [entry] = await legacy.control.requests();
        expect(entry?.query.access_token).toBe("[REDACTED]");
        expect(JSON.stringify(entry)).not.toContain(legacy.credentials.token);
      } finally {
        await legacyClient.close();
        await legacy.stop();
      }
    });
  });

  describe("envelope", () => {
    it("lists with results always an array and the appliance identity", async () => {
      const list = await api("GET", "policy");
      expect(list.body).toMatchObject({
        http_method: "GET",
        results: [],
        vdom: "root",
        path: "firewall",
        name: "policy",
        status: "success",
        http_status: 200,
        serial: "FGVMSIM000000001",
        version: "v7.4.5",
        build: 2702,
        revision: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
    });

    it("reports health, version and serial at /api/v2/monitor/system/status", async () => {
      const response = await client.request("GET", "/api/v2/monitor/system/status", {
        headers: { authorization: `Bearer ${sim.credentials.token}` },
      });
      expect(response.json()).toMatchObject({
        http_method: "GET",
        results: { model_name: "FortiGate", hostname: "FGVM-SIM" },
        status: "success",
        serial: "FGVMSIM000000001",
        version: "v7.4.5",
        build: 2702,
      });
    });

    it("answers unknown tables with a JSON 404 and other paths with an HTML one", async () => {
      const table = await api("GET", "nothing");
      expect(table.body).toMatchObject({ status: "error", http_status: 404 });
      const other = await client.request("GET", "/index.html", {
        headers: { authorization: `Bearer ${sim.credentials.token}` },
      });
      expect(other.status).toBe(404);
      expect(other.headers.get("content-type")).toContain("text/html");
    });

    it("scopes by ?vdom= and refuses an unknown vdom with 403", async () => {
      await api("POST", "policy", { body: policy(), query: { vdom: "dmz" } });
      expect((await api("GET", "policy")).body.results).toEqual([]);
      const dmz = await api("GET", "policy", { query: { vdom: "dmz" } });
      expect(dmz.body).toMatchObject({ vdom: "dmz" });
      expect(dmz.body.results).toHaveLength(1);
      const unknown = await api("GET", "policy", { query: { vdom: "nope" } });
      expect(unknown.status).toBe(403);
      expect(unknown.body).toMatchObject({ status: "error", http_status: 403, vdom: "nope" });
      expect((await sim.control.objects("firewallRule@dmz")).candidate).toHaveLength(1);
    });
  });

  describe("firewall policy", () => {
    it("creates with a bare object body: policyid auto-assigned, returned as mkey, revision changed", async () => {
      const first = await api("POST", "policy", { body: policy() });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        http_method: "POST",
        mkey: 1,
        status: "success",
        http_status: 200,
        revision_changed: true,
      });
      expect(first.body.old_revision).not.toBe(first.body.revision);
      const second = await api("POST", "policy", { body: policy({ name: "second", policyid: 0 }) });
      expect(second.body.mkey).toBe(2);
      const explicit = await api("POST", "policy", { body: policy({ name: "explicit", policyid: 40 }) });
      expect(explicit.body.mkey).toBe(40);
      expect((await api("POST", "policy", { body: policy({ name: "next" }) })).body.mkey).toBe(41);
    });

    it("reads one policy as a one-element results array, with FortiOS's member shape and defaults", async () => {
      await api("POST", "policy", { body: policy() });
      const read = await api("GET", "policy/1");
      expect(read.body.results).toHaveLength(1);
      expect(read.body.results?.[0]).toMatchObject({
        policyid: 1,
        q_origin_key: 1,
        name: "web",
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        status: "enable",
        srcintf: [{ name: "port1", q_origin_key: "port1" }],
        service: [{ name: "HTTPS", q_origin_key: "HTTPS" }],
        action: "accept",
        nat: "disable",
        logtraffic: "utm",
        comments: "managed",
      });
      const missing = await api("GET", "policy/9");
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ status: "error", http_status: 404, error: -3 });
    });

    it("refuses duplicates with 424 and error -5 (policyid or name)", async () => {
      await api("POST", "policy", { body: policy({ policyid: 7 }) });
      const sameId = await api("POST", "policy", { body: policy({ policyid: 7, name: "other" }) });
      expect(sameId.body).toMatchObject({ status: "error", http_status: 424, error: -5 });
      expect(sameId.status).toBe(424);
      const sameName = await api("POST", "policy", { body: policy() });
      expect(sameName.body).toMatchObject({ http_status: 424, error: -5 });
    });

    it.each([
      [{ action: "allow" }, -651, "value parse error before 'allow'"],
      [{ srcintf: undefined }, -56, "Attribute 'srcintf' MUST be set."],
      [{ schedule: undefined }, -56, "Attribute 'schedule' MUST be set."],
      [{ srcaddr: members("ghost") }, -3, "node_check_object fail! for srcaddr ghost"],
      [{ dstintf: members("port9") }, -3, "node_check_object fail! for dstintf port9"],
      [{ service: members("NOPE") }, -3, "node_check_object fail! for service NOPE"],
      [{ name: "n".repeat(36) }, -1, "'name' exceeds the maximum of 35"],
      [{ srcaddr: "all" }, -651, "value parse error"],
    ])("refuses %j with 424, error %i and a cli_error", async (overrides, code, cliError) => {
      const response = await api("POST", "policy", { body: policy(overrides) });
      expect(response.status).toBe(424);
      expect(response.body).toMatchObject({ status: "error", http_status: 424, error: code });
      expect(response.body.cli_error).toContain(cliError);
      expect((await sim.control.objects("firewallRule")).candidate).toEqual([]);
    });

    it("updates with PUT /{policyid}: partial body, revision_changed false when nothing changed", async () => {
      await api("POST", "policy", { body: policy() });
      const updated = await api("PUT", "policy/1", { body: { action: "deny", comments: "changed" } });
      expect(updated.body).toMatchObject({ http_method: "PUT", mkey: 1, revision_changed: true });
      expect((await api("GET", "policy/1")).body.results?.[0]).toMatchObject({
        action: "deny",
        comments: "changed",
        name: "web",
      });
      const same = await api("PUT", "policy/1", { body: { action: "deny" } });
      expect(same.body.revision_changed).toBe(false);
      expect(same.body.revision).toBe(updated.body.revision);
      expect((await api("PUT", "policy/5", { body: { action: "deny" } })).body).toMatchObject({
        http_status: 404,
        error: -3,
      });
      expect((await api("PUT", "policy/1", { body: { action: "maybe" } })).body.error).toBe(-651);
    });

    it("deletes by policyid; DELETE on the table itself removes every entry", async () => {
      await api("POST", "policy", { body: policy() });
      await api("POST", "policy", { body: policy({ name: "b" }) });
      await api("POST", "policy", { body: policy({ name: "c" }) });
      const deleted = await api("DELETE", "policy/1");
      expect(deleted.body).toMatchObject({ http_method: "DELETE", mkey: 1, status: "success" });
      expect((await api("GET", "policy/1")).status).toBe(404);
      expect((await api("DELETE", "policy/1")).body).toMatchObject({ http_status: 404, error: -3 });
      expect((await api("GET", "policy")).body.results).toHaveLength(2);
      await api("DELETE", "policy");
      expect((await api("GET", "policy")).body.results).toEqual([]);
    });

    it("filters (==, =@, !=, OR with commas, escaped commas), formats and pages", async () => {
      await api("POST", "policy", { body: policy({ name: "a", comments: "vnf-operator:ns/a" }) });
      await api("POST", "policy", { body: policy({ name: "b", comments: "vnf-operator:ns/b" }) });
      await api("POST", "policy", { body: policy({ name: "c,d", comments: "other", action: "deny" }) });
      const names = async (query: Record<string, string>) =>
        (await api("GET", "policy", { query })).body.results?.map((r) => r.name);
      expect(await names({ filter: "name==a" })).toEqual(["a"]);
      expect(await names({ filter: "comments=@vnf-operator:" })).toEqual(["a", "b"]);
      expect(await names({ filter: "action!=accept" })).toEqual(["c,d"]);
      expect(await names({ filter: "name==a,name==b" })).toEqual(["a", "b"]);
      expect(await names({ filter: "name==c\\,d" })).toEqual(["c,d"]);
      expect(await names({ filter: "srcaddr==all" })).toEqual(["a", "b", "c,d"]);
      const paged = await api("GET", "policy", {
        query: { start: "1", count: "1", format: "policyid|name" },
      });
      expect(paged.body.results).toEqual([{ policyid: 2, name: "b" }]);
      expect(paged.body).toMatchObject({ size: 3, matched_count: 3, next_idx: 1 });
      expect((await api("GET", "policy", { query: { filter: "nooperator" } })).status).toBe(400);
    });

    it("moves a policy before or after another (PUT ?action=move)", async () => {
      for (const name of ["a", "b", "c"]) await api("POST", "policy", { body: policy({ name }) });
      const order = async () => (await api("GET", "policy")).body.results?.map((r) => r.policyid);
      const moved = await api("PUT", "policy/3", { query: { action: "move", before: "1" } });
      expect(moved.body).toMatchObject({ status: "success", mkey: 3 });
      expect(await order()).toEqual([3, 1, 2]);
      await api("PUT", "policy/3", { query: { action: "move", after: "2" } });
      expect(await order()).toEqual([1, 2, 3]);
      expect((await api("PUT", "policy/3", { query: { action: "move", before: "9" } })).status).toBe(404);
    });

    it("is live at once: no activation step", async () => {
      await api("POST", "policy", { body: policy() });
      const view = await sim.control.objects("firewallRule");
      expect(view.pending).toBe(false);
      expect(view.running).toEqual(view.candidate);
      expect((await sim.control.stats()).applyCount).toBe(0);
    });

    it("keeps hostile names and comments verbatim", async () => {
      const comments = 'x","action":"accept</entry>../../é';
      await api("POST", "policy", { body: policy({ name: "we\"ird'", comments }) });
      expect((await api("GET", "policy/1")).body.results?.[0]).toMatchObject({
        name: "we\"ird'",
        comments,
        action: "accept",
      });
    });
  });

  describe("virtual IPs and addresses", () => {
    it("creates a VIP with the name as mkey and refuses a duplicate name with 424/-5", async () => {
      const created = await api("POST", "vip", { body: vip() });
      expect(created.body).toMatchObject({ mkey: "web-vip", status: "success" });
      const read = await api("GET", "vip/web-vip");
      expect(read.body.results?.[0]).toMatchObject({
        name: "web-vip",
        q_origin_key: "web-vip",
        extip: "203.0.113.10",
        mappedip: [{ range: "192.168.1.10", q_origin_key: "192.168.1.10" }],
        portforward: "enable",
        extport: "8443",
        mappedport: "443",
        type: "static-nat",
      });
      expect((await api("POST", "vip", { body: vip() })).body).toMatchObject({ http_status: 424, error: -5 });
      expect((await api("POST", "vip", { body: vip({ name: "x", extport: undefined }) })).body.error).toBe(
        -56,
      );
    });

    it("addresses names with special characters percent-encoded in the path", async () => {
      const name = "web/../x y?#%";
      await api("POST", "vip", { body: vip({ name }) });
      const read = await api("GET", `vip/${encodeURIComponent(name)}`);
      expect(read.body.results?.[0]?.name).toBe(name);
      expect((await api("DELETE", `vip/${encodeURIComponent(name)}`)).body.mkey).toBe(name);
    });

    it("refuses to delete a VIP or address a policy uses (424/-23)", async () => {
      await api("POST", "vip", { body: vip() });
      await api("POST", "policy", { body: policy({ dstaddr: members("web-vip") }) });
      const refused = await api("DELETE", "vip/web-vip");
      expect(refused.body).toMatchObject({ status: "error", http_status: 424, error: -23 });
      await api("DELETE", "policy/1");
      expect((await api("DELETE", "vip/web-vip")).body.status).toBe("success");
    });

    it("normalises address subnets to FortiOS's 'ip mask' form and keeps VIP and address names apart", async () => {
      await api("POST", "address", { body: { name: "lan-net", subnet: "192.168.1.0/24" } });
      const read = await api("GET", "address/lan-net");
      expect(read.body.results?.[0]).toMatchObject({ type: "ipmask", subnet: "192.168.1.0 255.255.255.0" });
      expect((await api("GET", "address", { query: { filter: "name==all" } })).body.results).toHaveLength(1);
      expect((await api("POST", "vip", { body: vip({ name: "lan-net" }) })).body).toMatchObject({
        http_status: 424,
        error: -164,
      });
      expect(
        (await api("POST", "address", { body: { name: "bad", subnet: "10.0.0.0/40" } })).body.error,
      ).toBe(-651);
    });
  });

  describe("429 under parallel load", () => {
    it("refuses requests above the in-flight threshold with an HTML 429", async () => {
      const busy = await startSimulator("fortios", { maxConcurrentRequests: 2, latencyMs: 400 });
      const busyClient = rawClient(busy);
      try {
        const responses = await Promise.all(
          Array.from({ length: 6 }, () =>
            busyClient.request("GET", "/api/v2/cmdb/firewall/policy", {
              headers: { authorization: `Bearer ${busy.credentials.token}` },
            }),
          ),
        );
        const statuses = responses.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
        const throttled = responses.find((r) => r.status === 429);
        expect(throttled?.headers.get("content-type")).toContain("text/html");
        expect(throttled?.headers.get("retry-after")).toBeNull();
        expect((await busy.control.stats()).throttled).toBe(4);
        // One at a time, nothing is refused.
        for (let i = 0; i < 2; i += 1) {
          const response = await busyClient.request("GET", "/api/v2/cmdb/firewall/policy", {
            headers: { authorization: `Bearer ${busy.credentials.token}` },
          });
          expect(response.status).toBe(200);
        }
      } finally {
        await busyClient.close();
        await busy.stop();
      }
    });
  });

  describe("control API", () => {
    it("stores, edits and deletes objects behind the client's back (members as plain names)", async () => {
      const id = await sim.control.putObject("firewallRule", {
        name: "gui-made",
        srcintf: ["port1"],
        dstintf: ["port2"],
        srcaddr: ["all"],
        dstaddr: ["all"],
        service: ["ALL"],
        schedule: "always",
        action: "accept",
      });
      expect(id).toBe("1");
      const listed = await api("GET", "policy", { query: { filter: "name==gui-made" } });
      expect(listed.body.results?.[0]).toMatchObject({
        policyid: 1,
        srcintf: [{ name: "port1", q_origin_key: "port1" }],
      });
      const before = listed.body.revision;
      await sim.control.updateObject("firewallRule", id, { action: "deny" });
      const after = await api("GET", "policy/1");
      expect(after.body.results?.[0]?.action).toBe("deny");
      expect(after.body.revision).not.toBe(before);
      await sim.control.deleteObject("firewallRule", id);
      expect((await api("GET", "policy/1")).status).toBe(404);
      const vipId = await sim.control.putObject("natRule", {
        name: "gui-vip",
        extip: "203.0.113.5",
        mappedip: ["10.0.0.5"],
      });
      expect(vipId).toBe("gui-vip");
      expect((await sim.control.objects("natRule")).candidate[0]).toMatchObject({
        mappedip: [{ range: "10.0.0.5" }],
      });
      await expect(sim.control.putObject("natRule", { name: "gui-vip" })).rejects.toThrow(/already exists/);
    });
  });
});
