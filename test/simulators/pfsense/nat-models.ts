// pfSense-pkg-RESTAPI's outbound NAT and 1:1 NAT models (RESTAPI/Models/OutboundNATMapping.inc,
// OneToOneNATMapping.inc), field by field in the package's declaration order, with the address rules
// of their FilterAddressField / SpecialNetworkField options and the models' own validate_* methods.
import { isIP } from "node:net";
import { PfError } from "./envelope.ts";
import type { PfRecord, ValidationContext } from "./fields.ts";
import { port } from "./fields.ts";
import type { ModelSpec } from "./models.ts";

const ipProtocols = ["tcp", "udp", "tcp/udp", "icmp", "esp", "ah", "gre", "ipv6", "igmp", "pim", "ospf"];

/** What a FilterAddressField / SpecialNetworkField accepts (the package's `allow_*` options). */
interface NetworkOptions {
  ipaddr: boolean;
  subnet: boolean;
  alias: boolean;
  interface: boolean;
  interfaceIp: boolean;
  any: boolean;
  invert: boolean;
  self: boolean;
  /** SpecialNetworkField answers SPECIAL_NETWORK_FIELD_INVALID, FilterAddressField FILTER_ADDRESS_FIELD_INVALID. */
  special?: boolean;
}

function subnetFamily(value: string): 0 | 4 | 6 {
  const [address, prefix, extra] = value.split("/");
  if (extra !== undefined || address === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix))
    return 0;
  const family = isIP(address);
  const bits = Number(prefix);
  if (family === 4 && bits <= 32) return 4;
  if (family === 6 && bits <= 128) return 6;
  return 0;
}

function optionsText(options: NetworkOptions): string {
  const parts: string[] = [];
  if (options.interface) parts.push("an existing interface");
  if (options.ipaddr) parts.push("an IP address");
  if (options.subnet) parts.push("a subnet CIDR");
  if (options.alias) parts.push("an existing alias");
  if (options.any) parts.push("`any`");
  if (options.self) parts.push("`(self)`");
  return parts.join(", ");
}

function network(
  name: string,
  options: NetworkOptions,
): (value: unknown, context: ValidationContext) => void {
  return (raw, context) => {
    let value = String(raw);
    if (options.invert && value.startsWith("!")) value = value.slice(1);
    if (options.ipaddr && isIP(value) !== 0) return;
    if (options.subnet && subnetFamily(value) !== 0) return;
    if (options.alias && context.aliases.includes(value)) return;
    if (options.any && value === "any") return;
    if (options.self && value === "(self)") return;
    if (options.interfaceIp && value.endsWith(":ip") && context.interfaces.includes(value.slice(0, -3)))
      return;
    if (options.interface && context.interfaces.includes(value)) return;
    throw new PfError(
      400,
      options.special ? "SPECIAL_NETWORK_FIELD_INVALID" : "FILTER_ADDRESS_FIELD_INVALID",
      `Field \`${name}\` value \`${value}\` is invalid. Valid options are: ${optionsText(options)}`,
    );
  };
}

const outboundAddress = (name: string, invert: boolean, self: boolean) =>
  network(name, {
    ipaddr: false,
    subnet: true,
    alias: true,
    interface: true,
    interfaceIp: false,
    any: true,
    invert,
    self,
  });

export const outboundMapping: ModelSpec = {
  kind: "natOutbound",
  section: "outbound",
  subsystem: "natconf",
  singular: "/api/v2/firewall/nat/outbound/mapping",
  plural: "/api/v2/firewall/nat/outbound/mappings",
  tracker: false,
  manyMinimum: 0,
  fields: [
    { name: "interface", type: "string", required: true, choices: (c) => [...c.interfaces] },
    { name: "protocol", type: "string", default: null, allowNull: true, choices: ipProtocols },
    { name: "disabled", type: "boolean", default: false },
    { name: "nonat", type: "boolean", default: false },
    { name: "nosync", type: "boolean", default: false },
    { name: "source", type: "string", required: true, validate: outboundAddress("source", false, true) },
    {
      name: "source_port",
      type: "string",
      default: null,
      allowNull: true,
      validate: port("source_port", true),
    },
    {
      name: "destination",
      type: "string",
      required: true,
      validate: outboundAddress("destination", true, false),
    },
    {
      name: "destination_port",
      type: "string",
      default: null,
      allowNull: true,
      validate: port("destination_port", true),
    },
    {
      name: "target",
      type: "string",
      required: true,
      conditions: { nonat: false },
      validate: network("target", {
        ipaddr: true,
        subnet: false,
        alias: true,
        interface: false,
        interfaceIp: true,
        any: false,
        invert: false,
        self: false,
        special: true,
      }),
    },
    { name: "target_subnet", type: "integer", default: 128, conditions: { nonat: false } },
    // Also conditioned on static_nat_port false, a later field: applied in validate() below.
    {
      name: "nat_port",
      type: "string",
      default: "",
      allowEmpty: true,
      conditions: { nonat: false },
      validate: port("nat_port", true),
    },
    { name: "static_nat_port", type: "boolean", default: false, conditions: { nonat: false } },
    {
      name: "poolopts",
      type: "string",
      default: null,
      allowNull: true,
      conditions: { nonat: false },
      choices: [
        "round-robin",
        "round-robin sticky-address",
        "random",
        "random sticky-address",
        "source-hash",
        "bitmask",
      ],
    },
    { name: "descr", type: "string", default: "", allowEmpty: true },
    { name: "created_time", type: "integer", readOnly: true },
    { name: "created_by", type: "string", readOnly: true },
    { name: "updated_time", type: "integer", readOnly: true },
    { name: "updated_by", type: "string", readOnly: true },
  ],
  validate(object: PfRecord) {
    if (object.static_nat_port === true) object.nat_port = null;
    const target = String(object.target ?? "");
    // validate_target_subnet runs on the default (128) too: an IPv4 target needs an explicit value.
    if (typeof object.target_subnet === "number") {
      const bits = object.target_subnet;
      if (bits < 1 || bits > 128) {
        throw new PfError(
          400,
          "NUMERIC_RANGE_VALIDATOR_FAILED",
          "Field `target_subnet` must be a number between 1 and 128.",
        );
      }
      if (isIP(target) === 4 && bits > 32) {
        throw new PfError(
          400,
          "OUTBOUND_NAT_MAPPING_TARGET_SUBNET_TOO_LARGE_FOR_IPV4",
          "Field `target_subnet` must be 32 or less when `target` is an IPv4 address.",
        );
      }
      // Neither an IP address nor an alias (an interface address `wan:ip`): the package drops it.
      if (target.endsWith(":ip")) object.target_subnet = null;
    }
    if (typeof object.poolopts === "string" && target.endsWith(":ip")) {
      throw new PfError(
        400,
        "OUTBOUND_NAT_MAPPING_POOLOPTS_SET_WITHOUT_MULTI_HOST_TARGET",
        "Field `poolopts` cannot be set if `target` is not an IP address or alias.",
      );
    }
  },
};

export const oneToOneMapping: ModelSpec = {
  kind: "natOneToOne",
  section: "onetoone",
  subsystem: "natconf",
  singular: "/api/v2/firewall/nat/one_to_one/mapping",
  plural: "/api/v2/firewall/nat/one_to_one/mappings",
  tracker: false,
  manyMinimum: 0,
  fields: [
    { name: "interface", type: "string", required: true, choices: (c) => [...c.interfaces] },
    { name: "disabled", type: "boolean", default: false },
    { name: "nobinat", type: "boolean", default: false },
    { name: "natreflection", type: "string", default: null, allowNull: true, choices: ["enable", "disable"] },
    { name: "ipprotocol", type: "string", default: "inet", choices: ["inet", "inet6"] },
    {
      name: "external",
      type: "string",
      required: true,
      validate: network("external", {
        ipaddr: true,
        subnet: false,
        alias: false,
        interface: false,
        interfaceIp: true,
        any: false,
        invert: false,
        self: false,
        special: true,
      }),
    },
    {
      name: "source",
      type: "string",
      required: true,
      validate: network("source", {
        ipaddr: true,
        subnet: true,
        alias: false,
        interface: true,
        interfaceIp: true,
        any: true,
        invert: true,
        self: false,
      }),
    },
    {
      name: "destination",
      type: "string",
      required: true,
      validate: network("destination", {
        ipaddr: true,
        subnet: true,
        alias: true,
        interface: true,
        interfaceIp: true,
        any: true,
        invert: true,
        self: false,
      }),
    },
    { name: "descr", type: "string", default: "", allowEmpty: true },
  ],
  validate(object: PfRecord) {
    // validate_external / validate_source / validate_destination: addresses of the mapping's family.
    const wanted = object.ipprotocol === "inet6" ? 6 : 4;
    for (const field of ["external", "source", "destination"] as const) {
      const value = String(object[field] ?? "").replace(/^!/, "");
      const ip = isIP(value);
      const subnet = subnetFamily(value);
      const id = field === "destination" ? "destination" : field.toUpperCase();
      if (ip !== 0 && ip !== wanted) {
        throw new PfError(
          400,
          `ONE_TO_ONE_NAT_MAPPING_${id}_IP_DOES_NOT_MATCH_IPPROTOCOL`,
          `Field \`${field}\` is not an IP address of the IP family assigned in \`ipprotocol\`.`,
        );
      }
      if (subnet !== 0 && subnet !== wanted) {
        throw new PfError(
          400,
          `ONE_TO_ONE_NAT_MAPPING_${id}_SUBNET_DOES_NOT_MATCH_IPPROTOCOL`,
          `Field \`${field}\` is not an subnet of the IP family assigned in \`ipprotocol\`.`,
        );
      }
    }
  },
};

/** The outbound NAT mode (RESTAPI/Models/OutboundNATMode.inc); `automatic` on a fresh install. */
export const OUTBOUND_NAT_MODES = ["automatic", "hybrid", "advanced", "disabled"] as const;
