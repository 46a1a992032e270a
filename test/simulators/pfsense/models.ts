// The pfSense-pkg-RESTAPI models the simulator serves, field by field in the package's declaration order
// (RESTAPI/Models/FirewallRule.inc, PortForward.inc; the outbound and 1:1 NAT models are in nat-models.ts,
// aliases in aliases.ts).
import { firewallAlias } from "./aliases.ts";
import { PfError } from "./envelope.ts";
import { type FieldSpec, filterAddress, foreignReference, ipAddress, type PfRecord, port } from "./fields.ts";
import { oneToOneMapping, outboundMapping } from "./nat-models.ts";

export type Subsystem = "filter" | "natconf" | "aliases";
export type ConfigSection = "filter" | "nat" | "outbound" | "onetoone" | "aliases";

export interface ModelSpec {
  /** Control API kind. */
  kind: string;
  section: ConfigSection;
  subsystem: Subsystem;
  singular: string;
  plural: string;
  fields: FieldSpec[];
  /** Filter rules get a stable integer `tracker` on create. */
  tracker: boolean;
  /** Objects are re-sorted by this field after every write (port forwards: by interface), shifting ids. */
  sortBy?: string;
  /** The package refuses to delete below this many objects. */
  manyMinimum: number;
  /** Fields whose value no other object of the model may have (`unique: true`). */
  unique?: readonly string[];
  /** Cross-field checks after the fields are valid (may complete the object, e.g. alias details). */
  validate?(object: PfRecord, now?: Date): void;
}

const ipProtocols = ["tcp", "udp", "tcp/udp", "icmp", "esp", "ah", "gre", "ipv6", "igmp", "pim", "ospf"];
const portProtocols = ["tcp", "udp", "tcp/udp"];

const audit: FieldSpec[] = [
  { name: "created_time", type: "integer", readOnly: true, editable: false },
  { name: "created_by", type: "string", readOnly: true, editable: false },
  { name: "updated_time", type: "integer", readOnly: true },
  { name: "updated_by", type: "string", readOnly: true },
];

const ruleInterfaces = (context: { interfaces: readonly string[] }) => [
  ...context.interfaces,
  "enc0",
  "openvpn",
];

export const firewallRule: ModelSpec = {
  kind: "firewallRule",
  section: "filter",
  subsystem: "filter",
  singular: "/api/v2/firewall/rule",
  plural: "/api/v2/firewall/rules",
  tracker: true,
  manyMinimum: 1,
  fields: [
    { name: "type", type: "string", required: true, choices: ["pass", "block", "reject"] },
    { name: "interface", type: "string", required: true, many: true, choices: ruleInterfaces },
    { name: "ipprotocol", type: "string", required: true, choices: ["inet", "inet6", "inet46"] },
    {
      name: "protocol",
      type: "string",
      default: null,
      allowNull: true,
      choices: [...ipProtocols, "carp", "pfsync"],
    },
    {
      name: "icmptype",
      type: "string",
      many: true,
      default: ["any"],
      conditions: { protocol: "icmp" },
      choices: [
        "any",
        "echorep",
        "echoreq",
        "paramprob",
        "redir",
        "routeradv",
        "routersol",
        "timex",
        "unreach",
      ],
    },
    { name: "source", type: "string", required: true, validate: filterAddress("source") },
    {
      name: "source_port",
      type: "string",
      default: null,
      allowNull: true,
      conditions: { protocol: portProtocols },
      validate: port("source_port", true),
    },
    { name: "destination", type: "string", required: true, validate: filterAddress("destination") },
    {
      name: "destination_port",
      type: "string",
      default: null,
      allowNull: true,
      conditions: { protocol: portProtocols },
      validate: port("destination_port", true),
    },
    { name: "descr", type: "string", default: "", allowEmpty: true },
    { name: "disabled", type: "boolean", default: false },
    { name: "log", type: "boolean", default: false },
    {
      name: "statetype",
      type: "string",
      default: "keep state",
      choices: ["keep state", "sloppy state", "synproxy state", "none"],
    },
    { name: "tcp_flags_any", type: "boolean", default: false },
    {
      name: "tcp_flags_out_of",
      type: "string",
      many: true,
      default: null,
      allowNull: true,
      conditions: { tcp_flags_any: false },
      choices: ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"],
    },
    {
      name: "tcp_flags_set",
      type: "string",
      many: true,
      default: null,
      allowNull: true,
      conditions: { tcp_flags_any: false },
      choices: ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"],
    },
    {
      name: "gateway",
      type: "string",
      default: null,
      allowNull: true,
      validate: foreignReference("gateway", "RoutingGateway"),
    },
    {
      name: "sched",
      type: "string",
      default: null,
      allowNull: true,
      validate: foreignReference("sched", "FirewallSchedule"),
    },
    {
      name: "dnpipe",
      type: "string",
      default: null,
      allowNull: true,
      validate: foreignReference("dnpipe", "TrafficShaperLimiter"),
    },
    {
      name: "pdnpipe",
      type: "string",
      default: null,
      allowNull: true,
      validate: foreignReference("pdnpipe", "TrafficShaperLimiter"),
    },
    {
      name: "defaultqueue",
      type: "string",
      default: null,
      allowNull: true,
      validate: foreignReference("defaultqueue", "TrafficShaperQueue"),
    },
    {
      name: "ackqueue",
      type: "string",
      default: null,
      allowNull: true,
      validate: foreignReference("ackqueue", "TrafficShaperQueue"),
    },
    { name: "floating", type: "boolean", default: false, editable: false },
    { name: "quick", type: "boolean", default: false, conditions: { floating: true } },
    {
      name: "direction",
      type: "string",
      default: "any",
      choices: ["any", "in", "out"],
      conditions: { floating: true },
    },
    { name: "tracker", type: "integer", readOnly: true, editable: false },
    { name: "associated_rule_id", type: "string", readOnly: true, editable: false },
    ...audit,
  ],
  validate(object) {
    const interfaces = object.interface as string[];
    if (object.floating !== true && interfaces.length > 1) {
      throw new PfError(
        400,
        "FIREWALL_RULE_MULTIPLE_INTERFACE_WITHOUT_FLOATING",
        "Field `interface` cannot contain more than one value unless `floating` is enabled.",
      );
    }
    if (object.statetype === "synproxy state" && object.protocol !== "tcp") {
      throw new PfError(
        400,
        "FIREWALL_RULE_SYNPROXY_STATE_TYPE_WITH_NON_TCP_PROTOCOL",
        "Field `statetype` cannot be set to `synproxy state` unless `protocol` is set to `tcp`.",
      );
    }
  },
};

export const portForward: ModelSpec = {
  kind: "natRule",
  section: "nat",
  subsystem: "natconf",
  singular: "/api/v2/firewall/nat/port_forward",
  plural: "/api/v2/firewall/nat/port_forwards",
  tracker: false,
  sortBy: "interface",
  manyMinimum: 0,
  fields: [
    {
      name: "interface",
      type: "string",
      required: true,
      choices: (c) => [...c.interfaces, "enc0", "openvpn"],
    },
    { name: "protocol", type: "string", required: true, choices: ipProtocols },
    { name: "source", type: "string", required: true, validate: filterAddress("source") },
    {
      name: "source_port",
      type: "string",
      default: null,
      allowNull: true,
      conditions: { protocol: portProtocols },
      validate: port("source_port", true),
    },
    { name: "destination", type: "string", required: true, validate: filterAddress("destination") },
    {
      name: "destination_port",
      type: "string",
      default: null,
      allowNull: true,
      conditions: { protocol: portProtocols },
      validate: port("destination_port", true),
    },
    { name: "target", type: "string", required: true, validate: ipAddress("target", 4) },
    {
      name: "local_port",
      type: "string",
      required: true,
      conditions: { protocol: portProtocols },
      validate: port("local_port", false),
    },
    { name: "disabled", type: "boolean", default: false },
    { name: "nordr", type: "boolean", default: false },
    { name: "nosync", type: "boolean", default: false },
    { name: "descr", type: "string", default: "", allowEmpty: true },
    {
      name: "natreflection",
      type: "string",
      default: null,
      allowNull: true,
      choices: ["enable", "disable", "purenat"],
    },
    {
      name: "associated_rule_id",
      type: "string",
      default: "",
      allowEmpty: true,
      choices: ["", "pass", "new"],
    },
    ...audit,
  ],
};

export const models: readonly ModelSpec[] = [
  firewallRule,
  portForward,
  outboundMapping,
  oneToOneMapping,
  firewallAlias,
];
