// The vendor table that drives the engine suites. One row per vendor: everything vendor-specific the
// suites need (dictionary, simulator options, sample rules, how to find the stored object in the
// simulator) lives here, so a new vendor is a new row and the suites keep their shape.
import type { ErrorCode } from "../../src/dictionary/errors.ts";
import type { ResourceKind } from "../../src/dictionary/rule-input.ts";
import type { ObjectsView, SimulatorVendor, VendorObject } from "../simulators/index.ts";

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
  expected: { version: string; serial: string };
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
}

const byField =
  (field: string) =>
  (objects: VendorObject[], vendorRef: string): VendorObject | undefined =>
    objects.find((o) => String(o[field]) === vendorRef);

const byMarker =
  (field: string) =>
  (objects: VendorObject[], vendorRef: string): VendorObject | undefined =>
    objects.find((o) => typeof o[field] === "string" && (o[field] as string).includes(`[vnf:${vendorRef}]`));

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
];

export function storedObjects(view: ObjectsView, staged: boolean): VendorObject[] {
  return staged ? view.candidate : view.running;
}
