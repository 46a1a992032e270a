// The OPNsense MVC models the simulator serves (opnsense/core models/OPNsense/Firewall/Filter.xml
// `rules.rule` and `snatrules.rule`, DNat.xml `rule`): field types, defaults, option lists and the
// validations `addRule`/`setRule` report as `{"result":"failed","validations":{"rule.<field>":...}}`.
// Every stored value is a string; booleans are "0"/"1".
import { isIP } from "node:net";

export type OpRecord = Record<string, string>;

export interface FieldEnv {
  interfaces: readonly string[];
  aliases: readonly string[];
}

export interface FieldSpec {
  /** Dotted for nested containers (DNat `destination.port`). */
  name: string;
  type: "boolean" | "option" | "interface" | "network" | "port" | "text" | "integer" | "description";
  default?: string;
  required?: boolean;
  /** option: key → description. */
  options?: Readonly<Record<string, string>>;
  /** option/interface: several comma-separated values. */
  multiple?: boolean;
  /** port: ranges allowed (`1000-2000` or `1000:2000`). */
  ranges?: boolean;
  min?: number;
  max?: number;
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
  fields: readonly FieldSpec[];
  /** Cross-field checks (FilterRuleField::performValidation and friends). */
  validate?(record: OpRecord): Record<string, string>;
}

const PROTOCOLS_UPPER: Record<string, string> = {
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

const bool = (name: string, value: string): FieldSpec => ({
  name,
  type: "boolean",
  default: value,
  required: true,
});

function portValidations(record: OpRecord, tcpUdp: readonly string[]): Record<string, string> {
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

export const filterRule: ModelSpec = {
  kind: "firewallRule",
  controller: "filter",
  wrapper: "rule",
  descriptionField: "description",
  fields: [
    bool("enabled", "1"),
    {
      name: "statetype",
      type: "option",
      default: "keep",
      required: true,
      options: {
        keep: "keep state",
        sloppy: "sloppy state",
        modulate: "modulate state",
        synproxy: "synproxy state",
        none: "no state",
      },
    },
    {
      name: "sequence",
      type: "integer",
      default: "1",
      required: true,
      min: 1,
      max: 999999,
      message: "Sequence shall be between 1 and 999999.",
    },
    {
      name: "action",
      type: "option",
      default: "pass",
      required: true,
      options: { pass: "Pass", block: "Block", reject: "Reject" },
    },
    bool("quick", "1"),
    bool("interfacenot", "0"),
    { name: "interface", type: "interface", multiple: true, default: "" },
    {
      name: "direction",
      type: "option",
      default: "in",
      required: true,
      options: { in: "In", out: "Out", any: "Both" },
    },
    {
      name: "ipprotocol",
      type: "option",
      default: "inet",
      required: true,
      options: { inet: "IPv4", inet6: "IPv6", inet46: "any" },
    },
    { name: "protocol", type: "option", default: "any", required: true, options: PROTOCOLS_UPPER },
    { name: "source_net", type: "network", default: "any", required: true, multiple: true },
    bool("source_not", "0"),
    {
      name: "source_port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid portnumber, name, alias or range.",
    },
    { name: "destination_net", type: "network", default: "any", required: true, multiple: true },
    bool("destination_not", "0"),
    {
      name: "destination_port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid portnumber, name, alias or range.",
    },
    { name: "gateway", type: "text", default: "" },
    bool("log", "0"),
    { name: "categories", type: "text", default: "" },
    { name: "description", type: "description", default: "" },
  ],
  validate: (record) => portValidations(record, ["TCP", "UDP", "TCP/UDP"]),
};

export const sourceNatRule: ModelSpec = {
  kind: "snatRule",
  controller: "source_nat",
  wrapper: "rule",
  descriptionField: "description",
  fields: [
    bool("enabled", "1"),
    bool("nonat", "0"),
    {
      name: "sequence",
      type: "integer",
      default: "1",
      required: true,
      min: 1,
      max: 999999,
      message: "Sequence shall be between 1 and 999999.",
    },
    { name: "interface", type: "interface", default: "lan", required: true },
    {
      name: "ipprotocol",
      type: "option",
      default: "inet",
      required: true,
      options: { inet: "IPv4", inet6: "IPv6" },
    },
    { name: "protocol", type: "option", default: "any", required: true, options: PROTOCOLS_UPPER },
    { name: "source_net", type: "network", default: "any", required: true },
    bool("source_not", "0"),
    {
      name: "source_port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid portnumber, name, alias or range.",
    },
    { name: "destination_net", type: "network", default: "any", required: true },
    bool("destination_not", "0"),
    {
      name: "destination_port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid portnumber, name, alias or range.",
    },
    { name: "target", type: "network", default: "wanip", required: true },
    { name: "target_port", type: "port", ranges: true, default: "" },
    { name: "staticnatport", type: "boolean", default: "0" },
    bool("log", "0"),
    { name: "categories", type: "text", default: "" },
    { name: "description", type: "description", default: "" },
  ],
  validate: (record) => portValidations(record, ["TCP", "UDP", "TCP/UDP"]),
};

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

export const models: readonly ModelSpec[] = [filterRule, destinationNatRule, sourceNatRule];

const WELL_KNOWN_PORTS = [
  "http",
  "https",
  "ssh",
  "domain",
  "ntp",
  "smtp",
  "snmp",
  "telnet",
  "ftp",
  "imap",
  "pop3",
];

function validPort(value: string, ranges: boolean, aliases: readonly string[]): boolean {
  if (aliases.includes(value) || WELL_KNOWN_PORTS.includes(value)) return true;
  const ok = (p: string) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
  const parts = value.split(/[-:]/);
  if (parts.length === 1) return ok(value);
  return ranges && parts.length === 2 && ok(parts[0] ?? "") && ok(parts[1] ?? "");
}

function validNetwork(value: string, env: FieldEnv): boolean {
  if (value === "any" || value === "(self)" || env.aliases.includes(value)) return true;
  if (env.interfaces.some((name) => value === name || value === `${name}ip`)) return true;
  if (value === "wanip" || value === "lanip") return true;
  const [address = "", prefix, extra] = value.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** One field's validation message for a value, or undefined. */
export function fieldProblem(field: FieldSpec, value: string, env: FieldEnv): string | undefined {
  if (value === "") return field.required ? "A value is required." : undefined;
  switch (field.type) {
    case "boolean":
      return value === "0" || value === "1" ? undefined : "Value should be a boolean (0,1).";
    case "option": {
      const values = field.multiple ? value.split(",") : [value];
      return values.every((v) => Object.hasOwn(field.options ?? {}, v)) ? undefined : "Option not in list.";
    }
    case "interface": {
      const values = field.multiple ? value.split(",") : [value];
      return values.every((v) => env.interfaces.includes(v)) ? undefined : "Option not in list.";
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
        : (field.message ?? "Invalid port.");
    case "network": {
      const values = field.multiple ? value.split(",") : [value];
      const bad = values.find((v) => !validNetwork(v, env));
      return bad === undefined ? undefined : `${bad} is not a valid source IP address or alias.`;
    }
    case "description":
      // DescriptionField's mask /^(.){0,255}$/u: at most 255 characters, no line breaks.
      return /^.{0,255}$/u.test(value)
        ? undefined
        : "Description should be a string between 1 and 255 characters.";
    case "text":
      return undefined;
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

/** The record with defaults filled (the GUI and addRule start from them). */
export function withDefaults(model: ModelSpec, values: Record<string, string>): OpRecord {
  const out: OpRecord = {};
  for (const field of model.fields) out[field.name] = values[field.name] ?? field.default ?? "";
  return out;
}

/**
 * Applies `input` (the `rule` object of a request) onto `base` and validates the result: the record,
 * or the validation messages keyed `<wrapper>.<field>`.
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
    if (!Object.hasOwn(flat, field.name)) continue;
    const value = toFieldString(flat[field.name]);
    if (value === undefined) {
      validations[`${model.wrapper}.${field.name}`] = "Invalid value.";
      continue;
    }
    record[field.name] =
      field.type === "option" && field.options === PROTOCOLS_LOWER ? value.toLowerCase() : value;
  }
  for (const field of model.fields) {
    const problem = fieldProblem(field, record[field.name] ?? "", env);
    if (problem !== undefined) validations[`${model.wrapper}.${field.name}`] ??= problem;
  }
  for (const [field, message] of Object.entries(model.validate?.(record) ?? {})) {
    validations[`${model.wrapper}.${field}`] ??= message;
  }
  return Object.keys(validations).length > 0 ? { validations } : { record };
}

/** `getRule`: option fields as `{key: {value, selected}}` maps, the rest as strings, nested by dots. */
export function present(model: ModelSpec, record: OpRecord, env: FieldEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of model.fields) {
    const value = record[field.name] ?? "";
    let shown: unknown = value;
    if (field.type === "option" || field.type === "interface") {
      const options =
        field.type === "interface"
          ? Object.fromEntries(env.interfaces.map((name) => [name, name.toUpperCase()]))
          : (field.options ?? {});
      const selected = new Set(value.split(","));
      const map: Record<string, { value: string; selected: number }> = {};
      if (!field.required) map[""] = { value: "none", selected: value === "" ? 1 : 0 };
      for (const [key, description] of Object.entries(options)) {
        map[key] = { value: description, selected: selected.has(key) ? 1 : 0 };
      }
      shown = map;
    }
    setDotted(out, field.name, shown);
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

/** A `searchRule` row: raw values (dotted names flat) plus `%field` descriptions for option fields. */
export function row(model: ModelSpec, uuid: string, record: OpRecord, env: FieldEnv): Record<string, string> {
  const out: Record<string, string> = { uuid };
  for (const field of model.fields) {
    const value = record[field.name] ?? "";
    out[field.name] = value;
    if (field.type === "option") {
      out[`%${field.name}`] = value
        .split(",")
        .map((v) => field.options?.[v] ?? v)
        .join(",");
    } else if (field.type === "interface") {
      out[`%${field.name}`] = value
        .split(",")
        .filter((v) => v !== "" && env.interfaces.includes(v))
        .map((v) => v.toUpperCase())
        .join(",");
    }
  }
  return out;
}
