// Firewall aliases (RESTAPI/Models/FirewallAlias.inc, Endpoints/FirewallAlias(es)Endpoint.inc):
// `/api/v2/firewall/alias` (GET/POST/PATCH/DELETE by `id`) and `/api/v2/firewall/aliases` (GET with
// queries, PUT to replace all, DELETE by query). Subsystem `aliases` (pending until apply). Rules may name
// a host/network alias as an address and a port alias as a port.
import { isIP } from "node:net";
import { PfError } from "./envelope.ts";
import type { PfRecord, ValidationContext } from "./fields.ts";
import type { ModelSpec } from "./models.ts";

/** pfSense's is_validaliasname(): letters, digits and underscores, at most 31 characters. */
const ALIAS_NAME = /^[a-zA-Z0-9_]{1,31}$/;
/** get_pf_reserved(): names pf and pfSense keep for themselves. */
const RESERVED = new Set([
  "all",
  "pass",
  "block",
  "out",
  "queue",
  "max",
  "min",
  "pptp",
  "pppoe",
  "L2TP",
  "OpenVPN",
  "IPsec",
]);

function validationError(responseId: string, message: string): PfError {
  return new PfError(400, responseId, message);
}

function validName(raw: unknown): void {
  const name = String(raw);
  if (name.length > 31) {
    throw validationError(
      "LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT",
      "Field `name` exceeds the maximum character length of 31.",
    );
  }
  if (RESERVED.has(name)) {
    throw validationError(
      "FILTER_NAME_VALIDATOR_RESERVED_NAME_USED",
      `Field \`name\` cannot be \`${name}\` because it is a name reserved by the system.`,
    );
  }
  if (name.startsWith("pkg_")) {
    throw validationError(
      "FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG",
      `Field \`name\` cannot be \`${name}\` because it starts with \`pkg_\`.`,
    );
  }
  if (/^\d+$/.test(name)) {
    throw validationError(
      "FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL",
      `Field \`name\` cannot be \`${name}\` because it is entirely numerical.`,
    );
  }
  if (!ALIAS_NAME.test(name)) {
    throw validationError("INVALID_FIREWALL_ALIAS_NAME", `Invalid firewall alias name \`${name}\`.`);
  }
}

function isFqdn(value: string): boolean {
  return /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/.test(value);
}

function isSubnet(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  const family = isIP(address);
  return (
    family !== 0 &&
    extra === undefined &&
    prefix !== undefined &&
    /^\d{1,3}$/.test(prefix) &&
    Number(prefix) <= (family === 4 ? 32 : 128)
  );
}

function isPortOrRange(value: string): boolean {
  const ok = (p: string) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
  const [low = "", high, extra] = value.split(":");
  return extra === undefined && ok(low) && (high === undefined || ok(high));
}

/** validate_address(): what an entry may be depends on the alias `type`. */
function validAddress(raw: unknown, context: ValidationContext): void {
  const address = String(raw);
  const type = context.object.type;
  if (type === "port") {
    if (isPortOrRange(address) || (context.portAliases ?? []).includes(address)) return;
    throw validationError(
      "INVALID_PORT_ALIAS_ADDRESS",
      `Port alias \`address\` value \`${address}\` is not a valid port, range, or alias.`,
    );
  }
  const nested = context.aliases.includes(address);
  if (type === "host" && !(isIP(address) !== 0 || isFqdn(address) || nested)) {
    throw validationError(
      "INVALID_HOST_ALIAS_ADDRESS",
      `Host alias \`address\` value \`${address}\` is not a valid IP, FQDN, or alias.`,
    );
  }
  if (type === "network" && !(isSubnet(address) || isFqdn(address) || nested)) {
    throw validationError(
      "INVALID_NETWORK_ALIAS_ADDRESS",
      `Network alias \`address\` value \`${address}\` is not a valid CIDR, FQDN, or alias.`,
    );
  }
}

export const firewallAlias: ModelSpec = {
  kind: "alias",
  section: "aliases",
  subsystem: "aliases",
  singular: "/api/v2/firewall/alias",
  plural: "/api/v2/firewall/aliases",
  tracker: false,
  manyMinimum: 0,
  unique: ["name"],
  fields: [
    { name: "name", type: "string", required: true, editable: false, validate: validName },
    { name: "type", type: "string", required: true, choices: ["host", "network", "port"] },
    { name: "descr", type: "string", default: "", allowEmpty: true },
    { name: "address", type: "string", many: true, default: [], allowEmpty: true, validate: validAddress },
    { name: "detail", type: "string", many: true, default: [], allowEmpty: true },
  ],
  validate(object: PfRecord, now?: Date) {
    const address = object.address as string[];
    const detail = [...(object.detail as string[])];
    if (detail.length > address.length) {
      throw validationError(
        "TOO_MANY_ALIAS_DETAILS",
        "Aliases cannot contain more `detail` items than `address` items.",
      );
    }
    // validate_detail(): missing descriptions are generated.
    const stamp = (now ?? new Date()).toUTCString().replace("GMT", "+0000");
    while (detail.length < address.length) detail.push(`Entry added ${stamp}`);
    object.detail = detail;
  },
};

/** Alias names by what rules may use them for. */
export function aliasNames(aliases: readonly PfRecord[]): { addresses: string[]; ports: string[] } {
  const addresses: string[] = [];
  const ports: string[] = [];
  for (const alias of aliases) (alias.type === "port" ? ports : addresses).push(String(alias.name));
  return { addresses, ports };
}

/** Field::check_field_unique(): another object already has this value. */
export function checkUnique(
  model: ModelSpec,
  records: readonly PfRecord[],
  record: PfRecord,
  self?: number,
): void {
  for (const field of model.unique ?? []) {
    const other = records.findIndex(
      (candidate, index) => index !== self && candidate[field] === record[field],
    );
    if (other >= 0) {
      throw validationError(
        "FIELD_MUST_BE_UNIQUE",
        `Field \`${field}\` must be unique. Value is in use by object with ID \`${other}\`.`,
      );
    }
  }
}
