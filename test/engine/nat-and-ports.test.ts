// The dictionaries' decisions around NAT types and ports, against the simulators: what a vendor needs
// first (pfSense's outbound NAT mode, FortiOS central NAT), what it refuses and how the refusal reads,
// and FortiOS custom services shared between rules and removed with the last one.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApplianceSession } from "../../src/appliance/session.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

async function refusal(promise: Promise<unknown>): Promise<VnfError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(VnfError);
  return outcome as VnfError;
}

function sessionFor(
  sim: SimulatorHandle,
  dictionary: CompiledDictionary,
  parameters: Record<string, string>,
) {
  return new ApplianceSession({
    dictionary,
    endpoint: sim.url,
    credentials: sim.credentials,
    tls: { caPem: sim.caPem },
    parameters,
    transportRetry: { attempts: 2, minDelayMs: 10, maxDelayMs: 20 },
  });
}

const snat = { type: "snat", interface: "wan", source: { cidr: "10.0.0.0/24" }, description: "masquerade" };

describe("pfSense: snat rules and the outbound NAT mode", () => {
  let dictionary: CompiledDictionary;
  const sims: SimulatorHandle[] = [];
  const sessions: ApplianceSession[] = [];

  async function setup(mode: "automatic" | "hybrid" | "advanced" | "disabled", parameters = {}) {
    const sim = await startSimulator("pfsense", { outboundMode: mode });
    sims.push(sim);
    const session = sessionFor(sim, dictionary, parameters);
    sessions.push(session);
    return { sim, session };
  }
  const modeOf = async (sim: SimulatorHandle) =>
    (await sim.control.requests({ method: "PATCH", pathPrefix: "/api/v2/firewall/nat/outbound/mode" }))
      .length;

  beforeAll(async () => {
    dictionary = await loadDictionaryFile("dictionaries/pfsense-2.7-restapi-v2.yaml");
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("automatic mode (the default) refuses the rule, naming both fixes, and writes nothing", async () => {
    const { sim, session } = await setup("automatic");
    const error = await refusal(session.create("natRule", { rule: snat, marker: "m" }));
    expect(error.code).toBe("BROKER_INVALID_REQUEST");
    expect(error.message).toContain("automatic outbound NAT mode, which ignores outbound NAT mappings");
    expect(error.message).toContain("outboundNatMode: hybrid");
    expect((await sim.control.objects("natOutbound")).candidate).toEqual([]);
    expect(await modeOf(sim)).toBe(0);
  });

  it("outboundNatMode: hybrid switches automatic to hybrid once, then creates the mapping", async () => {
    const { sim, session } = await setup("automatic", { outboundNatMode: "hybrid" });
    await session.create("natRule", { rule: snat, marker: "m1" });
    await session.create("natRule", { rule: { ...snat, source: { cidr: "10.0.1.0/24" } }, marker: "m2" });
    expect(await modeOf(sim)).toBe(1);
    expect((await sim.control.objects("natOutbound")).candidate).toHaveLength(2);
    const api = await sim.control.requests({ pathPrefix: "/api/v2/firewall/nat/outbound/mapping" });
    expect(api.every((r) => r.status === 200)).toBe(true);
  });

  it.each(["hybrid", "advanced"] as const)(
    "%s mode: the mapping is created without touching the mode",
    async (mode) => {
      const { sim, session } = await setup(mode);
      const { vendorRef } = await session.create("natRule", { rule: snat, marker: "m" });
      expect(vendorRef).toBe("snat@m");
      expect(await modeOf(sim)).toBe(0);
    },
  );

  it("disabled outbound NAT is an administrator's choice: refused even with outboundNatMode: hybrid", async () => {
    const { sim, session } = await setup("disabled", { outboundNatMode: "hybrid" });
    const error = await refusal(session.create("natRule", { rule: snat, marker: "m" }));
    expect(error.message).toContain("pfSense outbound NAT is disabled on this appliance");
    expect(await modeOf(sim)).toBe(0);
  });
});

describe("refusals a network engineer can act on", () => {
  const cases: Array<[string, string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
    [
      "pfsense",
      "dictionaries/pfsense-2.7-restapi-v2.yaml",
      {},
      {
        type: "1to1",
        interface: "wan",
        protocol: "tcp",
        destination: { address: "203.0.113.5" },
        translated: { address: "10.0.0.5" },
      },
      /1:1 NAT maps every protocol: set protocol any/,
    ],
    [
      "opnsense",
      "dictionaries/opnsense-26.1-api.yaml",
      {},
      {
        type: "1to1",
        interface: "wan",
        protocol: "udp",
        destination: { address: "203.0.113.5" },
        translated: { address: "10.0.0.5" },
      },
      /1:1 NAT maps every protocol: set protocol any/,
    ],
    [
      "fortios",
      "dictionaries/fortios-7.yaml",
      { centralNat: false },
      { type: "snat", interface: "port1", source: { cidr: "10.0.0.0/24" } },
      /central NAT is disabled on this VDOM.*set central-nat enable/,
    ],
    [
      "fortios",
      "dictionaries/fortios-7.yaml",
      { centralNat: true },
      { type: "snat", interface: "port1", protocol: "tcp/udp", source: { cidr: "10.0.0.0/24" } },
      /central SNAT rules match one IP protocol: use tcp, udp or any/,
    ],
    [
      "fortios",
      "dictionaries/fortios-7.yaml",
      { centralNat: true },
      {
        type: "dnat",
        interface: "port1",
        protocol: "tcp",
        destination: { address: "203.0.113.5" },
        translated: { address: "10.0.0.5" },
      },
      /without a port forward translate every protocol: set protocol any, or give destination.port/,
    ],
    [
      "fortios",
      "dictionaries/fortios-7.yaml",
      { centralNat: true },
      {
        type: "dnat",
        interface: "port1",
        protocol: "tcp/udp",
        destination: { address: "203.0.113.5", port: "53" },
        translated: { address: "10.0.0.5" },
      },
      /port forwards forward one protocol: use tcp or udp/,
    ],
  ];

  it.each(cases)("%s: %j", async (vendor, file, options, rule, reason) => {
    const dictionary = await loadDictionaryFile(file);
    const sim = await startSimulator(vendor as never, options as never);
    const session = sessionFor(sim, dictionary, {});
    try {
      const error = await refusal(session.create("natRule", { rule, marker: "refused" }));
      expect(error.code).toBe("BROKER_INVALID_REQUEST");
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(reason);
      const writes = (await sim.control.requests()).filter((r) => r.method !== "GET");
      expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    } finally {
      await session.close();
      await sim.stop();
    }
  });
});

describe("FortiOS: every port through shared custom services", () => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;
  const services = async () =>
    (await sim.control.objects("service")).candidate.map((s) => ({
      name: s.name,
      tcp: s["tcp-portrange"],
      udp: s["udp-portrange"],
    }));
  const rule = (fields: Record<string, unknown>) => ({
    interface: "port1",
    action: "allow",
    protocol: "tcp",
    destination: { cidr: "192.0.2.10", port: "8443" },
    ...fields,
  });

  beforeAll(async () => {
    sim = await startSimulator("fortios", {});
    session = sessionFor(sim, await loadDictionaryFile("dictionaries/fortios-7.yaml"), { vdom: "root" });
  });
  afterAll(async () => {
    await session.close();
    await sim.stop();
  });
  afterEach(() => sim.control.reset());

  it("creates one service per port spec, shares it, and removes it with its last rule", async () => {
    const a = await session.create("firewallRule", { rule: rule({}), marker: "a" });
    const b = await session.create("firewallRule", { rule: rule({ description: "same port" }), marker: "b" });
    expect(await services()).toEqual([{ name: "vnf-svc-tcp-8443", tcp: "8443", udp: "" }]);
    await session.delete("firewallRule", a.vendorRef);
    expect(await services()).toHaveLength(1);
    await session.delete("firewallRule", b.vendorRef);
    expect(await services()).toEqual([]);
  });

  it.each([
    [
      { protocol: "udp", destination: { cidr: "any", port: "27015-27030" } },
      { name: "vnf-svc-udp-27015-27030", tcp: "", udp: "27015-27030" },
    ],
    [
      { protocol: "tcp/udp", destination: { cidr: "any", port: "53" } },
      { name: "vnf-svc-tcpudp-53", tcp: "53", udp: "53" },
    ],
    [
      { protocol: "tcp/udp", destination: { cidr: "any" } },
      { name: "vnf-svc-tcpudp-any", tcp: "1-65535", udp: "1-65535" },
    ],
    [
      { source: { cidr: "any", port: "1024-65535" }, destination: { cidr: "any", port: "22" } },
      { name: "vnf-svc-tcp-22-src-1024-65535", tcp: "22:1024-65535", udp: "" },
    ],
    [
      { source: { cidr: "any", port: "5000" }, destination: { cidr: "any" } },
      { name: "vnf-svc-tcp-any-src-5000", tcp: "1-65535:5000", udp: "" },
    ],
  ])("%j → %j, read back as written", async (fields, service) => {
    const desired = rule(fields);
    const { vendorRef } = await session.create("firewallRule", { rule: desired, marker: "svc" });
    expect(await services()).toEqual([service]);
    const got = await session.get("firewallRule", vendorRef);
    expect(session.differences("firewallRule", desired, got?.normalized ?? {})).toEqual([]);
  });

  it("an update to another port moves the rule to that service and removes the old one once unused", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule: rule({}), marker: "u" });
    await session.create("firewallRule", {
      rule: rule({ destination: { cidr: "any", port: "9000" } }),
      marker: "other",
    });
    await session.update("firewallRule", vendorRef, {
      rule: rule({ destination: { cidr: "192.0.2.10", port: "9000" } }),
      marker: "u",
    });
    expect((await services()).map((s) => s.name)).toEqual(["vnf-svc-tcp-9000"]);
    await session.update("firewallRule", vendorRef, {
      rule: rule({ protocol: "any", destination: { cidr: "192.0.2.10" } }),
      marker: "u",
    });
    // Still used by the other rule: kept.
    expect((await services()).map((s) => s.name)).toEqual(["vnf-svc-tcp-9000"]);
    const policy = (await sim.control.objects("firewallRule")).candidate.find(
      (p) => String(p.policyid) === vendorRef,
    );
    expect(policy?.service).toEqual([{ name: "ALL", q_origin_key: "ALL" }]);
  });

  it("a policy made by hand with a predefined service reads back as protocol and port", async () => {
    const id = await sim.control.putObject("firewallRule", {
      srcintf: ["port1"],
      dstintf: ["any"],
      srcaddr: ["all"],
      dstaddr: ["all"],
      service: ["HTTPS"],
      schedule: "always",
      action: "deny",
      "send-deny-packet": "enable",
      comments: "by hand [vnf:hand]",
    });
    const got = await session.get("firewallRule", id);
    expect(got?.normalized).toMatchObject({
      action: "reject",
      protocol: "tcp",
      destination: { port: "443" },
    });
  });
});
