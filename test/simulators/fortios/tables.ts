// The CMDB tables the simulator serves (firewall policy, vip, address here; custom services, IP pools
// and the central SNAT map in nat-tables.ts; the list in catalog.ts), with the attribute subset a
// firewall operator uses, FortiOS defaults, and the checks the CLI layer applies: option values, string
// lengths, references to other objects (interfaces, addresses, VIPs, services, IP pools, schedules),
// required attributes on create. Member lists are stored as FortiOS returns them:
// [{"name":x,"q_origin_key":x}].
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { errors } from "./envelope.ts";

export type FoRecord = Record<string, unknown>;
export type TableName = "policy" | "vip" | "address" | "service" | "ippool" | "snat";

export interface VdomTables {
  policy: FoRecord[];
  vip: FoRecord[];
  address: FoRecord[];
  /** firewall.service/custom */
  service: FoRecord[];
  ippool: FoRecord[];
  /** firewall/central-snat-map */
  snat: FoRecord[];
}

export interface Environment {
  interfaces: readonly string[];
  services: readonly string[];
  schedules: readonly string[];
}

export type AttrType =
  | "string"
  | "integer"
  | "option"
  | "members"
  | "ipv4"
  | "extip"
  | "subnet"
  | "portrange"
  | "ranges"
  | "servicerange"
  | "srcfilter";

export interface AttrSpec {
  name: string;
  type: AttrType;
  default: unknown;
  options?: readonly string[];
  maxLength?: number;
  /** Member or string reference: the names it may point to. */
  references?: (tables: VdomTables, env: Environment) => readonly string[];
  /** Attribute that must be set on create. */
  required?: boolean | ((record: FoRecord) => boolean);
}

export interface TableSpec {
  name: TableName;
  /** The CMDB path and name under /api/v2/cmdb/ (`firewall/policy`, `firewall.service/custom`). */
  route: string;
  mkey: "policyid" | "name";
  attributes: AttrSpec[];
  /** Attributes that must be unique among entries when non-empty (policy name). */
  unique: string[];
  /** Objects that exist on a factory-fresh FortiGate. */
  builtins: () => FoRecord[];
  /** Cross-attribute checks on the complete entry (after every attribute is valid). */
  validate?(record: FoRecord): void;
}

export const enableDisable = ["enable", "disable"] as const;

export const addressNames = (tables: VdomTables) => tables.address.map((a) => String(a.name));
export const interfaceNames = (_: VdomTables, env: Environment) => [...env.interfaces, "any"];

export const policyTable: TableSpec = {
  name: "policy",
  route: "firewall/policy",
  mkey: "policyid",
  unique: ["name"],
  builtins: () => [],
  attributes: [
    { name: "policyid", type: "integer", default: 0 },
    { name: "name", type: "string", default: "", maxLength: 35 },
    { name: "uuid", type: "string", default: "" },
    { name: "status", type: "option", default: "enable", options: enableDisable },
    { name: "srcintf", type: "members", default: [], references: interfaceNames, required: true },
    { name: "dstintf", type: "members", default: [], references: interfaceNames, required: true },
    { name: "action", type: "option", default: "deny", options: ["accept", "deny", "ipsec"] },
    {
      name: "srcaddr",
      type: "members",
      default: [],
      references: addressNames,
      required: (record) => !hasMembers(record.srcaddr6),
    },
    {
      name: "dstaddr",
      type: "members",
      default: [],
      references: (tables) => [...addressNames(tables), ...tables.vip.map((v) => String(v.name))],
      required: (record) => !hasMembers(record.dstaddr6),
    },
    { name: "srcaddr6", type: "members", default: [], references: () => ["all"] },
    { name: "dstaddr6", type: "members", default: [], references: () => ["all"] },
    {
      name: "service",
      type: "members",
      default: [],
      references: (tables, env) => [...env.services, ...tables.service.map((c) => String(c.name))],
      required: true,
    },
    { name: "schedule", type: "string", default: "", references: (_, env) => env.schedules, required: true },
    { name: "nat", type: "option", default: "disable", options: enableDisable },
    { name: "ippool", type: "option", default: "disable", options: enableDisable },
    {
      name: "poolname",
      type: "members",
      default: [],
      references: (tables) => tables.ippool.map((p) => String(p.name)),
    },
    { name: "send-deny-packet", type: "option", default: "disable", options: enableDisable },
    { name: "logtraffic", type: "option", default: "utm", options: ["all", "utm", "disable"] },
    { name: "logtraffic-start", type: "option", default: "disable", options: enableDisable },
    { name: "match-vip", type: "option", default: "enable", options: enableDisable },
    { name: "inspection-mode", type: "option", default: "flow", options: ["proxy", "flow"] },
    { name: "comments", type: "string", default: "", maxLength: 1023 },
  ],
};

export const vipTable: TableSpec = {
  name: "vip",
  route: "firewall/vip",
  mkey: "name",
  unique: [],
  builtins: () => [],
  attributes: [
    { name: "name", type: "string", default: "", maxLength: 79, required: true },
    { name: "id", type: "integer", default: 0 },
    { name: "uuid", type: "string", default: "" },
    { name: "comment", type: "string", default: "", maxLength: 255 },
    {
      name: "type",
      type: "option",
      default: "static-nat",
      options: [
        "static-nat",
        "load-balance",
        "server-load-balance",
        "dns-translation",
        "fqdn",
        "access-proxy",
      ],
    },
    { name: "src-filter", type: "srcfilter", default: [] },
    { name: "extip", type: "extip", default: "0.0.0.0", required: true },
    { name: "mappedip", type: "ranges", default: [], required: true },
    { name: "extintf", type: "string", default: "any", references: interfaceNames },
    { name: "arp-reply", type: "option", default: "enable", options: enableDisable },
    { name: "nat-source-vip", type: "option", default: "disable", options: enableDisable },
    { name: "portforward", type: "option", default: "disable", options: enableDisable },
    { name: "status", type: "option", default: "enable", options: enableDisable },
    { name: "protocol", type: "option", default: "tcp", options: ["tcp", "udp", "sctp", "icmp"] },
    {
      name: "extport",
      type: "portrange",
      default: "",
      required: (record) => record.portforward === "enable",
    },
    {
      name: "mappedport",
      type: "portrange",
      default: "",
      required: (record) => record.portforward === "enable",
    },
  ],
};

/** How many addresses an IPv4 range (`a-b`) or address covers. */
function rangeSize(range: string): number {
  const toNumber = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
  const [first = "", last = first] = range.split("-");
  return toNumber(last) - toNumber(first) + 1;
}

vipTable.validate = (record) => {
  // A static NAT of an external range maps it onto a mapped range of the same size (simulator wording:
  // the value error FortiOS gives for any bad value).
  const mapped = (record.mappedip as FoRecord[] | undefined)?.[0]?.range;
  const extip = record.extip;
  if (record.portforward !== "enable" && typeof mapped === "string" && typeof extip === "string") {
    if (mapped.includes("-") && extip.includes("-") && rangeSize(mapped) !== rangeSize(extip)) {
      throw errors.invalidValue(mapped);
    }
  }
};

export const addressTable: TableSpec = {
  name: "address",
  route: "firewall/address",
  mkey: "name",
  unique: [],
  builtins: () => [
    builtinAddress("all", "0.0.0.0 0.0.0.0"),
    builtinAddress("none", "0.0.0.0 255.255.255.255"),
  ],
  attributes: [
    { name: "name", type: "string", default: "", maxLength: 79, required: true },
    { name: "uuid", type: "string", default: "" },
    {
      name: "type",
      type: "option",
      default: "ipmask",
      options: ["ipmask", "iprange", "fqdn", "geography", "wildcard", "dynamic", "interface-subnet", "mac"],
    },
    { name: "subnet", type: "subnet", default: "0.0.0.0 0.0.0.0" },
    { name: "start-ip", type: "ipv4", default: "0.0.0.0" },
    { name: "end-ip", type: "ipv4", default: "0.0.0.0" },
    { name: "fqdn", type: "string", default: "", maxLength: 255 },
    {
      name: "associated-interface",
      type: "string",
      default: "",
      references: (_, env) => ["", ...env.interfaces],
    },
    { name: "comment", type: "string", default: "", maxLength: 255 },
  ],
};

function builtinAddress(name: string, subnet: string): FoRecord {
  return {
    name,
    q_origin_key: name,
    uuid: randomUUID(),
    type: "ipmask",
    subnet,
    "start-ip": "0.0.0.0",
    "end-ip": "0.0.0.0",
    fqdn: "",
    "associated-interface": "",
    comment: "",
  };
}

function hasMembers(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

// ---- value checks ----

export function isPortRange(value: string): boolean {
  const parts = value.split("-");
  if (parts.length > 2) return false;
  return parts.every((part) => /^\d{1,5}$/.test(part) && Number(part) <= 65535);
}

export function isIpv4Range(value: string): boolean {
  const parts = value.split("-");
  return parts.length <= 2 && parts.every((part) => isIP(part) === 4);
}

const masks = Array.from({ length: 33 }, (_, bits) => {
  const value = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
});

/** `10.0.0.0/24` or `10.0.0.0 255.255.255.0` -> FortiOS's stored `10.0.0.0 255.255.255.0`. */
export function normaliseSubnet(value: string): string | undefined {
  const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(value);
  if (cidr) {
    const [, ip, bits] = cidr;
    if (ip === undefined || isIP(ip) !== 4 || Number(bits) > 32) return undefined;
    return `${ip} ${masks[Number(bits)]}`;
  }
  const pair = /^([\d.]+)\s+([\d.]+)$/.exec(value);
  if (pair) {
    const [, ip, mask] = pair;
    if (ip === undefined || mask === undefined || isIP(ip) !== 4 || !masks.includes(mask)) return undefined;
    return `${ip} ${mask}`;
  }
  if (isIP(value) === 4) return `${value} 255.255.255.255`;
  return undefined;
}

export function normaliseMembers(value: unknown, key: string): FoRecord[] {
  if (!Array.isArray(value)) throw errors.invalidValue(JSON.stringify(value));
  return value.map((member) => {
    const name = typeof member === "object" && member !== null ? (member as FoRecord)[key] : undefined;
    if (typeof name !== "string" || name === "") throw errors.invalidValue(JSON.stringify(member));
    return { [key]: name, q_origin_key: name };
  });
}

/** Checks and normalises one attribute value as received in a request body. */
function normaliseValue(attr: AttrSpec, value: unknown, tables: VdomTables, env: Environment): unknown {
  switch (attr.type) {
    case "integer": {
      const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof number !== "number" || !Number.isInteger(number) || number < 0 || number > 4294967294) {
        throw errors.invalidValue(String(value));
      }
      return number;
    }
    case "string": {
      if (typeof value !== "string") throw errors.invalidValue(JSON.stringify(value));
      if (attr.maxLength !== undefined && value.length > attr.maxLength)
        throw errors.tooLong(attr.name, attr.maxLength);
      if (attr.references && value !== "" && !attr.references(tables, env).includes(value)) {
        throw errors.badReference(attr.name, value);
      }
      return value;
    }
    case "option":
      if (typeof value !== "string" || !attr.options?.includes(value))
        throw errors.invalidValue(String(value));
      return value;
    case "members": {
      const members = normaliseMembers(value, "name");
      const allowed = attr.references?.(tables, env) ?? [];
      for (const member of members) {
        if (!allowed.includes(member.name as string))
          throw errors.badReference(attr.name, member.name as string);
      }
      return members;
    }
    case "ranges": {
      const members = normaliseMembers(value, "range");
      for (const member of members)
        if (!isIpv4Range(member.range as string)) throw errors.invalidValue(member.range as string);
      return members;
    }
    case "ipv4":
      if (typeof value !== "string" || isIP(value) !== 4) throw errors.invalidValue(String(value));
      return value;
    case "extip":
      if (typeof value !== "string" || !isIpv4Range(value)) throw errors.invalidValue(String(value));
      return value;
    case "subnet": {
      const normalised = typeof value === "string" ? normaliseSubnet(value.trim()) : undefined;
      if (normalised === undefined) throw errors.invalidValue(String(value));
      return normalised;
    }
    case "portrange":
      if (typeof value !== "string" || (value !== "" && !isPortRange(value)))
        throw errors.invalidValue(String(value));
      return value;
    case "servicerange":
      // Space-separated `dstlow[-dsthigh][:srclow[-srchigh]]` entries (custom service port ranges).
      if (typeof value !== "string" || (value !== "" && !value.split(/\s+/).every(isServiceRange)))
        throw errors.invalidValue(String(value));
      return value;
    case "srcfilter": {
      // Source address filters: `x.x.x.x/n` or `x.x.x.x-y.y.y.y`, stored as [{range}].
      const members = normaliseMembers(value, "range");
      for (const member of members) {
        const range = member.range as string;
        if (!isIpv4Range(range) && normaliseSubnet(range) === undefined) throw errors.invalidValue(range);
      }
      return members;
    }
  }
}

function isServiceRange(entry: string): boolean {
  const [destination = "", source, extra] = entry.split(":");
  return extra === undefined && isPortRange(destination) && (source === undefined || isPortRange(source));
}

function isRequired(attr: AttrSpec, record: FoRecord): boolean {
  return typeof attr.required === "function" ? attr.required(record) : attr.required === true;
}

/**
 * The entry a POST (existing undefined) or PUT (existing = stored entry) produces. Unknown attributes
 * are ignored, not stored; the mkey of an existing entry never changes through the body.
 */
export function buildRecord(
  table: TableSpec,
  input: FoRecord,
  existing: FoRecord | undefined,
  tables: VdomTables,
  env: Environment,
): FoRecord {
  const record: FoRecord = existing ? structuredClone(existing) : defaults(table);
  for (const attr of table.attributes) {
    if (!Object.hasOwn(input, attr.name)) continue;
    if (existing && attr.name === table.mkey) continue;
    record[attr.name] = normaliseValue(attr, input[attr.name], tables, env);
  }
  if (!existing) {
    for (const attr of table.attributes) {
      const value = record[attr.name];
      const empty = value === "" || (Array.isArray(value) && value.length === 0);
      if (isRequired(attr, record) && empty) throw errors.missing(attr.name);
    }
  }
  table.validate?.(record);
  if (record.uuid === "" || record.uuid === undefined) record.uuid = randomUUID();
  return record;
}

export function defaults(table: TableSpec): FoRecord {
  const record: FoRecord = {};
  for (const attr of table.attributes) record[attr.name] = structuredClone(attr.default);
  return record;
}

/** Lenient: how the control API stores an object (GUI edits): members may be plain names. */
export function lenientRecord(table: TableSpec, input: FoRecord, existing: FoRecord | undefined): FoRecord {
  const record: FoRecord = existing ? structuredClone(existing) : defaults(table);
  for (const attr of table.attributes) {
    if (!Object.hasOwn(input, attr.name)) continue;
    const value = input[attr.name];
    if (
      (attr.type === "members" || attr.type === "ranges" || attr.type === "srcfilter") &&
      Array.isArray(value)
    ) {
      const key = attr.type === "members" ? "name" : "range";
      record[attr.name] = value.map((member) => {
        const name = typeof member === "string" ? member : String((member as FoRecord)[key]);
        return { [key]: name, q_origin_key: name };
      });
    } else {
      record[attr.name] = value;
    }
  }
  if (record.uuid === "" || record.uuid === undefined) record.uuid = randomUUID();
  return record;
}

/** Puts `q_origin_key` right after the mkey, as FortiOS lists entries. */
export function present(table: TableSpec, record: FoRecord): FoRecord {
  const { [table.mkey]: mkey, ...rest } = record;
  delete rest.q_origin_key;
  return { [table.mkey]: mkey, q_origin_key: mkey, ...rest };
}

/** The (table, attributes) pairs whose members name objects of each table. */
const REFERENCES: Partial<Record<TableName, [keyof VdomTables, string[]][]>> = {
  address: [
    ["policy", ["srcaddr", "dstaddr"]],
    ["snat", ["orig-addr", "dst-addr"]],
  ],
  vip: [["policy", ["dstaddr"]]],
  service: [["policy", ["service"]]],
  ippool: [
    ["policy", ["poolname"]],
    ["snat", ["nat-ippool"]],
  ],
};

/** Is `name` (an object of `table`) used by another object of this vdom? Used ones cannot be deleted. */
export function isReferenced(tables: VdomTables, table: TableName, name: string): boolean {
  return (REFERENCES[table] ?? []).some(([from, attributes]) =>
    tables[from].some((record) =>
      attributes.some((attr) =>
        (record[attr] as FoRecord[] | undefined)?.some((member) => member.name === name),
      ),
    ),
  );
}
