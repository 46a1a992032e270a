// The vendor table that drives the engine suites. One row per vendor: everything vendor-specific the
// suites need (dictionary, simulator options, sample rules, how to find the stored object in the
// simulator) lives here, so a new vendor is a new row and the suites keep their shape.
import type { ErrorCode } from "../../src/dictionary/errors.ts";
import type { ResourceKind } from "../../src/dictionary/rule-input.ts";
import type { ObjectsView, SimulatorHandle, SimulatorVendor, VendorObject } from "../simulators/index.ts";
import { parseFragment, toJson } from "../simulators/panos/xml.ts";

export interface StoredAccess {
  /** The simulator control kind holding these objects. */
  controlKind: string;
  /** The stored object a vendorRef addresses, among the simulator's candidate configuration. */
  find(objects: VendorObject[], vendorRef: string): VendorObject | undefined;
  /** The field the ownership marker and description land in. */
  description(object: VendorObject): unknown;
}

export const NAT_TYPES = ["dnat", "snat", "1to1"] as const;
export type NatType = (typeof NAT_TYPES)[number];

interface RequestPath {
  method: string;
  pathPrefix: string;
}

/** A rule kind (or NAT type) the vendor supports: sample rules and where the object lands. */
export interface RuleCell {
  create: Record<string, unknown>;
  update: Record<string, unknown>;
  stored: StoredAccess;
  /** The method and exact path of the create request (to count creates). */
  createPath: RequestPath;
  /**
   * Fields of the appliance object `create` makes, in the vendor's own terms: how its API expresses
   * the translation (what a reviewer checks against the vendor's documentation).
   */
  native?: VendorObject;
}

/** A NAT type the vendor cannot express: the dictionary refuses such a rule, saying why and what to do. */
export interface Refusal {
  refused: { rule: Record<string, unknown>; reason: RegExp };
}

export function isRefusal(cell: RuleCell | Refusal): cell is Refusal {
  return "refused" in cell;
}

export interface VendorRow {
  vendor: SimulatorVendor;
  /** A second row for the same vendor (another firmware range, another dictionary). */
  variant?: string;
  /** Makes an address object exist on the appliance, as its administrator would: returns its name. */
  alias(sim: SimulatorHandle): Promise<string>;
  /** A hand edit that disables a firewall rule on the appliance (how drift is probed). */
  tamper: { kind: string; id(object: VendorObject): string; patch: VendorObject };
  /**
   * The appliance as shipped, when it differs from `simulator`/`parameters` in what a NAT type
   * needs (pfSense's outbound NAT mode, FortiOS central NAT): the support matrix notes the refusal.
   */
  factory?: { simulator?: Record<string, unknown>; parameters?: Record<string, string> };
  dictionary: string;
  /** Simulator options (version and serial for the health check). */
  simulator: Record<string, unknown>;
  parameters?: Record<string, string>;
  /** What the health check reports (`serial` absent: the appliance has none to report). */
  expected: { version: string; serial?: string };
  /** session: a login whose token expires and is renewed; static: a fixed token. */
  auth: "session" | "static";
  /** staged: writes wait for activation; live: writes take effect at once. */
  activation: "staged" | "live";
  /** The code the vendor's own throttling answer maps to. */
  throttleCode: ErrorCode;
  /** A path prefix every health check requests (where faults are injected). */
  healthPath: string;
  /** The simulator allows only one write at a time without losing some. */
  serialWrites: boolean;
  firewallRule: RuleCell;
  /** Every NAT type: how the vendor stores it, or why it refuses it (at least one is supported). */
  nat: Record<NatType, RuleCell | Refusal>;
  /** A vendorRef shaped to escape its path segment (must address nothing). */
  hostileVendorRef: string;
  /** Fields of stored objects that differ between two creates of the same rule (ids, timestamps). */
  volatileFields: string[];
  /** Longest description the appliance stores (with the marker), when it has a limit. */
  maxDescription?: number;
  /** Descriptions the appliance can store at all (others are refused, not altered); default all. */
  acceptsDescription?(text: string): boolean;
  /**
   * An administrator's hand-made copy of a stored object: same description, its own identity.
   * Default: the object without its id fields (a NAT rule's `name` suffixed).
   */
  copyOf?(object: VendorObject, kind: ResourceKind): VendorObject;
  /** What a redacted trace log shows where the credential travels; default `"Authorization":"***"`. */
  maskedAuth?: string;
  /** A rendered request body as a structure whose leaves are the values sent; default JSON. */
  decodeBody?(text: string): Record<string, unknown>;
}

const byField =
  (field: string) =>
  (objects: VendorObject[], vendorRef: string): VendorObject | undefined =>
    objects.find((o) => String(o[field]) === vendorRef);

const byMarker =
  (field: string) =>
  (objects: VendorObject[], vendorRef: string): VendorObject | undefined =>
    objects.find((o) => typeof o[field] === "string" && (o[field] as string).includes(`[vnf:${vendorRef}]`));

const formFields = (text: string): Record<string, unknown> => Object.fromEntries(new URLSearchParams(text));

/** A form body whose `field` holds XML (a PAN-OS `element`): that field parsed. */
const xmlFormBody =
  (field: string) =>
  (text: string): Record<string, unknown> => {
    const fields = formFields(text);
    const xml = fields[field];
    if (typeof xml === "string")
      fields[field] = parseFragment(xml).map((node) => ({ [node.tag]: toJson(node) }));
    return fields;
  };

/** A form body whose `field` holds JSON (the VyOS `data`): that field parsed. */
const jsonFormBody =
  (field: string) =>
  (text: string): Record<string, unknown> => {
    const fields = formFields(text);
    const json = fields[field];
    if (typeof json === "string") fields[field] = JSON.parse(json) as unknown;
    return fields;
  };

/** Characters XML 1.0 can carry (the rest cannot reach an XML API at all). */
const xmlRepresentable = (text: string): boolean =>
  [...text].every((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20) return c === 0x09 || c === 0x0a || c === 0x0d;
    return !(c >= 0xd800 && c <= 0xdfff) && c !== 0xfffe && c !== 0xffff;
  });

/** A NAT object whose marker is the vendorRef after a `<type>@` prefix (pfSense outbound/1:1). */
const byPrefixedMarker =
  (field: string) =>
  (objects: VendorObject[], vendorRef: string): VendorObject | undefined =>
    byMarker(field)(objects, vendorRef.replace(/^(snat|1to1)@/, ""));

/** An object addressed by `<type>@<id>` (OPNsense source NAT and 1:1 NAT uuids). */
const byPrefixedField =
  (field: string) =>
  (objects: VendorObject[], vendorRef: string): VendorObject | undefined =>
    byField(field)(objects, vendorRef.replace(/^(snat|1to1)@/, ""));

const vyosRule = (objects: VendorObject[], ref: string) =>
  objects.find((o) => String(o.path).endsWith(` rule ${ref}`));

export const VENDORS: VendorRow[] = [
  {
    vendor: "pfsense",
    dictionary: "dictionaries/pfsense-2.7-restapi-v2.yaml",
    simulator: { version: "2.7.2-RELEASE", serial: "PFSIM-ENGINE-1", aliases: ["lan_servers"] },
    // The factory outbound NAT mode is automatic: the operator may switch it to hybrid for snat.
    parameters: { outboundNatMode: "hybrid" },
    expected: { version: "2.7.2-RELEASE", serial: "PFSIM-ENGINE-1" },
    auth: "session",
    activation: "staged",
    throttleCode: "VNF_CAPACITY",
    healthPath: "/api/v2/system/version",
    serialWrites: true,
    firewallRule: {
      create: {
        interface: "lan",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web",
        log: true,
      },
      update: {
        interface: "lan",
        action: "deny",
        protocol: "udp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "53" },
        description: "dns now",
      },
      stored: { controlKind: "firewallRule", find: byField("tracker"), description: (o) => o.descr },
      createPath: { method: "POST", pathPrefix: "/api/v2/firewall/rule" },
    },
    nat: {
      dnat: {
        create: {
          type: "dnat",
          interface: "wan",
          protocol: "tcp",
          destination: { port: "8443" },
          translated: { address: "10.0.0.10", port: "443" },
          description: "forward",
        },
        update: {
          type: "dnat",
          interface: "wan",
          protocol: "tcp",
          destination: { port: "9443" },
          translated: { address: "10.0.0.11", port: "443" },
          description: "forward moved",
        },
        stored: { controlKind: "natRule", find: byMarker("descr"), description: (o) => o.descr },
        createPath: { method: "POST", pathPrefix: "/api/v2/firewall/nat/port_forward" },
        native: {
          interface: "wan",
          protocol: "tcp",
          destination: "wan:ip",
          destination_port: "8443",
          target: "10.0.0.10",
          local_port: "443",
        },
      },
      snat: {
        create: {
          type: "snat",
          interface: "wan",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT",
        },
        update: {
          type: "snat",
          interface: "wan",
          protocol: "tcp",
          source: { cidr: "10.0.1.5" },
          destination: { address: "198.51.100.0/24", port: "443" },
          translated: { port: "10000-20000" },
          description: "masquerade web",
        },
        stored: { controlKind: "natOutbound", find: byPrefixedMarker("descr"), description: (o) => o.descr },
        createPath: { method: "POST", pathPrefix: "/api/v2/firewall/nat/outbound/mapping" },
        native: {
          interface: "wan",
          protocol: null,
          source: "10.0.0.0/24",
          destination: "any",
          target: "203.0.113.20",
          target_subnet: 32,
        },
      },
      "1to1": {
        create: {
          type: "1to1",
          interface: "wan",
          destination: { address: "203.0.113.30" },
          translated: { address: "10.0.0.30" },
          description: "one to one",
        },
        update: {
          type: "1to1",
          interface: "wan",
          source: { cidr: "198.51.100.0/24" },
          destination: { address: "203.0.113.32/29" },
          translated: { address: "10.0.2.0/29" },
          description: "a block, for some peers",
        },
        stored: { controlKind: "natOneToOne", find: byPrefixedMarker("descr"), description: (o) => o.descr },
        createPath: { method: "POST", pathPrefix: "/api/v2/firewall/nat/one_to_one/mapping" },
        native: { interface: "wan", external: "203.0.113.30", source: "10.0.0.30", destination: "any" },
      },
    },
    alias: async () => "lan_servers",
    tamper: { kind: "firewallRule", id: (o) => String(o.tracker), patch: { disabled: true } },
    factory: { parameters: {} },
    hostileVendorRef: "1&id=0",
    volatileFields: ["id", "tracker", "created_time", "updated_time"],
  },
  {
    vendor: "fortios",
    dictionary: "dictionaries/fortios-7.yaml",
    // snat rules are central SNAT entries: the VDOM runs central NAT.
    simulator: { version: "v7.4.5", serial: "FGVM-ENGINE-1", centralNat: true },
    parameters: { vdom: "root" },
    expected: { version: "v7.4.5", serial: "FGVM-ENGINE-1" },
    auth: "static",
    activation: "live",
    throttleCode: "VNF_RATE_LIMIT",
    healthPath: "/api/v2/monitor/system/status",
    serialWrites: false,
    firewallRule: {
      create: {
        interface: "port1",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web",
        log: true,
      },
      update: {
        interface: "port1",
        direction: "out",
        action: "deny",
        protocol: "udp",
        source: { cidr: "10.0.1.0/24" },
        destination: { cidr: "any" },
        description: "udp out",
      },
      stored: { controlKind: "firewallRule", find: byField("policyid"), description: (o) => o.comments },
      createPath: { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/policy" },
    },
    nat: {
      dnat: {
        create: {
          type: "dnat",
          interface: "port1",
          protocol: "tcp",
          destination: { address: "203.0.113.10", port: "8443" },
          translated: { address: "10.0.0.10", port: "443" },
          description: "forward",
        },
        update: {
          type: "dnat",
          interface: "port2",
          protocol: "udp",
          source: { cidr: "198.51.100.0/24" },
          destination: { address: "203.0.113.11", port: "5353" },
          translated: { address: "10.0.0.11" },
          description: "forward moved, for some peers",
        },
        stored: { controlKind: "natRule", find: byField("name"), description: (o) => o.comment },
        createPath: { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/vip" },
        native: {
          type: "static-nat",
          extip: "203.0.113.10",
          mappedip: [{ range: "10.0.0.10", q_origin_key: "10.0.0.10" }],
          extintf: "port1",
          portforward: "enable",
          "nat-source-vip": "disable",
          protocol: "tcp",
          extport: "8443",
          mappedport: "443",
        },
      },
      snat: {
        create: {
          type: "snat",
          interface: "port1",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT",
        },
        update: {
          type: "snat",
          interface: "port2",
          protocol: "tcp",
          source: { cidr: "10.0.1.5" },
          destination: { address: "198.51.100.0/24", port: "443" },
          translated: { port: "10000-20000" },
          description: "masquerade web",
        },
        stored: { controlKind: "centralSnat", find: byField("policyid"), description: (o) => o.comments },
        createPath: { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/central-snat-map" },
        native: {
          dstintf: [{ name: "port1", q_origin_key: "port1" }],
          "orig-addr": [{ name: "vnf-net-10.0.0.0/24", q_origin_key: "vnf-net-10.0.0.0/24" }],
          "dst-addr": [{ name: "all", q_origin_key: "all" }],
          protocol: 0,
          nat: "enable",
          "nat-ippool": [{ name: "vnf-pool-203.0.113.20", q_origin_key: "vnf-pool-203.0.113.20" }],
        },
      },
      "1to1": {
        create: {
          type: "1to1",
          interface: "port1",
          destination: { address: "203.0.113.32/29" },
          translated: { address: "10.0.2.0/29" },
          description: "one to one",
        },
        update: {
          type: "1to1",
          interface: "port1",
          source: { cidr: "198.51.100.0/24" },
          destination: { address: "203.0.113.30" },
          translated: { address: "10.0.0.30" },
          description: "one address, for some peers",
        },
        stored: { controlKind: "natRule", find: byField("name"), description: (o) => o.comment },
        createPath: { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/vip" },
        native: {
          type: "static-nat",
          extip: "203.0.113.32-203.0.113.39",
          mappedip: [{ range: "10.0.2.0-10.0.2.7", q_origin_key: "10.0.2.0-10.0.2.7" }],
          extintf: "port1",
          portforward: "disable",
          "nat-source-vip": "enable",
        },
      },
    },
    alias: async (sim) => {
      await sim.control.putObject("address", { name: "internal_nets", subnet: "10.0.0.0 255.0.0.0" });
      return "internal_nets";
    },
    tamper: { kind: "firewallRule", id: (o) => String(o.policyid), patch: { status: "disable" } },
    factory: { simulator: { version: "v7.4.5", serial: "FGVM-ENGINE-1" } },
    hostileVendorRef: "1/../../address/all",
    volatileFields: ["policyid", "q_origin_key", "uuid", "name"],
    maxDescription: 200,
  },
  {
    vendor: "panos",
    dictionary: "dictionaries/panos-10-xmlapi.yaml",
    // Commit jobs take 200 ms here (minutes on a real firewall).
    simulator: { version: "10.2.4", serial: "007954000ENGINE", applyDelayMs: 200 },
    parameters: { vsys: "vsys1" },
    expected: { version: "10.2.4", serial: "007954000ENGINE" },
    auth: "session",
    activation: "staged",
    throttleCode: "VNF_RATE_LIMIT",
    // Every call but keygen (`/api`) goes to `/api/`.
    healthPath: "/api/",
    serialWrites: false,
    firewallRule: {
      create: {
        interface: "untrust",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web",
        log: true,
      },
      update: {
        interface: "trust",
        direction: "out",
        action: "deny",
        protocol: "udp",
        source: { cidr: "10.0.1.0/24" },
        destination: { cidr: "any", port: "53" },
        description: "dns out",
      },
      stored: { controlKind: "firewallRule", find: byField("@name"), description: (o) => o.description },
      createPath: { method: "POST", pathPrefix: "/api/" },
    },
    nat: {
      dnat: {
        create: {
          type: "dnat",
          interface: "ethernet1/1",
          protocol: "tcp",
          destination: { address: "203.0.113.10", port: "8443" },
          translated: { address: "10.0.0.10", port: "443" },
          description: "forward",
        },
        update: {
          type: "dnat",
          interface: "ethernet1/2",
          protocol: "udp",
          destination: { address: "203.0.113.11", port: "5353" },
          translated: { address: "10.0.0.11" },
          description: "forward moved",
        },
        stored: { controlKind: "natRule", find: byField("@name"), description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/api/" },
        native: {
          "to-interface": "ethernet1/1",
          destination: ["203.0.113.10"],
          service: "vnf-tcp-8443",
          "destination-translation": { "translated-address": "10.0.0.10", "translated-port": "443" },
        },
      },
      snat: {
        create: {
          type: "snat",
          interface: "ethernet1/1",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT",
        },
        update: {
          type: "snat",
          interface: "ethernet1/2",
          source: { cidr: "10.0.1.0/24" },
          destination: { address: "198.51.100.0/24" },
          description: "hide behind the interface",
        },
        stored: { controlKind: "natRule", find: byField("@name"), description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/api/" },
        native: {
          "to-interface": "ethernet1/1",
          source: ["10.0.0.0/24"],
          destination: ["any"],
          "source-translation": {
            "dynamic-ip-and-port": { "translated-address": ["203.0.113.20"] },
          },
        },
      },
      "1to1": {
        create: {
          type: "1to1",
          interface: "ethernet1/1",
          destination: { address: "203.0.113.30" },
          translated: { address: "10.0.0.30" },
          description: "one to one",
        },
        update: {
          type: "1to1",
          interface: "ethernet1/1",
          destination: { address: "203.0.113.32/29" },
          translated: { address: "10.0.2.0/29" },
          description: "a block",
        },
        stored: { controlKind: "natRule", find: byField("@name"), description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/api/" },
        // Bi-directional static NAT: the internal address is the original source, translated to the
        // external one; PAN-OS adds the reverse (destination) translation itself.
        native: {
          "to-interface": "ethernet1/1",
          source: ["10.0.0.30"],
          destination: ["any"],
          "source-translation": {
            "static-ip": { "translated-address": "203.0.113.30", "bi-directional": "yes" },
          },
        },
      },
    },
    alias: async (sim) => {
      await sim.control.putObject("address", { "@name": "branch_nets", "ip-netmask": "10.0.0.0/8" });
      return "branch_nets";
    },
    tamper: { kind: "firewallRule", id: (o) => String(o["@name"]), patch: { disabled: "yes" } },
    hostileVendorRef: "x'] | /config/devices/entry/vsys/entry[@name='vsys1",
    volatileFields: ["@name", "@uuid"],
    maxDescription: 900,
    acceptsDescription: xmlRepresentable,
    // A copied rule needs its own name (PAN-OS names are unique in a rulebase).
    copyOf: (o) => {
      const { "@uuid": _uuid, ...rest } = o;
      return { ...rest, "@name": `${String(o["@name"])}-copy` };
    },
    maskedAuth: '"X-PAN-KEY":"***"',
    decodeBody: xmlFormBody("element"),
  },
  {
    vendor: "vyos",
    dictionary: "dictionaries/vyos-1.4-httpapi.yaml",
    simulator: { version: "1.4.0", serial: "VYOS-ENGINE-1", commitDelayMs: 5 },
    parameters: { firewallName: "WAN_IN" },
    expected: { version: "1.4.0", serial: "VYOS-ENGINE-1" },
    auth: "static",
    // Each /configure commits; the activation saves (what survives a reboot is the simulator's running).
    activation: "staged",
    throttleCode: "VNF_RATE_LIMIT",
    healthPath: "/show",
    // One global configuration lock on the appliance; the dictionary sends one call at a time.
    serialWrites: true,
    firewallRule: {
      create: {
        interface: "eth0",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web",
        log: true,
      },
      update: {
        interface: "eth1",
        direction: "out",
        action: "deny",
        protocol: "udp",
        source: { cidr: "2001:db8:1::/64" },
        destination: { cidr: "any", port: "53" },
        description: "dns out over IPv6",
      },
      stored: { controlKind: "firewallRule", find: vyosRule, description: (o) => o.description },
      createPath: { method: "POST", pathPrefix: "/configure" },
    },
    nat: {
      dnat: {
        create: {
          type: "dnat",
          interface: "eth0",
          protocol: "tcp",
          destination: { address: "203.0.113.10", port: "8443" },
          translated: { address: "10.0.0.10", port: "443" },
          description: "forward",
        },
        update: {
          type: "dnat",
          interface: "eth1",
          protocol: "udp",
          destination: { address: "203.0.113.11", port: "5353" },
          translated: { address: "10.0.0.11" },
          description: "forward moved",
        },
        stored: { controlKind: "natRule", find: vyosRule, description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/configure" },
        native: {
          "inbound-interface": { name: "eth0" },
          protocol: "tcp",
          destination: { address: "203.0.113.10", port: "8443" },
          translation: { address: "10.0.0.10", port: "443" },
        },
      },
      snat: {
        create: {
          type: "snat",
          interface: "eth1",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT",
        },
        update: {
          type: "snat",
          interface: "eth1",
          protocol: "tcp",
          source: { cidr: "10.0.1.0/24" },
          destination: { address: "198.51.100.0/24", port: "443" },
          description: "masquerade web",
        },
        stored: { controlKind: "natRule", find: vyosRule, description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/configure" },
        native: {
          "outbound-interface": { name: "eth1" },
          source: { address: "10.0.0.0/24" },
          translation: { address: "203.0.113.20" },
        },
      },
      "1to1": {
        refused: {
          rule: {
            type: "1to1",
            interface: "eth0",
            destination: { address: "203.0.113.30" },
            translated: { address: "10.0.0.30" },
          },
          reason: /1to1.*dnat.*snat/,
        },
      },
    },
    alias: async (sim) => {
      await sim.control.putObject("config", {
        path: "firewall group address-group partners",
        config: { address: ["192.0.2.10", "192.0.2.11"] },
      });
      return "partners";
    },
    tamper: { kind: "firewallRule", id: (o) => String(o.path), patch: { disable: {} } },
    hostileVendorRef: "1000 action accept",
    volatileFields: ["path"],
    maxDescription: 200,
    // VyOS descriptions are ASCII ([[:ascii:]]{0,256}).
    acceptsDescription: (text) => [...text].every((ch) => (ch.codePointAt(0) ?? 0) <= 0x7f),
    copyOf: (o) => ({ ...o, path: String(o.path).replace(/\d+$/, "999999") }),
    maskedAuth: "key=***",
    decodeBody: jsonFormBody("data"),
  },
  {
    vendor: "opnsense",
    dictionary: "dictionaries/opnsense-26.1-api.yaml",
    simulator: { version: "26.1.11", aliases: ["partner_nets"] },
    // OPNsense reports no serial number.
    expected: { version: "26.1.11" },
    auth: "static",
    activation: "staged",
    throttleCode: "VNF_RATE_LIMIT",
    healthPath: "/api/core/firmware/status",
    serialWrites: true,
    firewallRule: {
      create: {
        interface: "wan",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web",
        log: true,
      },
      update: {
        interface: "lan",
        direction: "out",
        action: "deny",
        protocol: "udp",
        source: { cidr: "10.0.1.0/24" },
        destination: { cidr: "any", port: "53" },
        description: "dns out",
      },
      stored: { controlKind: "firewallRule", find: byField("uuid"), description: (o) => o.description },
      createPath: { method: "POST", pathPrefix: "/api/firewall/filter/addRule" },
    },
    nat: {
      dnat: {
        create: {
          type: "dnat",
          interface: "wan",
          protocol: "tcp",
          destination: { address: "203.0.113.10", port: "8443" },
          translated: { address: "10.0.0.10", port: "443" },
          description: "forward",
        },
        update: {
          type: "dnat",
          interface: "wan",
          protocol: "tcp/udp",
          destination: { port: "27015-27030" },
          translated: { address: "10.0.0.11" },
          description: "forward a range",
        },
        stored: { controlKind: "natRule", find: byField("uuid"), description: (o) => o.descr },
        createPath: { method: "POST", pathPrefix: "/api/firewall/d_nat/addRule" },
        native: {
          interface: "wan",
          protocol: "tcp",
          "destination.network": "203.0.113.10",
          "destination.port": "8443",
          target: "10.0.0.10",
          "local-port": "443",
        },
      },
      snat: {
        create: {
          type: "snat",
          interface: "wan",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT",
        },
        update: {
          type: "snat",
          interface: "wan",
          protocol: "tcp",
          source: { cidr: "10.0.1.5" },
          destination: { address: "198.51.100.0/24", port: "443" },
          translated: { port: "10000-20000" },
          description: "masquerade web",
        },
        stored: { controlKind: "snatRule", find: byPrefixedField("uuid"), description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/api/firewall/source_nat/addRule" },
        native: {
          interface: "wan",
          protocol: "any",
          source_net: "10.0.0.0/24",
          destination_net: "any",
          target: "203.0.113.20",
        },
      },
      "1to1": {
        create: {
          type: "1to1",
          interface: "wan",
          destination: { address: "203.0.113.30" },
          translated: { address: "10.0.0.30" },
          description: "one to one",
        },
        update: {
          type: "1to1",
          interface: "wan",
          source: { cidr: "198.51.100.0/24" },
          destination: { address: "203.0.113.32/29" },
          translated: { address: "10.0.2.0/29" },
          description: "a block, for some peers",
        },
        stored: {
          controlKind: "oneToOneRule",
          find: byPrefixedField("uuid"),
          description: (o) => o.description,
        },
        createPath: { method: "POST", pathPrefix: "/api/firewall/one_to_one/addRule" },
        native: { interface: "wan", type: "binat", external: "203.0.113.30", source_net: "10.0.0.30" },
      },
    },
    alias: async () => "partner_nets",
    tamper: { kind: "firewallRule", id: (o) => String(o.uuid), patch: { enabled: "0" } },
    hostileVendorRef: "../delRule/x",
    volatileFields: ["uuid", "sequence"],
    maxDescription: 200,
    // DescriptionField: /^(.){0,255}$/u, no line breaks.
    acceptsDescription: (text) => !/[\r\n\u2028\u2029]/.test(text),
  },
  {
    vendor: "opnsense",
    variant: "25.7",
    dictionary: "dictionaries/opnsense-25.7-api.yaml",
    simulator: { version: "25.7.2", aliases: ["partner_nets"] },
    // OPNsense reports no serial number.
    expected: { version: "25.7.2" },
    auth: "static",
    activation: "staged",
    throttleCode: "VNF_RATE_LIMIT",
    healthPath: "/api/core/firmware/status",
    serialWrites: true,
    firewallRule: {
      create: {
        interface: "wan",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web",
        log: true,
      },
      update: {
        interface: "lan",
        direction: "out",
        action: "deny",
        protocol: "udp",
        source: { cidr: "10.0.1.0/24" },
        destination: { cidr: "any", port: "53" },
        description: "dns out",
      },
      stored: { controlKind: "firewallRule", find: byField("uuid"), description: (o) => o.description },
      createPath: { method: "POST", pathPrefix: "/api/firewall/filter/addRule" },
    },
    nat: {
      // 25.7 has no port-forward API: firewall/d_nat came with 26.1.
      dnat: {
        refused: {
          rule: {
            type: "dnat",
            interface: "wan",
            protocol: "tcp",
            destination: { address: "203.0.113.10", port: "8443" },
            translated: { address: "10.0.0.10", port: "443" },
          },
          reason: /no port-forward API.*26\.1/,
        },
      },
      snat: {
        create: {
          type: "snat",
          interface: "wan",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT",
        },
        update: {
          type: "snat",
          interface: "wan",
          protocol: "tcp",
          source: { cidr: "10.0.1.5" },
          destination: { address: "198.51.100.0/24", port: "443" },
          translated: { port: "10000-20000" },
          description: "masquerade web",
        },
        stored: { controlKind: "snatRule", find: byPrefixedField("uuid"), description: (o) => o.description },
        createPath: { method: "POST", pathPrefix: "/api/firewall/source_nat/addRule" },
        native: {
          interface: "wan",
          protocol: "any",
          source_net: "10.0.0.0/24",
          destination_net: "any",
          target: "203.0.113.20",
        },
      },
      "1to1": {
        create: {
          type: "1to1",
          interface: "wan",
          destination: { address: "203.0.113.30" },
          translated: { address: "10.0.0.30" },
          description: "one to one",
        },
        update: {
          type: "1to1",
          interface: "wan",
          source: { cidr: "198.51.100.0/24" },
          destination: { address: "203.0.113.32/29" },
          translated: { address: "10.0.2.0/29" },
          description: "a block, for some peers",
        },
        stored: {
          controlKind: "oneToOneRule",
          find: byPrefixedField("uuid"),
          description: (o) => o.description,
        },
        createPath: { method: "POST", pathPrefix: "/api/firewall/one_to_one/addRule" },
        native: { interface: "wan", type: "binat", external: "203.0.113.30", source_net: "10.0.0.30" },
      },
    },
    alias: async () => "partner_nets",
    tamper: { kind: "firewallRule", id: (o) => String(o.uuid), patch: { enabled: "0" } },
    hostileVendorRef: "../delRule/x",
    volatileFields: ["uuid", "sequence"],
    maxDescription: 200,
    // DescriptionField: /^(.){0,255}$/u, no line breaks.
    acceptsDescription: (text) => !/[\r\n\u2028\u2029]/.test(text),
  },
];

/** How suites name a row: the vendor, and its variant when it has one (`opnsense 25.7`). */
export function rowLabel(row: VendorRow): string {
  return row.variant === undefined ? row.vendor : `${row.vendor} ${row.variant}`;
}

/** The rows as `describe.each` takes them, named by rowLabel. */
export const VENDOR_CASES: Array<[string, VendorRow]> = VENDORS.map((row) => [rowLabel(row), row]);

/** The rule kinds and NAT types a vendor supports, as the suites iterate them. */
export interface KindCase extends RuleCell {
  label: string;
  kind: ResourceKind;
}

export function kindCases(row: VendorRow): KindCase[] {
  const out: KindCase[] = [{ label: "firewallRule", kind: "firewallRule", ...row.firewallRule }];
  for (const type of NAT_TYPES) {
    const cell = row.nat[type];
    if (!isRefusal(cell)) out.push({ label: `natRule ${type}`, kind: "natRule", ...cell });
  }
  return out;
}

/** The NAT types a vendor refuses, with the reason the dictionary must give. */
export function refusedNatTypes(row: VendorRow): Array<{ type: NatType } & Refusal["refused"]> {
  return NAT_TYPES.flatMap((type) => {
    const cell = row.nat[type];
    return isRefusal(cell) ? [{ type, ...cell.refused }] : [];
  });
}

/** The first case of a kind: firewall rules, and the first NAT type the vendor supports. */
export function caseOf(row: VendorRow, kind: ResourceKind): KindCase {
  if (kind === "firewallRule") return { label: kind, kind, ...row.firewallRule };
  const nat = kindCases(row).find((c) => c.kind === "natRule");
  if (nat === undefined) throw new Error(`${row.vendor}: no NAT type supported`);
  return nat;
}

export function storedObjects(view: ObjectsView, staged: boolean): VendorObject[] {
  return staged ? view.candidate : view.running;
}
