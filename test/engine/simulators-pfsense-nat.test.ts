// Pins the pfSense simulator's outbound NAT and 1:1 NAT models and the outbound NAT mode over real
// HTTPS (RESTAPI/Models/OutboundNATMapping.inc, OneToOneNATMapping.inc, OutboundNATMode.inc): the
// pfSense dictionary's snat and 1to1 rules are written against exactly this.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, type RawClient, type RawRequestInit, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

interface Envelope<T = unknown> {
  code: number;
  response_id: string;
  message: string;
  data: T;
}

const outbound = (overrides: Record<string, unknown> = {}) => ({
  interface: "wan",
  source: "10.0.0.0/24",
  destination: "any",
  target: "203.0.113.20",
  target_subnet: 32,
  descr: "snat",
  ...overrides,
});

const oneToOne = (overrides: Record<string, unknown> = {}) => ({
  interface: "wan",
  external: "203.0.113.30",
  source: "10.0.0.30",
  destination: "any",
  descr: "1:1",
  ...overrides,
});

describe("pfSense simulator: outbound NAT and 1:1 NAT", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function api<T = Record<string, unknown>>(method: string, path: string, init: RawRequestInit = {}) {
    const response = await client.request(method, `/api/v2/firewall/nat/${path}`, {
      ...init,
      headers: { authorization: basicAuth(sim.credentials.username ?? "", sim.credentials.password ?? "") },
    });
    return { status: response.status, body: response.json<Envelope<T>>() };
  }

  beforeAll(async () => {
    sim = await startSimulator("pfsense", { outboundMode: "advanced" });
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(() => sim.control.reset());

  it("starts in the configured outbound mode (automatic on a fresh install)", async () => {
    expect((await api("GET", "outbound/mode")).body.data).toEqual({ mode: "advanced" });
    const fresh = await startSimulator("pfsense");
    try {
      const raw = rawClient(fresh);
      const response = await raw.request("GET", "/api/v2/firewall/nat/outbound/mode", {
        headers: {
          authorization: basicAuth(fresh.credentials.username ?? "", fresh.credentials.password ?? ""),
        },
      });
      expect(response.json<Envelope>().data).toEqual({ mode: "automatic" });
      await raw.close();
    } finally {
      await fresh.stop();
    }
  });

  describe("outbound NAT mappings", () => {
    it("stores a mapping with the package's defaults and its field order", async () => {
      const created = await api("POST", "outbound/mapping", { body: outbound() });
      expect(created.status).toBe(200);
      expect(Object.keys(created.body.data)).toEqual([
        "id",
        "interface",
        "protocol",
        "disabled",
        "nonat",
        "nosync",
        "source",
        "source_port",
        "destination",
        "destination_port",
        "target",
        "target_subnet",
        "nat_port",
        "static_nat_port",
        "poolopts",
        "descr",
        "created_time",
        "created_by",
        "updated_time",
        "updated_by",
      ]);
      expect(created.body.data).toMatchObject({
        protocol: null,
        nat_port: "",
        poolopts: null,
        target_subnet: 32,
      });
    });

    it.each([
      ["a bare address as source (networks only)", { source: "10.0.0.5" }, "FILTER_ADDRESS_FIELD_INVALID"],
      ["a subnet as target", { target: "203.0.113.0/28" }, "SPECIAL_NETWORK_FIELD_INVALID"],
      ["no target", { target: undefined }, "FIELD_IS_REQUIRED"],
      [
        "an IPv4 target with the default target_subnet 128",
        { target_subnet: undefined },
        "OUTBOUND_NAT_MAPPING_TARGET_SUBNET_TOO_LARGE_FOR_IPV4",
      ],
      ["a port range with -", { protocol: "tcp", destination_port: "80-90" }, "PORT_FIELD_INVALID"],
      ["an unknown interface", { interface: "opt9" }, "FIELD_INVALID_CHOICE"],
      [
        "pool options on the interface address",
        { target: "wan:ip", poolopts: "round-robin" },
        "OUTBOUND_NAT_MAPPING_POOLOPTS_SET_WITHOUT_MULTI_HOST_TARGET",
      ],
    ])("refuses %s", async (_name, overrides, responseId) => {
      const refused = await api("POST", "outbound/mapping", { body: outbound(overrides) });
      expect(refused.status).toBe(400);
      expect(refused.body.response_id).toBe(responseId);
      expect((await sim.control.objects("natOutbound")).candidate).toEqual([]);
    });

    it("translates to the interface address (`wan:ip`): target_subnet is dropped; nonat needs no target", async () => {
      const masquerade = await api("POST", "outbound/mapping", {
        body: outbound({ target: "wan:ip", nat_port: "1024:65535" }),
      });
      expect(masquerade.body.data).toMatchObject({
        target: "wan:ip",
        target_subnet: null,
        nat_port: "1024:65535",
      });
      const exempt = await api("POST", "outbound/mapping", {
        body: outbound({ nonat: true, target: undefined, target_subnet: undefined }),
      });
      expect(exempt.body.data).toMatchObject({ nonat: true, target: null, target_subnet: null });
    });

    it("keeps ports for any protocol and drops nat_port with a static port", async () => {
      const created = await api("POST", "outbound/mapping", {
        body: outbound({ destination_port: "443", static_nat_port: true, nat_port: "2000" }),
      });
      expect(created.body.data).toMatchObject({
        destination_port: "443",
        static_nat_port: true,
        nat_port: null,
      });
    });

    it("clears a field a PATCH sets to null, and marks natconf pending until apply", async () => {
      const { body } = await api<{ id: number }>("POST", "outbound/mapping", {
        body: outbound({ protocol: "tcp", destination_port: "443" }),
      });
      const patched = await api("PATCH", "outbound/mapping", {
        body: { id: body.data.id, destination_port: null },
      });
      expect(patched.body.data).toMatchObject({ destination_port: null, protocol: "tcp" });
      expect((await sim.control.objects("natOutbound")).pending).toBe(true);
    });
  });

  describe("1:1 mappings", () => {
    it("maps an external address onto an internal address or subnet", async () => {
      const single = await api("POST", "one_to_one/mapping", { body: oneToOne() });
      expect(single.body.data).toMatchObject({
        external: "203.0.113.30",
        source: "10.0.0.30",
        ipprotocol: "inet",
      });
      const block = await api("POST", "one_to_one/mapping", {
        body: oneToOne({ external: "203.0.113.32", source: "10.0.2.0/29", destination: "198.51.100.0/24" }),
      });
      expect(block.status).toBe(200);
    });

    it.each([
      ["a subnet as external", { external: "203.0.113.32/29" }, "SPECIAL_NETWORK_FIELD_INVALID"],
      ["an alias as source", { source: "servers" }, "FILTER_ADDRESS_FIELD_INVALID"],
      [
        "an IPv6 external on an inet mapping",
        { external: "2001:db8::30" },
        "ONE_TO_ONE_NAT_MAPPING_EXTERNAL_IP_DOES_NOT_MATCH_IPPROTOCOL",
      ],
      [
        "an IPv6 subnet as source on an inet mapping",
        { source: "2001:db8::/64" },
        "ONE_TO_ONE_NAT_MAPPING_SOURCE_SUBNET_DOES_NOT_MATCH_IPPROTOCOL",
      ],
    ])("refuses %s", async (_name, overrides, responseId) => {
      const refused = await api("POST", "one_to_one/mapping", { body: oneToOne(overrides) });
      expect(refused.status).toBe(400);
      expect(refused.body.response_id).toBe(responseId);
    });
  });
});
