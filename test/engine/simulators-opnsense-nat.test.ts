// Pins the OPNsense simulator's source NAT (`/api/firewall/source_nat/*`) and 1:1 NAT
// (`/api/firewall/one_to_one/*`) over real HTTPS, as OPNsense 25.7's SourceNatController and
// OneToOneController serve them (Filter.xml `snatrules`, `onetoone`): the OPNsense dictionary's snat
// and 1to1 rules are written against exactly this.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, type RawClient, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

type Body = Record<string, unknown>;

describe("OPNsense simulator: source NAT and 1:1 NAT", () => {
  let sim: SimulatorHandle;
  let client: RawClient;

  async function api(method: string, path: string, body?: unknown) {
    const response = await client.request(method, `/api/firewall/${path}`, {
      headers: { authorization: basicAuth(sim.credentials.key ?? "", sim.credentials.secret ?? "") },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: response.json<Body>() };
  }

  beforeAll(async () => {
    sim = await startSimulator("opnsense", {});
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(() => sim.control.reset());

  describe("source_nat", () => {
    it("adds, reads (option maps), searches (raw values), updates and deletes a rule", async () => {
      const added = await api("POST", "source_nat/addRule", {
        rule: {
          interface: "wan",
          protocol: "TCP",
          source_net: "10.0.0.0/24",
          destination_port: "443",
          target: "203.0.113.20",
          target_port: "10000-20000",
          description: "snat [vnf:x]",
        },
      });
      expect(added.body).toMatchObject({ result: "saved" });
      const uuid = String(added.body.uuid);
      const got = (await api("GET", `source_nat/getRule/${uuid}`)).body.rule as Body;
      expect(got).toMatchObject({
        enabled: "1",
        nonat: "0",
        source_net: "10.0.0.0/24",
        target: "203.0.113.20",
      });
      expect((got.protocol as Record<string, { selected: number }>).TCP?.selected).toBe(1);
      expect((got.interface as Record<string, { selected: number }>).wan?.selected).toBe(1);
      const rows = (await api("GET", "source_nat/searchRule?searchPhrase=%5Bvnf%3Ax%5D")).body.rows as Body[];
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ uuid, protocol: "TCP", interface: "wan" });
      expect((await api("POST", `source_nat/setRule/${uuid}`, { rule: { enabled: "0" } })).body).toEqual({
        result: "saved",
      });
      expect((await api("POST", `source_nat/delRule/${uuid}`)).body).toEqual({ result: "deleted" });
      expect((await api("GET", `source_nat/getRule/${uuid}`)).body).toEqual([]);
    });

    it("defaults the target to the WAN address and reports every validation at once", async () => {
      const defaults = (await api("GET", "source_nat/getRule")).body.rule as Body;
      expect(defaults).toMatchObject({ target: "wanip", source_net: "any", sequence: "1" });
      const refused = await api("POST", "source_nat/addRule", {
        rule: {
          interface: "wan",
          protocol: "any",
          source_net: "10.0.0.0/24",
          destination_port: "443",
          target: "2001:db8::1",
          target_port: "1000",
        },
      });
      expect(refused.body).toEqual({
        result: "failed",
        validations: {
          "rule.destination_port": "Destination ports are only valid for tcp or udp type rules.",
          "rule.target": "Target address type should match selected TCP/IP protocol version.",
          "rule.target_port": "Target ports are only valid for tcp or udp type rules.",
        },
      });
    });
  });

  describe("one_to_one", () => {
    it("maps an external address or subnet onto an internal one of the same size (BINAT)", async () => {
      const single = await api("POST", "one_to_one/addRule", {
        rule: { interface: "wan", external: "203.0.113.30", source_net: "10.0.0.30", description: "one" },
      });
      expect(single.body).toMatchObject({ result: "saved" });
      const got = (await api("GET", `one_to_one/getRule/${String(single.body.uuid)}`)).body.rule as Body;
      expect(got).toMatchObject({
        external: "203.0.113.30",
        source_net: "10.0.0.30",
        destination_net: "any",
      });
      expect((got.type as Record<string, { selected: number }>).binat?.selected).toBe(1);
      const block = await api("POST", "one_to_one/addRule", {
        rule: { interface: "wan", external: "203.0.113.32/29", source_net: "10.0.2.0/29" },
      });
      expect(block.body).toMatchObject({ result: "saved" });
      expect(
        ((await api("GET", "one_to_one/searchRule")).body.rows as Body[]).map((r) => r.external),
      ).toEqual(["203.0.113.30", "203.0.113.32/29"]);
    });

    it.each([
      [
        "subnets of different sizes",
        { external: "203.0.113.32/29", source_net: "10.0.2.0/30" },
        { "rule.external": "External subnet should match internal subnet." },
      ],
      [
        "an alias as the internal side of a BINAT",
        { external: "203.0.113.30", source_net: "any" },
        { "rule.source_net": "For BINAT rules only addresses or subnets are allowed." },
      ],
      [
        "mixed IP families",
        { external: "2001:db8::30", source_net: "10.0.0.30" },
        {
          "rule.external": "IP protocol families should match.",
          "rule.source_net": "IP protocol families should match.",
        },
      ],
    ])("refuses %s", async (_name, fields, validations) => {
      const refused = await api("POST", "one_to_one/addRule", { rule: { interface: "wan", ...fields } });
      expect(refused.body).toEqual({ result: "failed", validations });
    });

    it("is applied with the filter (one pf reload for rules and NAT)", async () => {
      await api("POST", "one_to_one/addRule", {
        rule: { interface: "wan", external: "203.0.113.30", source_net: "10.0.0.30" },
      });
      expect((await sim.control.objects("oneToOneRule")).pending).toBe(true);
      await api("POST", "filter/apply");
      expect((await sim.control.objects("oneToOneRule")).running).toHaveLength(1);
    });
  });
});
