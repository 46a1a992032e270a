// More CMDB tables: custom services (`firewall.service/custom`: what a policy needs for a port that no
// predefined service covers), IP pools (`firewall/ippool`) and the central SNAT map
// (`firewall/central-snat-map`), with the attributes of FortiOS 7.4's CLI reference that an operator
// sets and the same checks as tables.ts.
import { errors } from "./envelope.ts";
import {
  addressNames,
  enableDisable,
  type FoRecord,
  interfaceNames,
  type TableSpec,
  type VdomTables,
} from "./tables.ts";

export const customServiceTable: TableSpec = {
  name: "service",
  route: "firewall.service/custom",
  mkey: "name",
  unique: [],
  builtins: () => [],
  attributes: [
    { name: "name", type: "string", default: "", maxLength: 79, required: true },
    { name: "uuid", type: "string", default: "" },
    { name: "proxy", type: "option", default: "disable", options: enableDisable },
    { name: "category", type: "string", default: "", maxLength: 63 },
    {
      name: "protocol",
      type: "option",
      default: "TCP/UDP/SCTP",
      options: [
        "TCP/UDP/SCTP",
        "ICMP",
        "ICMP6",
        "IP",
        "HTTP",
        "FTP",
        "CONNECT",
        "SOCKS-TCP",
        "SOCKS-UDP",
        "ALL",
      ],
    },
    { name: "tcp-portrange", type: "servicerange", default: "" },
    { name: "udp-portrange", type: "servicerange", default: "" },
    { name: "sctp-portrange", type: "servicerange", default: "" },
    { name: "comment", type: "string", default: "", maxLength: 255 },
  ],
  validate(record) {
    // A TCP/UDP/SCTP service matches nothing without a port range.
    const ranges = ["tcp-portrange", "udp-portrange", "sctp-portrange"].map((a) => record[a]);
    if (record.protocol === "TCP/UDP/SCTP" && ranges.every((r) => r === "" || r === undefined)) {
      throw errors.missing("tcp-portrange");
    }
  },
};

const ipv4ToNumber = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);

export const ippoolTable: TableSpec = {
  name: "ippool",
  route: "firewall/ippool",
  mkey: "name",
  unique: [],
  builtins: () => [],
  attributes: [
    { name: "name", type: "string", default: "", maxLength: 79, required: true },
    {
      name: "type",
      type: "option",
      default: "overload",
      options: ["overload", "one-to-one", "fixed-port-range", "port-block-allocation"],
    },
    { name: "startip", type: "ipv4", default: "0.0.0.0", required: true },
    { name: "endip", type: "ipv4", default: "0.0.0.0", required: true },
    { name: "arp-reply", type: "option", default: "enable", options: enableDisable },
    { name: "comments", type: "string", default: "", maxLength: 255 },
  ],
  validate(record) {
    if (ipv4ToNumber(String(record.endip)) < ipv4ToNumber(String(record.startip))) {
      throw errors.invalidValue(String(record.endip));
    }
  },
};

const poolNames = (tables: VdomTables) => tables.ippool.map((p) => String(p.name));

export const centralSnatTable: TableSpec = {
  name: "snat",
  route: "firewall/central-snat-map",
  mkey: "policyid",
  unique: [],
  builtins: () => [],
  attributes: [
    { name: "policyid", type: "integer", default: 0 },
    { name: "uuid", type: "string", default: "" },
    { name: "status", type: "option", default: "enable", options: enableDisable },
    { name: "type", type: "option", default: "ipv4", options: ["ipv4", "ipv6"] },
    { name: "srcintf", type: "members", default: [], references: interfaceNames, required: true },
    { name: "dstintf", type: "members", default: [], references: interfaceNames, required: true },
    { name: "orig-addr", type: "members", default: [], references: addressNames, required: true },
    { name: "dst-addr", type: "members", default: [], references: addressNames, required: true },
    { name: "protocol", type: "integer", default: 0 },
    { name: "orig-port", type: "portrange", default: "0" },
    // FortiOS 7.4+: the destination port or range the rule matches (0: any).
    { name: "dst-port", type: "portrange", default: "0" },
    { name: "nat", type: "option", default: "enable", options: enableDisable },
    { name: "nat-ippool", type: "members", default: [], references: poolNames },
    { name: "nat-port", type: "portrange", default: "0" },
    { name: "port-preserve", type: "option", default: "enable", options: enableDisable },
    { name: "comments", type: "string", default: "", maxLength: 1023 },
  ],
  validate(record) {
    if (typeof record.protocol === "number" && record.protocol > 255) {
      throw errors.invalidValue(String(record.protocol));
    }
  },
};

/** `config system settings` (one per VDOM): the attributes NAT depends on. */
export function defaultSettings(): FoRecord {
  return {
    opmode: "nat",
    "central-nat": "disable",
    "ngfw-mode": "profile-based",
    "inspection-mode": "flow",
    "allow-subnet-overlap": "disable",
  };
}

/** A PUT to system/settings: known attributes only, each checked. */
export function applySettings(current: FoRecord, input: FoRecord): FoRecord {
  const next = { ...current };
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(current, key)) continue;
    const allowed =
      key === "opmode"
        ? ["nat", "transparent"]
        : key === "ngfw-mode"
          ? ["profile-based", "policy-based"]
          : key === "inspection-mode"
            ? ["proxy", "flow"]
            : enableDisable;
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      throw errors.invalidValue(String(value));
    }
    next[key] = value;
  }
  return next;
}
