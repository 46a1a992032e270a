import { describe, expect, it } from "vitest";
import {
  checkFirewallSpec,
  dropMirroredSourcePorts,
  firewallContractFragment,
  firewallDefaults,
  firewallEnhancedFragment,
  firewallWireFragment,
  natSpecFromEnhanced,
  natSpecFromService,
  natSpecFromWire,
  overlayFirewall,
} from "../../../src/shim/mapping.ts";
import { shimOpHash } from "../../../src/shim/op-hash.ts";
import {
  createFirewallRuleCmdSchema,
  enhancedFirewallSchema,
  enhancedNatSchema,
  firewallWireSchema,
  firewallWireUpdateSchema,
  natWireSchema,
  parseBody,
  RequestValidationError,
  serviceNatSchema,
} from "../../../src/shim/wire.ts";

const fromWire = (body: unknown) =>
  checkFirewallSpec(
    overlayFirewall(firewallDefaults("wan"), firewallWireFragment(parseBody(firewallWireSchema, body))),
  );
const fromContract = (body: unknown) =>
  checkFirewallSpec(
    overlayFirewall(
      firewallDefaults("wan"),
      firewallContractFragment(parseBody(createFirewallRuleCmdSchema, body)),
    ),
  );

function detailsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestValidationError)
      return error.details.map((d) => `${d.loc.join(".")}:${d.type}`);
    throw error;
  }
  throw new Error("expected a RequestValidationError");
}

describe("CloudStack wire format → VnfFirewallRule spec", () => {
  it.each([
    [
      "network element rule",
      {
        ruleId: "u-1",
        action: "ALLOW",
        protocol: "TCP",
        sourceAddressing: "any",
        destinationAddressing: "10.0.0.0/24",
        sourcePorts: "any",
        destinationPorts: "8000-8080",
        description: "web",
      },
      {
        ruleId: "u-1",
        interface: "wan",
        direction: "in",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "any" },
        destination: { cidr: "10.0.0.0/24", port: "8000-8080" },
        description: "web",
        enabled: true,
        log: false,
      },
    ],
    [
      "numbers as ports, protocol all, empty description, extensions",
      {
        ruleId: "u-2",
        action: "deny",
        protocol: "all",
        sourceAddressing: "192.0.2.7",
        destinationAddressing: "any",
        sourcePorts: null,
        destinationPorts: "",
        description: "",
        interface: "lan",
        direction: "out",
        enabled: false,
        vnfInstanceId: 42,
      },
      {
        ruleId: "u-2",
        interface: "lan",
        direction: "out",
        action: "deny",
        protocol: "any",
        source: { cidr: "192.0.2.7" },
        destination: { cidr: "any" },
        enabled: false,
        log: false,
      },
    ],
    [
      "udp with a single port number",
      {
        ruleId: "u-3",
        action: "reject",
        protocol: "udp",
        sourceAddressing: "2001:db8::/64",
        destinationAddressing: "any",
        destinationPorts: 53,
      },
      { protocol: "udp", source: { cidr: "2001:db8::/64" }, destination: { cidr: "any", port: "53" } },
    ],
  ])("%s", (_name, body, expected) => {
    expect(fromWire(body)).toMatchObject(expected);
  });

  it("refuses what the CRD would refuse, with field-level details", () => {
    expect(
      detailsOf(() =>
        fromWire({
          ruleId: "x",
          action: "allow",
          protocol: "icmp",
          sourceAddressing: "any",
          destinationAddressing: "any",
          sourcePorts: "22",
        }),
      ),
    ).toEqual(["body.sourcePorts:value_error"]);
    expect(
      detailsOf(() =>
        fromWire({
          ruleId: "x y",
          action: "permit",
          protocol: "gre",
          sourceAddressing: "10.0.0.1,10.0.0.300",
          destinationAddressing: "300.1.1.1",
          destinationPorts: "0",
          extra: 1,
        }),
      ),
    ).toEqual(
      expect.arrayContaining([
        "body.ruleId:invalid_format",
        "body.action:invalid_value",
        "body.protocol:invalid_value",
        "body.sourceAddressing:custom",
        "body.destinationAddressing:custom",
        "body.destinationPorts:custom",
        "body.extra:extra_forbidden",
      ]),
    );
    expect(detailsOf(() => fromWire({}))).toEqual(
      expect.arrayContaining(["body.ruleId:missing", "body.action:missing", "body.sourceAddressing:missing"]),
    );
  });
});

describe("CreateFirewallRuleCmd → VnfFirewallRule spec", () => {
  it("maps src/dst/ports and the optional members", () => {
    expect(
      fromContract({
        interface: "opt1",
        direction: "in",
        action: "deny",
        protocol: "tcp",
        ruleId: "c-1",
        src: { alias: "admins" },
        dst: { cidr: "10.0.0.5" },
        ports: { src: "any", dst: "22" },
        description: "ssh",
        enabled: true,
        log: true,
        priority: 10,
      }),
    ).toEqual({
      ruleId: "c-1",
      interface: "opt1",
      direction: "in",
      action: "deny",
      protocol: "tcp",
      source: { alias: "admins" },
      destination: { cidr: "10.0.0.5", port: "22" },
      description: "ssh",
      enabled: true,
      log: true,
      priority: 10,
    });
  });

  it("follows the contract's constraints", () => {
    expect(
      detailsOf(() =>
        fromContract({
          interface: "",
          direction: "up",
          action: "reject",
          protocol: "tcp/udp",
          src: { cidr: "any", alias: "a" },
          priority: 100000,
        }),
      ),
    ).toEqual(
      expect.arrayContaining([
        "body.interface:too_small",
        "body.direction:invalid_value",
        "body.action:invalid_value",
        "body.protocol:invalid_value",
        "body.src:custom",
        "body.priority:too_big",
      ]),
    );
  });

  it("hashes alike when the contract and the wire format mean the same rule", () => {
    const wire = fromWire({
      ruleId: "same",
      action: "allow",
      protocol: "tcp",
      sourceAddressing: "any",
      destinationAddressing: "10.0.0.5",
      destinationPorts: "22",
    });
    const contract = fromContract({
      ruleId: "same",
      interface: "wan",
      direction: "in",
      action: "allow",
      protocol: "tcp",
      dst: { cidr: "10.0.0.5" },
      ports: { dst: "22" },
    });
    const hash = (spec: object) =>
      shimOpHash({ kind: "firewall", vnfInstanceId: "1", ruleId: "same", spec: { ...spec } });
    expect(hash(wire)).toBe(hash(contract));
  });
});

describe("partial updates", () => {
  const current = fromWire({
    ruleId: "p",
    action: "allow",
    protocol: "tcp",
    sourceAddressing: "10.1.0.0/16",
    destinationAddressing: "10.0.0.5",
    sourcePorts: "1024-65535",
    destinationPorts: "443",
    description: "d",
  });
  const update = (body: unknown) =>
    checkFirewallSpec(
      overlayFirewall(current, firewallWireFragment(parseBody(firewallWireUpdateSchema, body))),
    );

  it("changes only what the body names", () => {
    expect(update({ action: "deny" })).toEqual({ ...current, action: "deny" });
    expect(update({ destinationPorts: "any", description: "" })).toEqual({
      ...current,
      destination: { cidr: "10.0.0.5" },
      description: undefined,
    });
    expect(update({ sourceAddressing: "any" }).source).toEqual({ cidr: "any", port: "1024-65535" });
  });

  it("checks the merged result (ports need a port protocol)", () => {
    expect(detailsOf(() => update({ protocol: "icmp" }))).toEqual([
      "body.sourcePorts:value_error",
      "body.destinationPorts:value_error",
    ]);
  });
});

describe("CloudStack NAT wire format → VnfNatRule spec", () => {
  const nat = (body: Record<string, unknown>) => natSpecFromWire(parseBody(natWireSchema, body), "wan");

  it.each([
    [
      "DNAT port forward",
      {
        ruleId: "n1",
        type: "DNAT",
        destinationAddress: "203.0.113.10",
        translatedAddress: "10.0.0.10",
        protocol: "tcp",
        port: 8080,
        translatedPort: "80",
        sourceAddress: "any",
      },
      {
        type: "dnat",
        interface: "wan",
        protocol: "tcp",
        destination: { address: "203.0.113.10", port: "8080" },
        translated: { address: "10.0.0.10", port: "80" },
      },
    ],
    [
      "SNAT with a source network",
      {
        ruleId: "n2",
        type: "snat",
        sourceAddress: "10.0.0.0/24",
        translatedAddress: "203.0.113.1",
        description: "out",
      },
      {
        type: "snat",
        interface: "wan",
        protocol: "any",
        source: { cidr: "10.0.0.0/24" },
        translated: { address: "203.0.113.1" },
        description: "out",
      },
    ],
    [
      "static (1:1)",
      {
        ruleId: "n3",
        type: "STATIC",
        destinationAddress: "203.0.113.5",
        translatedAddress: "10.0.0.5",
        interface: "opt1",
      },
      {
        type: "1to1",
        interface: "opt1",
        protocol: "any",
        destination: { address: "203.0.113.5" },
        translated: { address: "10.0.0.5" },
      },
    ],
  ])("%s", (_name, body, expected) => {
    expect(nat(body)).toEqual(expected);
  });

  it("refuses incomplete translations", () => {
    expect(detailsOf(() => nat({ ruleId: "n", type: "DNAT", port: 80 }))).toEqual([
      "body.port:value_error",
      "body.translatedAddress:value_error",
    ]);
    expect(
      detailsOf(() =>
        nat({
          ruleId: "n",
          type: "DNAT",
          protocol: "tcp",
          translatedAddress: "10.0.0.1",
          translatedPort: 80,
        }),
      ),
    ).toEqual(["body.port:value_error"]);
    expect(detailsOf(() => nat({ ruleId: "n", type: "MASQ" }))).toEqual(["body.type:invalid_value"]);
  });
});

describe("comma lists and the network element's mirrored ports", () => {
  it("keeps CIDR and port lists (trimmed) for the resources to be split from", () => {
    expect(
      fromWire({
        ruleId: "l1",
        action: "allow",
        protocol: "tcp",
        sourceAddressing: "10.1.0.0/16, 10.2.0.0/16",
        destinationAddressing: "10.0.0.0/8",
        destinationPorts: "80, 443",
      }),
    ).toMatchObject({ source: { cidr: "10.1.0.0/16,10.2.0.0/16" }, destination: { port: "80,443" } });
  });

  it("drops sourcePorts when they mirror destinationPorts (CloudStack rules have only destination ports)", () => {
    const wire = parseBody(firewallWireSchema, {
      ruleId: "m1",
      action: "allow",
      protocol: "tcp",
      sourceAddressing: "any",
      destinationAddressing: "any",
      sourcePorts: "22",
      destinationPorts: 22,
    });
    expect(dropMirroredSourcePorts(wire).sourcePorts).toBeUndefined();
    const different = { ...wire, sourcePorts: "1024-65535" };
    expect(dropMirroredSourcePorts(different).sourcePorts).toBe("1024-65535");
  });
});

describe("enhanced family bodies", () => {
  it("maps the firewall body (sourceIp, destinationIp, destinationPort:int, enabled)", () => {
    const spec = checkFirewallSpec(
      overlayFirewall(
        firewallDefaults("port1"),
        firewallEnhancedFragment(
          parseBody(enhancedFirewallSchema, {
            vnfInstanceId: "vnf-1",
            ruleId: "r1",
            action: "allow",
            protocol: "tcp",
            sourceIp: "10.0.0.0/24",
            destinationIp: "192.168.1.0/24",
            destinationPort: 443,
            enabled: false,
          }),
        ),
      ),
    );
    expect(spec).toMatchObject({
      interface: "port1",
      action: "allow",
      protocol: "tcp",
      source: { cidr: "10.0.0.0/24" },
      destination: { cidr: "192.168.1.0/24", port: "443" },
      enabled: false,
    });
  });

  it("refuses port 70000 (its seed test expects a validation error)", () => {
    expect(
      detailsOf(() =>
        parseBody(enhancedFirewallSchema, {
          vnfInstanceId: "vnf-1",
          ruleId: "r1",
          action: "allow",
          protocol: "tcp",
          sourceIp: "10.0.0.0/24",
          destinationIp: "192.168.1.0/24",
          destinationPort: 70000,
        }),
      ),
    ).toEqual(["body.destinationPort:too_big"]);
  });

  it.each([
    [
      "dnat",
      {
        natType: "dnat",
        originalIp: "203.0.113.10",
        originalPort: 8080,
        translatedIp: "10.0.0.5",
        translatedPort: 80,
        protocol: "tcp",
      },
      {
        type: "dnat",
        destination: { address: "203.0.113.10", port: "8080" },
        translated: { address: "10.0.0.5", port: "80" },
      },
    ],
    [
      "snat",
      { natType: "snat", originalIp: "10.0.0.0/24", translatedIp: "203.0.113.1" },
      { type: "snat", source: { cidr: "10.0.0.0/24" }, translated: { address: "203.0.113.1" } },
    ],
    [
      "1to1",
      { natType: "1to1", originalIp: "203.0.113.7", translatedIp: "10.0.0.7" },
      { type: "1to1", destination: { address: "203.0.113.7" }, translated: { address: "10.0.0.7" } },
    ],
  ])("maps the NAT body (%s)", (_name, body, expected) => {
    expect(
      natSpecFromEnhanced(parseBody(enhancedNatSchema, { vnfInstanceId: "v", ...body }), "wan"),
    ).toMatchObject(expected);
  });
});

describe("the service's NAT payload", () => {
  it("is a port forward from publicIp:publicPort to privateIp:privatePort", () => {
    const body = parseBody(serviceNatSchema, {
      vnfInstanceId: "42",
      networkId: "204",
      publicIp: "203.0.113.10",
      publicPort: 2222,
      privateIp: "10.1.1.10",
      privatePort: 22,
      protocol: "TCP",
    });
    expect(natSpecFromService(body, "wan")).toEqual({
      type: "dnat",
      interface: "wan",
      protocol: "tcp",
      destination: { address: "203.0.113.10", port: "2222" },
      translated: { address: "10.1.1.10", port: "22" },
    });
  });

  it("needs an interface from the device or the shim when the body names none", () => {
    const body = parseBody(serviceNatSchema, {
      vnfInstanceId: "42",
      publicIp: "203.0.113.10",
      publicPort: 2222,
      privateIp: "10.1.1.10",
      privatePort: 22,
    });
    expect(detailsOf(() => natSpecFromService(body, undefined))).toEqual(["body.interface:missing"]);
  });
});
