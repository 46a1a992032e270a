// The OPNsense MVC models the simulator serves and the field types they are made of (opnsense/core
// models/OPNsense/Base/FieldTypes: BooleanField, OptionField and the other BaseListFields,
// NetworkAliasField, PortField, IntegerField, TextField, DescriptionField): what a value may be, the
// validations `addRule`/`setRule` report as `{"result":"failed","validations":{"rule.<field>":...}}`, and
// how a stored value reads back (`get`/`getRule` option maps, `searchRule` rows). The filter rule itself
// is in filter-rule.ts, source NAT and 1:1 NAT in nat-models.ts; here the port forward (DNat.xml)
// model. Every stored value is a string; booleans are "0"/"1".
import { isIP } from "node:net";

export type OpRecord = Record<string, string>;

export interface FieldEnv {
  interfaces: readonly string[];
  /** Alias names (networks or ports). */
  aliases: readonly string[];
  /** Gateway names (`gateway`, `replyto`), from `interface gateways list`. */
  gateways?: readonly string[];
  schedules?: readonly string[];
  categories?: readonly string[];
  /** `divert-to` targets (26.1). */
  diverts?: readonly string[];
}

type Options = Readonly<Record<string, string>>;

export interface FieldSpec {
  /** Dotted for nested containers (DNat `destination.port`). */
  name: string;
  /**
   * option: OptionField and the other list fields (fixed or computed options); interface:
   * InterfaceField; network: NetworkAliasField; port: PortField; volatile: computed, never stored.
   */
  type:
    | "boolean"
    | "option"
    | "interface"
    | "network"
    | "port"
    | "text"
    | "integer"
    | "description"
    | "volatile";
  default?: string;
  required?: boolean;
  /** option: key → description, or computed from the appliance's state. */
  options?: Options | ((env: FieldEnv) => Options);
  /** Description of the empty choice a non-required single-choice list shows (default "None"). */
  blankDesc?: string;
  /** option/interface/network: several comma-separated values. */
  multiple?: boolean;
  /** port: ranges allowed (`1000-2000`, low below high). */
  ranges?: boolean;
  min?: number;
  max?: number;
  /** text: the model's Mask. */
  mask?: RegExp;
  message?: string;
}

export interface ModelSpec {
  /** Control kind and the API controller path. */
  kind: string;
  controller: string;
  /** Prefix of validation keys and of the request/response wrapper (`rule`). */
  wrapper: string;
  /** The description field (`description` on filter rules, `descr` on port forwards). */
  descriptionField: string;
  /** Which release's wording the list validations use (26.1: "Option [x] not in list."). */
  release?: "25.7" | "26.1";
  fields: readonly FieldSpec[];
  /** Cross-field checks (FilterRuleField::performValidation and friends). */
  validate?(record: OpRecord): Record<string, string>;
  /** Volatile fields computed from the record (filter rules: `sort_order`, `prio_group`). */
  volatile?(record: OpRecord): Record<string, string>;
}

export const PROTOCOLS_UPPER: Record<string, string> = {
  any: "any",
  TCP: "TCP",
  UDP: "UDP",
  "TCP/UDP": "TCP/UDP",
  ICMP: "ICMP",
  IPV6ICMP: "IPV6-ICMP",
  GRE: "GRE",
  ESP: "ESP",
  AH: "AH",
};
const PROTOCOLS_LOWER: Record<string, string> = Object.fromEntries(
  Object.entries(PROTOCOLS_UPPER).map(([key, value]) => [key.toLowerCase(), value]),
);

/**
 * ProtocolField: `any`, every protocol of FreeBSD's /etc/protocols with a number above 0 upper-cased
 * (IPv6 extension headers left out, pf cannot match them), plus `TCP/UDP`; sorted naturally, case
 * aside.
 */
export const PROTOCOL_OPTIONS: Options = Object.fromEntries(
  [
    "any",
    "TCP/UDP",
    ...`ICMP IGMP GGP IPENCAP ST2 TCP CBT EGP IGP BBN-RCC-MON NVP-II PUP ARGUS EMCON XNET CHAOS UDP MUX
DCN-MEAS HMP PRM XNS-IDP TRUNK-1 TRUNK-2 LEAF-1 LEAF-2 RDP IRTP ISO-TP4 NETBLT MFE-NSP MERIT-INP DCCP
3PC IDPR XTP DDP IDPR-CMTP TP++ IL IPV6 SDRP IDRP RSVP GRE DSR BNA ESP AH I-NLSP SWIPE NARP MOBILE TLSP
SKIP IPV6-ICMP CFTP SAT-EXPAK KRYPTOLAN RVD IPPC SAT-MON VISA IPCV CPNX CPHB WSN PVP BR-SAT-MON SUN-ND
WB-MON WB-EXPAK ISO-IP VMTP SECURE-VMTP VINES TTP NSFNET-IGP DGP TCF EIGRP OSPF SPRITE-RPC LARP MTP AX.25
IPIP MICP SCC-SP ETHERIP ENCAP GMTP IFMP PNNI PIM ARIS SCPS QNX A/N IPCOMP SNP COMPAQ-PEER IPX-IN-IP CARP
PGM L2TP DDX IATP STP SRP UTI SMP SM PTP ISIS FIRE CRTP CRUDP SSCOPMCE IPLT SPS PIPE SCTP FC RSVP-E2E-IGNORE
UDPLITE MPLS-IN-IP MANET HIP SHIM6 WESP ROHC PFSYNC DIVERT`.split(/\s+/),
  ]
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true, sensitivity: "base" }))
    .map((name) => [name, name]),
);

export const bool = (name: string, value: string): FieldSpec => ({
  name,
  type: "boolean",
  default: value,
  required: true,
});

export function portValidations(record: OpRecord, tcpUdp: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const protocol = record.protocol ?? "any";
  for (const [field, label] of [
    ["source_port", "Source"],
    ["destination_port", "Destination"],
    ["source.port", "Source"],
    ["destination.port", "Destination"],
  ] as const) {
    if ((record[field] ?? "") !== "" && !tcpUdp.includes(protocol)) {
      out[field] = `${label} ports are only valid for tcp or udp type rules.`;
    }
  }
  return out;
}

export const destinationNatRule: ModelSpec = {
  kind: "natRule",
  controller: "d_nat",
  wrapper: "rule",
  descriptionField: "descr",
  fields: [
    {
      name: "sequence",
      type: "integer",
      required: true,
      min: 1,
      max: 999999,
      message: "Sequence shall be between 1 and 999999.",
    },
    { name: "disabled", type: "boolean", default: "0" },
    { name: "nordr", type: "boolean", default: "0" },
    { name: "interface", type: "interface", multiple: true, default: "" },
    {
      name: "ipprotocol",
      type: "option",
      default: "",
      options: { inet: "IPv4", inet6: "IPv6", inet46: "IPv4+IPv6" },
    },
    { name: "protocol", type: "option", default: "", options: PROTOCOLS_LOWER },
    { name: "source.network", type: "network", default: "" },
    {
      name: "source.port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid port number, well-known name, alias or range.",
    },
    { name: "source.not", type: "boolean", default: "0" },
    { name: "destination.network", type: "network", default: "" },
    {
      name: "destination.port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid port number, well-known name, alias or range.",
    },
    { name: "destination.not", type: "boolean", default: "0" },
    { name: "target", type: "network", default: "" },
    {
      name: "local-port",
      type: "port",
      ranges: false,
      default: "",
      message: "Please specify a valid port number or alias.",
    },
    { name: "log", type: "boolean", default: "0" },
    { name: "categories", type: "text", default: "" },
    { name: "descr", type: "description", default: "" },
    { name: "nosync", type: "boolean", default: "0" },
    {
      name: "natreflection",
      type: "option",
      default: "",
      options: { purenat: "Enable", disable: "Disable" },
    },
    { name: "pass", type: "option", default: "", options: { rule: "Register rule", pass: "Pass" } },
  ],
  validate: (record) => {
    const out = portValidations(record, ["tcp", "udp", "tcp/udp"]);
    if (record.nordr !== "1" && (record.target ?? "") === "") out.target = "A target is required.";
    return out;
  },
};

/**
 * PortField's well-known service names. Its option list is `["any"] + $wellknownservices` (a PHP array
 * union), so `cvsup`, the list's first entry, loses its key to `any` and is not accepted.
 */
const WELL_KNOWN_PORTS = new Set(
  `any domain ftp hbci http https aol auth imap imaps ipsec-msft isakmp l2f ldap ms-streaming
afs3-fileserver microsoft-ds ms-wbt-server wins msnp nntp ntp netbios-dgm netbios-ns netbios-ssn openvpn
pop3 pop3s pptp radius radius-acct avt-profile-1 sip smtp igmpv3lite urd snmp snmptrap ssh nat-stun-port
submission teredo telnet tftp rfb`.split(/\s+/),
);

function portNumber(text: string): number | undefined {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined;
}

/** PortField: a port, a well-known name (any case), an alias or, with ranges, `low-high` (low < high). */
function validPort(value: string, ranges: boolean, aliases: readonly string[]): boolean {
  if (aliases.includes(value) || WELL_KNOWN_PORTS.has(value.trim().toLowerCase())) return true;
  if (portNumber(value) !== undefined) return true;
  const [low, high, extra] = value.split("-");
  const a = portNumber(low ?? "");
  const b = portNumber(high ?? "");
  return ranges && extra === undefined && a !== undefined && b !== undefined && a < b;
}

function isAddressOrSubnet(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** NetworkAliasField's option list: any, (self), each interface's net and address, non-port aliases. */
function networkOptions(env: FieldEnv): Set<string> {
  const out = new Set(["any", "(self)", ...env.aliases]);
  for (const name of env.interfaces) out.add(name).add(`${name}ip`);
  // Interface addresses of the WAN/LAN kind the DNat and source NAT models name.
  out.add("wanip").add("lanip");
  return out;
}

/**
 * NetworkAliasField: every comma-separated item must be in the option list; a single IP address or
 * subnet is added to the list first (only the whole value: several literal addresses are refused).
 */
function validNetwork(value: string, multiple: boolean, env: FieldEnv): boolean {
  if (isAddressOrSubnet(value)) return true;
  const options = networkOptions(env);
  const items = multiple ? value.split(",") : [value];
  return items.every((item) => options.has(item));
}

export function optionsOf(field: FieldSpec, env: FieldEnv): Options {
  if (field.type === "interface") {
    return Object.fromEntries(env.interfaces.map((name) => [name, name.toUpperCase()]));
  }
  const options = field.options ?? {};
  return typeof options === "function" ? options(env) : options;
}

/** BaseListField's message: "Option not in list." (25.7), "Option [%s] not in list." (26.1). */
function listMessage(field: FieldSpec, release: ModelSpec["release"], item: string): string {
  if (field.message !== undefined) return field.message;
  return release === "26.1" ? `Option [${item}] not in list.` : "Option not in list.";
}

/** One field's validation message for a value, or undefined. */
export function fieldProblem(
  field: FieldSpec,
  value: string,
  env: FieldEnv,
  release: ModelSpec["release"] = "25.7",
): string | undefined {
  if (field.type === "volatile") return undefined;
  if (value === "") return field.required ? "A value is required." : undefined;
  switch (field.type) {
    case "boolean":
      return value === "0" || value === "1" ? undefined : "Value should be a boolean (0,1).";
    case "option":
    case "interface": {
      const options = optionsOf(field, env);
      if (!field.multiple) return Object.hasOwn(options, value) ? undefined : listMessage(field, release, "");
      const bad = value.split(",").find((item) => !Object.hasOwn(options, item));
      return bad === undefined ? undefined : listMessage(field, release, bad);
    }
    case "integer": {
      const n = Number(value);
      const bad =
        !/^-?\d+$/.test(value) ||
        (field.min !== undefined && n < field.min) ||
        (field.max !== undefined && n > field.max);
      return bad ? (field.message ?? "Invalid integer value.") : undefined;
    }
    case "port":
      return validPort(value, field.ranges ?? false, env.aliases)
        ? undefined
        : (field.message ?? "Please specify a valid port number (1-65535).");
    case "network":
      return validNetwork(value, field.multiple ?? false, env)
        ? undefined
        : `${value} is not a valid source IP address or alias.`;
    case "description":
      // DescriptionField's `/^(.){1,255}$/` without the u flag: at most 255 bytes, no line break.
      return Buffer.byteLength(value) <= 255 && !/[\n]/.test(value)
        ? undefined
        : "Description should be a string between 1 and 255 characters.";
    case "text":
      return field.mask === undefined || field.mask.test(value)
        ? undefined
        : (field.message ?? "Text does not validate.");
  }
}

/** A JSON value as PHP's setNodes stores it: strings as is, booleans "1"/"0", numbers as text. */
export function toFieldString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") return String(value);
  if (value === null) return "";
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.join(",");
  return undefined;
}

/** Flattens `{"destination":{"port":"80"}}` into `{"destination.port":"80"}` for the model's fields. */
export function flattenInput(input: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const name = prefix === "" ? key : `${prefix}.${key}`;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      Object.assign(out, flattenInput(value as Record<string, unknown>, name));
    } else out[name] = value;
  }
  return out;
}

/** The record with defaults filled (the GUI and addRule start from them); volatile fields are not stored. */
export function withDefaults(model: ModelSpec, values: Record<string, string>): OpRecord {
  const out: OpRecord = {};
  for (const field of model.fields) {
    if (field.type !== "volatile") out[field.name] = values[field.name] ?? field.default ?? "";
  }
  return out;
}

/**
 * Applies `input` (the `rule` object of a request) onto `base` and validates the result: the record,
 * or the validation messages keyed `<wrapper>.<field>`. Unknown fields (and volatile ones) are ignored.
 */
export function applyInput(
  model: ModelSpec,
  base: OpRecord,
  input: Record<string, unknown>,
  env: FieldEnv,
): { record: OpRecord } | { validations: Record<string, string> } {
  const record = { ...base };
  const validations: Record<string, string> = {};
  const flat = flattenInput(input);
  for (const field of model.fields) {
    if (field.type === "volatile" || !Object.hasOwn(flat, field.name)) continue;
    const value = toFieldString(flat[field.name]);
    if (value === undefined) {
      validations[`${model.wrapper}.${field.name}`] = "Invalid value.";
      continue;
    }
    record[field.name] =
      field.type === "option" && field.options === PROTOCOLS_LOWER ? value.toLowerCase() : value;
    // PortField::setValue lower-cases well-known names.
    if (field.type === "port" && WELL_KNOWN_PORTS.has(value.trim().toLowerCase())) {
      record[field.name] = value.trim().toLowerCase();
    }
  }
  for (const field of model.fields) {
    const problem = fieldProblem(field, record[field.name] ?? "", env, model.release);
    if (problem !== undefined) validations[`${model.wrapper}.${field.name}`] ??= problem;
  }
  for (const [field, message] of Object.entries(model.validate?.(record) ?? {})) {
    validations[`${model.wrapper}.${field}`] ??= message;
  }
  return Object.keys(validations).length > 0 ? { validations } : { record };
}

type OptionMap = Record<string, { value: string; selected: number }>;

/**
 * BaseListField::getNodeOptions: a non-required single-choice list starts with the empty choice (its
 * blank description, "None" by default), then every option with `selected` 0/1. NetworkAliasField and
 * PortField read back as plain strings.
 */
function optionMap(field: FieldSpec, value: string, env: FieldEnv): OptionMap {
  const map: OptionMap = {};
  if (!field.required && !field.multiple) {
    map[""] = { value: field.blankDesc ?? "None", selected: value === "" ? 1 : 0 };
  }
  const selected = new Set(value.split(","));
  for (const [key, description] of Object.entries(optionsOf(field, env))) {
    map[key] = { value: description, selected: selected.has(key) ? 1 : 0 };
  }
  return map;
}

function isList(field: FieldSpec): boolean {
  return field.type === "option" || field.type === "interface";
}

/** The record's volatile fields merged in, in the model's order. */
function withVolatile(model: ModelSpec, record: OpRecord): OpRecord {
  const computed = model.volatile?.(record) ?? {};
  const out: OpRecord = {};
  for (const field of model.fields) {
    out[field.name] = field.type === "volatile" ? (computed[field.name] ?? "") : (record[field.name] ?? "");
  }
  return out;
}

/** `get`/`getRule`: list fields as `{key: {value, selected}}` maps, the rest as strings, nested by dots. */
export function present(model: ModelSpec, record: OpRecord, env: FieldEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const full = withVolatile(model, record);
  for (const field of model.fields) {
    const value = full[field.name] ?? "";
    setDotted(out, field.name, isList(field) ? optionMap(field, value, env) : value);
  }
  return out;
}

function setDotted(target: Record<string, unknown>, name: string, value: unknown): void {
  const parts = name.split(".");
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    current[part] = typeof next === "object" && next !== null ? next : {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts.at(-1) ?? name] = value;
}

/**
 * A `searchRule` row (BaseField::getNodeContent flattened): every field's raw value (dotted names for
 * nested ones), plus `%field` when the field's description differs: for list fields the descriptions of
 * the selected choices joined with ", " (the blank description when nothing is chosen).
 */
export function row(model: ModelSpec, uuid: string, record: OpRecord, env: FieldEnv): Record<string, string> {
  const out: Record<string, string> = { uuid };
  const full = withVolatile(model, record);
  for (const field of model.fields) {
    const value = full[field.name] ?? "";
    out[field.name] = value;
    if (!isList(field)) continue;
    const description = Object.values(optionMap(field, value, env))
      .filter((option) => option.selected === 1)
      .map((option) => option.value)
      .join(", ");
    if (description !== value) out[`%${field.name}`] = description;
  }
  return out;
}
