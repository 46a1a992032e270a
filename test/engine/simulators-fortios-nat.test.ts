// Pins the FortiOS simulator's custom services, IP pools, central SNAT map, system settings and
// virtual IP ranges over real HTTPS: the NAT and port parts of the FortiOS dictionary are written
// against exactly this.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RawClient, type RawRequestInit, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

type FoBody = Record<string, unknown> & {
  status: string;
  http_status: number;
  results?: unknown;
  mkey?: unknown;
  error?: number;
  cli_error?: string;
};

const members = (...names: string[]) => names.map((name) => ({ name }));

describe("FortiOS simulator: services, IP pools, central SNAT, settings", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function api(method: string, path: string, init: RawRequestInit = {}) {
    const response = await client.request(method, `/api/v2/cmdb/${path}`, {
      ...init,
      headers: { authorization: `Bearer ${sim.credentials.token}`, ...init.headers },
    });
    return { status: response.status, body: response.json<FoBody>() };
  }
  const post = (path: string, body: unknown) => api("POST", path, { body });

  beforeAll(async () => {
    sim = await startSimulator("fortios", {});
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(() => sim.control.reset());

  describe("custom services (firewall.service/custom)", () => {
    it("stores port ranges (destination:source), and policies may use them", async () => {
      const created = await post("firewall.service/custom", {
        name: "app-8000",
        protocol: "TCP/UDP/SCTP",
        "tcp-portrange": "8000-8080:1024-65535",
        "udp-portrange": "8000",
      });
      expect(created.status).toBe(200);
      expect(created.body.mkey).toBe("app-8000");
      const got = await api("GET", "firewall.service/custom/app-8000");
      expect((got.body.results as Record<string, unknown>[])[0]).toMatchObject({
        name: "app-8000",
        q_origin_key: "app-8000",
        protocol: "TCP/UDP/SCTP",
        "tcp-portrange": "8000-8080:1024-65535",
        "udp-portrange": "8000",
      });
      const policy = await post("firewall/policy", {
        srcintf: members("port1"),
        dstintf: members("port2"),
        srcaddr: members("all"),
        dstaddr: members("all"),
        service: members("app-8000"),
        schedule: "always",
        action: "accept",
      });
      expect(policy.status).toBe(200);
    });

    it("refuses a policy naming a service that does not exist, and a malformed port range", async () => {
      const policy = await post("firewall/policy", {
        srcintf: members("port1"),
        dstintf: members("port2"),
        srcaddr: members("all"),
        dstaddr: members("all"),
        service: members("no-such-service"),
        schedule: "always",
      });
      expect(policy.status).toBe(424);
      expect(policy.body.error).toBe(-3);
      expect(policy.body.cli_error).toContain("node_check_object fail! for service no-such-service");
      for (const range of ["70000", "80-", "1:2:3", "a-b"]) {
        const bad = await post("firewall.service/custom", { name: "x", "tcp-portrange": range });
        expect(bad.status, range).toBe(424);
        expect(bad.body.error).toBe(-651);
      }
      const noPorts = await post("firewall.service/custom", { name: "x", protocol: "TCP/UDP/SCTP" });
      expect(noPorts.body.error).toBe(-56);
    });

    it("refuses to delete a service a policy uses (-23), deletes it once unused, and 424 -5 on a duplicate", async () => {
      await post("firewall.service/custom", { name: "svc", "tcp-portrange": "9000" });
      expect(
        (await post("firewall.service/custom", { name: "svc", "tcp-portrange": "9000" })).body.error,
      ).toBe(-5);
      const policy = await post("firewall/policy", {
        srcintf: members("port1"),
        dstintf: members("port2"),
        srcaddr: members("all"),
        dstaddr: members("all"),
        service: members("svc"),
        schedule: "always",
      });
      const inUse = await api("DELETE", "firewall.service/custom/svc");
      expect(inUse.status).toBe(424);
      expect(inUse.body.error).toBe(-23);
      await api("DELETE", `firewall/policy/${String(policy.body.mkey)}`);
      expect((await api("DELETE", "firewall.service/custom/svc")).status).toBe(200);
      expect((await api("GET", "firewall.service/custom/svc")).status).toBe(404);
    });
  });

  describe("IP pools and the central SNAT map", () => {
    it("creates an entry that references addresses and a pool; both are then in use", async () => {
      await post("firewall/address", { name: "inside", subnet: "10.0.0.0/24" });
      await post("firewall/ippool", { name: "public", startip: "203.0.113.16", endip: "203.0.113.23" });
      const entry = await post("firewall/central-snat-map", {
        srcintf: members("any"),
        dstintf: members("port1"),
        "orig-addr": members("inside"),
        "dst-addr": members("all"),
        protocol: 6,
        "dst-port": "443",
        "nat-ippool": members("public"),
        comments: "by the API",
      });
      expect(entry.status).toBe(200);
      expect(entry.body.mkey).toBe(1);
      const got = (await api("GET", "firewall/central-snat-map/1")).body.results as Record<string, unknown>[];
      expect(got[0]).toMatchObject({
        policyid: 1,
        status: "enable",
        type: "ipv4",
        protocol: 6,
        "orig-port": "0",
        "dst-port": "443",
        nat: "enable",
        "nat-port": "0",
        "nat-ippool": [{ name: "public", q_origin_key: "public" }],
      });
      expect((await api("DELETE", "firewall/address/inside")).body.error).toBe(-23);
      expect((await api("DELETE", "firewall/ippool/public")).body.error).toBe(-23);
      await api("DELETE", "firewall/central-snat-map/1");
      expect((await api("DELETE", "firewall/ippool/public")).status).toBe(200);
      expect((await api("DELETE", "firewall/address/inside")).status).toBe(200);
    });

    it("refuses missing required attributes, unknown pools and a pool that ends before it starts", async () => {
      const missing = await post("firewall/central-snat-map", { srcintf: members("any") });
      expect(missing.body.error).toBe(-56);
      const ghost = await post("firewall/central-snat-map", {
        srcintf: members("any"),
        dstintf: members("port1"),
        "orig-addr": members("all"),
        "dst-addr": members("all"),
        "nat-ippool": members("ghost"),
      });
      expect(ghost.body.error).toBe(-3);
      const backwards = await post("firewall/ippool", { name: "p", startip: "10.0.0.9", endip: "10.0.0.1" });
      expect(backwards.body.error).toBe(-651);
    });
  });

  describe("system settings", () => {
    it("answers one object per VDOM; central-nat is off as shipped and can be switched", async () => {
      const settings = await api("GET", "system/settings");
      expect(settings.body.results).toMatchObject({ "central-nat": "disable", opmode: "nat" });
      expect(Array.isArray(settings.body.results)).toBe(false);
      expect((await api("PUT", "system/settings", { body: { "central-nat": "enable" } })).status).toBe(200);
      expect((await api("GET", "system/settings")).body.results).toMatchObject({ "central-nat": "enable" });
      expect((await api("PUT", "system/settings", { body: { "central-nat": "maybe" } })).status).toBe(424);
      expect((await api("DELETE", "system/settings")).status).toBe(405);
    });
  });

  describe("virtual IPs for whole ranges", () => {
    it("maps an external range onto a mapped range of the same size, with a source filter and a status", async () => {
      const ok = await post("firewall/vip", {
        name: "block",
        extip: "203.0.113.32-203.0.113.39",
        mappedip: [{ range: "10.0.2.0-10.0.2.7" }],
        extintf: "port1",
        "nat-source-vip": "enable",
        "src-filter": [{ range: "198.51.100.0/24" }],
        status: "disable",
      });
      expect(ok.status).toBe(200);
      const got = (await api("GET", "firewall/vip/block")).body.results as Record<string, unknown>[];
      expect(got[0]).toMatchObject({
        "src-filter": [{ range: "198.51.100.0/24", q_origin_key: "198.51.100.0/24" }],
        status: "disable",
        "nat-source-vip": "enable",
      });
      const mismatch = await post("firewall/vip", {
        name: "bad",
        extip: "203.0.113.32-203.0.113.39",
        mappedip: [{ range: "10.0.2.0-10.0.2.3" }],
      });
      expect(mismatch.body.error).toBe(-651);
    });
  });
});
