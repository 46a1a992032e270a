// The vendor table that drives the engine suites. One row per vendor: everything vendor-specific the
// suites need (dictionary, simulator options, sample rules, how to find the stored object in the
// simulator) lives here, so a new vendor is a new row and the suites keep their shape.
import type { ErrorCode } from "../../src/dictionary/errors.ts";
import type { ResourceKind } from "../../src/dictionary/rule-input.ts";
import type { ObjectsView, SimulatorVendor, VendorObject } from "../simulators/index.ts";
import { parseFragment, toJson } from "../simulators/panos/xml.ts";

export interface StoredAccess {
  /** The simulator control kind holding these objects. */
  controlKind: string;
  /** The stored object a vendorRef addresses, among the simulator's candidate configuration. */
  find(objects: VendorObject[], vendorRef: string): VendorObject | undefined;
  /** The field the ownership marker and description land in. */
  description(object: VendorObject): unknown;
}

export interface VendorRow {
  vendor: SimulatorVendor;
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
  /** The method and exact path of each kind's create request (to count creates). */
  createPath: Record<ResourceKind, { method: string; pathPrefix: string }>;
  /** The simulator allows only one write at a time without losing some. */
  serialWrites: boolean;
  rules: Record<ResourceKind, { create: Record<string, unknown>; update: Record<string, unknown> }>;
  stored: Record<ResourceKind, StoredAccess>;
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

export const VENDORS: VendorRow[] = [
  {
    vendor: "pfsense",
    dictionary: "dictionaries/pfsense-2.7-restapi-v2.yaml",
    simulator: { version: "2.7.2-RELEASE", serial: "PFSIM-ENGINE-1" },
    expected: { version: "2.7.2-RELEASE", serial: "PFSIM-ENGINE-1" },
    auth: "session",
    activation: "staged",
    throttleCode: "VNF_CAPACITY",
    healthPath: "/api/v2/system/version",
    createPath: {
      firewallRule: { method: "POST", pathPrefix: "/api/v2/firewall/rule" },
      natRule: { method: "POST", pathPrefix: "/api/v2/firewall/nat/port_forward" },
    },
    serialWrites: true,
    rules: {
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
      },
      natRule: {
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
      },
    },
    stored: {
      firewallRule: { controlKind: "firewallRule", find: byField("tracker"), description: (o) => o.descr },
      natRule: { controlKind: "natRule", find: byMarker("descr"), description: (o) => o.descr },
    },
    hostileVendorRef: "1&id=0",
    volatileFields: ["id", "tracker", "created_time", "updated_time"],
  },
  {
    vendor: "fortios",
    dictionary: "dictionaries/fortios-7.yaml",
    simulator: { version: "v7.4.5", serial: "FGVM-ENGINE-1" },
    parameters: { vdom: "root" },
    expected: { version: "v7.4.5", serial: "FGVM-ENGINE-1" },
    auth: "static",
    activation: "live",
    throttleCode: "VNF_RATE_LIMIT",
    healthPath: "/api/v2/monitor/system/status",
    createPath: {
      firewallRule: { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/policy" },
      natRule: { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/vip" },
    },
    serialWrites: false,
    rules: {
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
      },
      natRule: {
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
          destination: { address: "203.0.113.11", port: "5353" },
          translated: { address: "10.0.0.11" },
          description: "forward moved",
        },
      },
    },
    stored: {
      firewallRule: {
        controlKind: "firewallRule",
        find: byField("policyid"),
        description: (o) => o.comments,
      },
      natRule: { controlKind: "natRule", find: byField("name"), description: (o) => o.comment },
    },
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
    createPath: {
      firewallRule: { method: "POST", pathPrefix: "/api/" },
      natRule: { method: "POST", pathPrefix: "/api/" },
    },
    serialWrites: false,
    rules: {
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
      },
      natRule: {
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
      },
    },
    stored: {
      firewallRule: {
        controlKind: "firewallRule",
        find: byField("@name"),
        description: (o) => o.description,
      },
      natRule: { controlKind: "natRule", find: byField("@name"), description: (o) => o.description },
    },
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
    createPath: {
      firewallRule: { method: "POST", pathPrefix: "/configure" },
      natRule: { method: "POST", pathPrefix: "/configure" },
    },
    // One global configuration lock on the appliance; the dictionary sends one call at a time.
    serialWrites: true,
    rules: {
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
      },
      natRule: {
        create: {
          type: "dnat",
          interface: "eth0",
          protocol: "tcp",
          destination: { address: "203.0.113.10", port: "8443" },
          translated: { address: "10.0.0.10", port: "443" },
          description: "forward",
        },
        update: {
          type: "snat",
          interface: "eth1",
          protocol: "any",
          source: { cidr: "10.0.0.0/24" },
          translated: { address: "203.0.113.20" },
          description: "source NAT now",
        },
      },
    },
    stored: {
      firewallRule: {
        controlKind: "firewallRule",
        find: (objects, ref) => objects.find((o) => String(o.path).endsWith(` rule ${ref}`)),
        description: (o) => o.description,
      },
      natRule: {
        controlKind: "natRule",
        find: (objects, ref) => objects.find((o) => String(o.path).endsWith(` rule ${ref}`)),
        description: (o) => o.description,
      },
    },
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
    simulator: { version: "26.1.11" },
    // OPNsense reports no serial number.
    expected: { version: "26.1.11" },
    auth: "static",
    activation: "staged",
    throttleCode: "VNF_RATE_LIMIT",
    healthPath: "/api/core/firmware/status",
    createPath: {
      firewallRule: { method: "POST", pathPrefix: "/api/firewall/filter/addRule" },
      natRule: { method: "POST", pathPrefix: "/api/firewall/d_nat/addRule" },
    },
    serialWrites: true,
    rules: {
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
      },
      natRule: {
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
      },
    },
    stored: {
      firewallRule: { controlKind: "firewallRule", find: byField("uuid"), description: (o) => o.description },
      natRule: { controlKind: "natRule", find: byField("uuid"), description: (o) => o.descr },
    },
    hostileVendorRef: "../delRule/x",
    volatileFields: ["uuid", "sequence"],
    maxDescription: 200,
    // DescriptionField: /^(.){0,255}$/u, no line breaks.
    acceptsDescription: (text) => !/[\r\n\u2028\u2029]/.test(text),
  },
];

export function storedObjects(view: ObjectsView, staged: boolean): VendorObject[] {
  return staged ? view.candidate : view.running;
}
