// Normalisation of real vendor objects to canonical fields, and the drift comparison: no perpetual
// diff for what the appliance cannot represent, a diff for what it really has differently.
import { describe, expect, it } from "vitest";
import { loadDictionaryFile } from "../../../src/dictionary/loader.ts";
import { diffCanonical, normalizeItem } from "../../../src/dictionary/normalize.ts";
import { canonicalRule } from "../../../src/dictionary/rule-input.ts";

const ctx = async (file: string) => {
  const d = await loadDictionaryFile(file);
  return {
    d,
    base: { __valueMaps: d.valueMaps, __reverseValueMaps: d.reverseValueMaps, device: { parameters: {} } },
  };
};

describe("pfSense", async () => {
  const { d, base } = await ctx("dictionaries/pfsense-2.7-restapi-v2.yaml");
  const fw = d.resources.firewallRule;
  if (!fw) throw new Error("no firewallRule");
  const item = {
    id: 4,
    type: "block",
    interface: ["wan"],
    protocol: "tcp",
    source: "10.0.0.0/24",
    source_port: "1024:65535",
    destination: "web_servers",
    destination_port: null,
    descr: "block scanners [vnf:prod/scan]",
    disabled: false,
    log: true,
    floating: false,
    tracker: 1700000000,
  };

  it("reads a filter rule back as canonical fields with its marker", () => {
    const o = normalizeItem(fw, "1700000000", item, base);
    expect(o.marker).toBe("prod/scan");
    expect(o.normalized).toEqual({
      interface: "wan",
      direction: "in",
      action: "deny",
      protocol: "tcp",
      source: { cidr: "10.0.0.0/24", port: "1024-65535" },
      destination: { alias: "web_servers" },
      description: "block scanners",
      enabled: true,
      log: true,
    });
  });

  it("finds no difference with the rule that produced it, and the real ones otherwise", () => {
    const o = normalizeItem(fw, "1700000000", item, base);
    const desired = canonicalRule("firewallRule", {
      interface: "wan",
      action: "deny",
      protocol: "tcp",
      source: { cidr: "10.0.0.0/24", port: "1024-65535" },
      destination: { alias: "web_servers" },
      description: "block scanners",
      log: true,
      priority: 10,
    });
    expect(diffCanonical("firewallRule", desired as Record<string, unknown>, o.normalized)).toEqual([]);
    const changed = { ...desired, action: "allow", destination: { alias: "web_servers", port: "443" } };
    expect(diffCanonical("firewallRule", changed as Record<string, unknown>, o.normalized)).toEqual([
      "action",
      "destination.port",
    ]);
  });

  it("keeps listing an object it cannot read, with the reason", () => {
    const o = normalizeItem(fw, "1", { descr: 5 }, base);
    expect(o.vendorRef).toBe("1");
    expect(o.marker).toBeUndefined();
  });

  it("treats an unset translated port as the destination port (dnat)", async () => {
    const nat = d.resources.natRule;
    if (!nat) throw new Error("no natRule");
    const o = normalizeItem(
      nat,
      "prod/fwd",
      {
        interface: "wan",
        protocol: "tcp",
        source: "any",
        destination: "wan:ip",
        destination_port: "8000:8010",
        target: "10.0.0.5",
        local_port: "8000",
        descr: "[vnf:prod/fwd]",
        disabled: false,
      },
      base,
    );
    const desired = canonicalRule("natRule", {
      type: "dnat",
      interface: "wan",
      protocol: "tcp",
      destination: { port: "8000-8010" },
      translated: { address: "10.0.0.5" },
    });
    expect(diffCanonical("natRule", desired as Record<string, unknown>, o.normalized)).toEqual([]);
  });
});

describe("FortiOS", async () => {
  const { d, base } = await ctx("dictionaries/fortios-7.yaml");
  const fw = d.resources.firewallRule;
  if (!fw) throw new Error("no firewallRule");

  it("reads a policy back, services and address objects included", () => {
    const o = normalizeItem(
      fw,
      "7",
      {
        policyid: 7,
        status: "enable",
        srcintf: [{ name: "any" }],
        dstintf: [{ name: "port2" }],
        action: "accept",
        srcaddr: [{ name: "vnf-net-10.0.0.0/24" }],
        dstaddr: [{ name: "all" }],
        service: [{ name: "HTTPS" }],
        logtraffic: "utm",
        comments: "out [vnf:u-1]",
      },
      base,
    );
    expect(o.normalized).toEqual({
      interface: "port2",
      direction: "out",
      action: "allow",
      protocol: "tcp",
      source: { cidr: "10.0.0.0/24" },
      destination: { cidr: "any", port: "443" },
      description: "out",
      enabled: true,
      log: false,
    });
    expect(o.marker).toBe("u-1");
  });
});

describe("diffCanonical equivalences", () => {
  const nat = (fields: Record<string, unknown>) =>
    canonicalRule("natRule", { type: "snat", interface: "wan", ...fields }) as Record<string, unknown>;

  it.each([
    ["an IPv4 host prefix", { source: { cidr: "10.0.0.5/32" } }, { source: { cidr: "10.0.0.5" } }],
    [
      "an IPv6 host prefix",
      { translated: { address: "2001:db8::5" } },
      { translated: { address: "2001:db8::5/128" } },
    ],
    ["destination.address any and none", { destination: { address: "any" } }, { destination: {} }],
  ])("%s compares equal", (_name, desired, observed) => {
    expect(diffCanonical("natRule", nat(desired), nat(observed))).toEqual([]);
  });

  it.each([
    [
      "a shorter prefix",
      { source: { cidr: "10.0.0.0/31" } },
      { source: { cidr: "10.0.0.0" } },
      ["source.cidr"],
    ],
    [
      "an IPv4 /128 is not a host prefix",
      { source: { cidr: "10.0.0.5" } },
      { source: { cidr: "10.0.0.5/128" } },
      ["source.cidr"],
    ],
    [
      "an address against none",
      { destination: { address: "203.0.113.1" } },
      { destination: {} },
      ["destination.address"],
    ],
  ])("%s still differs", (_name, desired, observed, fields) => {
    expect(diffCanonical("natRule", nat(desired), nat(observed))).toEqual(fields);
  });
});
