// The OPNsense filter rule ("Firewall: Automation" rules, `Filter.xml` `rules.rule`), field for field in
// the model's own order, as two releases define it: 25.7.2 (48 stored fields, the two volatile ones
// `sort_order`/`prio_group` besides) and 26.1.11 (adding icmp6type, divert-to, udp-first/-multiple/
// -single and tcpflags_any; `direction` gains `any`). Defaults, option maps, blank descriptions and
// messages are the model's; the field types' behaviour (what a value may be, how it reads back) is in
// models.ts.
import { isIP } from "node:net";
import type { FieldSpec, ModelSpec, OpRecord } from "./models.ts";
import { bool, PROTOCOL_OPTIONS } from "./models.ts";

export type OPNsenseRelease = "25.7" | "26.1";

/** The model generation a firmware version serves: 26.1 and later, else 25.7. */
export function releaseOf(version: string): OPNsenseRelease {
  const [major = 0, minor = 0] = version.split(/[._]/).map(Number);
  return major > 26 || (major === 26 && minor >= 1) ? "26.1" : "25.7";
}

const PRIORITIES: Record<string, string> = {
  "1": "Background (1, lowest)",
  "0": "Best Effort (0, default)",
  "2": "Excellent Effort (2)",
  "3": "Critical Applications (3)",
  "4": "Video (4)",
  "5": "Voice (5)",
  "6": "Internetwork Control (6)",
  "7": "Network Control (7, highest)",
};

const TCP_FLAGS: Record<string, string> = Object.fromEntries(
  ["syn", "ack", "fin", "rst", "psh", "urg", "ece", "cwr"].map((flag) => [flag, flag]),
);

/** TosField: `""` (Any), named classes, AF/CS code points and every byte value. */
const TOS: Record<string, string> = {
  "": "Any",
  lowdelay: "lowdelay",
  critical: "critical",
  inetcontrol: "inetcontrol",
  netcontrol: "netcontrol",
  throughput: "throughput",
  reliability: "reliability",
  ef: "EF",
  ...Object.fromEntries([11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43].map((v) => [`af${v}`, `AF${v}`])),
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((v) => [`cs${v}`, `CS${v}`])),
  ...Object.fromEntries(
    Array.from({ length: 256 }, (_, v) => [
      `0x${v.toString(16)}`,
      `0x${v.toString(16).toUpperCase().padStart(2, "0")}`,
    ]),
  ),
};

const ICMP_TYPES_25_7: Record<string, string> = {
  echoreq: "Echo Request",
  echorep: "Echo Reply",
  unreach: "Destination Unreachable",
  squench: "Source Quench (Deprecated)",
  redir: "Redirect",
  althost: "Alternate Host Address (Deprecated)",
  routeradv: "Router Advertisement",
  routersol: "Router Solicitation",
  timex: "Time Exceeded",
  paramprob: "Parameter Problem",
  timereq: "Timestamp",
  timerep: "Timestamp Reply",
  inforeq: "Information Request (Deprecated)",
  inforep: "Information Reply (Deprecated)",
  maskreq: "Address Mask Request (Deprecated)",
  maskrep: "Address Mask Reply (Deprecated)",
};

const ICMP_TYPES_26_1: Record<string, string> = {
  echoreq: "Echo Request",
  echorep: "Echo Reply",
  unreach: "Destination Unreachable",
  redir: "Redirect",
  routeradv: "Router Advertisement",
  routersol: "Router Solicitation",
  timex: "Time Exceeded",
  paramprob: "Parameter Problem",
  timereq: "Timestamp",
  timerep: "Timestamp Reply",
  photuris: "Photuris",
  squench: "Source Quench",
  althost: "Alternate Host Address",
  inforeq: "Information Request",
  inforep: "Information Reply",
  maskreq: "Address Mask Request",
  maskrep: "Address Mask Reply",
  trace: "Traceroute",
  dataconv: "Data conversion problem",
  mobredir: "Mobile host redirection",
  "ipv6-where": "IPv6 where-are-you",
  "ipv6-here": "IPv6 i-am-here",
  mobregreq: "Mobile registration request",
  mobregrep: "Mobile registration reply",
  skip: "SKIP",
};

const ICMP6_TYPES: Record<string, string> = {
  "1": "Destination unreachable",
  "2": "Packet too big",
  "3": "Time exceeded",
  "4": "Invalid IPv6 header",
  "128": "Echo service request",
  "129": "Echo service reply",
  "130": "Multicast Listener Query",
  "131": "Multicast listener report",
  "132": "Multicast listener done",
  "133": "Router solicitation",
  "134": "Router advertisement",
  "135": "Neighbor solicitation",
  "136": "Neighbor advertisement",
  "137": "Shorter route exists",
  "138": "Route renumbering",
  "139": "ICMP Node Information Query",
  "140": "Node information reply",
  "200": "mtrace response",
  "201": "mtrace messages",
};

const integer = (name: string, min: number, max?: number): FieldSpec => ({
  name,
  type: "integer",
  default: "",
  min,
  ...(max === undefined ? {} : { max }),
});

const TAG_MASK = /^([0-9a-zA-Z.,_-]){0,512}$/u;

function fields(release: OPNsenseRelease): FieldSpec[] {
  const is26 = release === "26.1";
  const portMessage = `Please specify a valid portnumber, name, alias or range${is26 ? "." : ""}`;
  const bounded = (name: string, min: number, max: number) => integer(name, min, is26 ? max : undefined);
  const out: Array<FieldSpec | false> = [
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
      name: "state-policy",
      type: "option",
      default: "",
      blankDesc: "default",
      options: { "if-bound": "Bind states to interface", floating: "Floating states" },
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
    { name: "sort_order", type: "volatile" },
    { name: "prio_group", type: "volatile" },
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
      options: is26 ? { in: "In", out: "Out", any: "Both" } : { in: "In", out: "Out" },
    },
    {
      name: "ipprotocol",
      type: "option",
      default: "inet",
      required: true,
      options: { inet: "IPv4", inet6: "IPv6", inet46: is26 ? "any" : "IPv4+IPv6" },
    },
    { name: "protocol", type: "option", default: "any", required: true, options: PROTOCOL_OPTIONS },
    {
      name: "icmptype",
      type: "option",
      multiple: true,
      default: "",
      options: is26 ? ICMP_TYPES_26_1 : ICMP_TYPES_25_7,
    },
    is26 && { name: "icmp6type", type: "option", multiple: true, default: "", options: ICMP6_TYPES },
    { name: "source_net", type: "network", default: "any", required: true, multiple: true },
    bool("source_not", "0"),
    { name: "source_port", type: "port", ranges: true, default: "", message: portMessage },
    { name: "destination_net", type: "network", default: "any", required: true, multiple: true },
    bool("destination_not", "0"),
    { name: "destination_port", type: "port", ranges: true, default: "", message: portMessage },
    is26 && {
      name: "divert-to",
      type: "option",
      default: "",
      options: (env) => Object.fromEntries((env.diverts ?? []).map((d) => [d, d])),
      message: "Specify a valid divert-to target.",
    },
    {
      name: "gateway",
      type: "option",
      default: "",
      options: (env) => Object.fromEntries((env.gateways ?? []).map((g) => [g, g])),
      message: "Specify a valid gateway from the list matching the networks ip protocol.",
    },
    {
      name: "replyto",
      type: "option",
      default: "",
      options: (env) => Object.fromEntries((env.gateways ?? []).map((g) => [g, g])),
      message: "Specify a valid gateway from the list matching the networks ip protocol.",
    },
    bool("disablereplyto", "0"),
    bool("log", "0"),
    bool("allowopts", "0"),
    bool("nosync", "0"),
    bool("nopfsync", "0"),
    bounded("statetimeout", 1, 2147483647),
    is26 && integer("udp-first", 1, 2147483647),
    is26 && integer("udp-multiple", 1, 2147483647),
    is26 && integer("udp-single", 1, 2147483647),
    bounded("max-src-nodes", 1, 2147483647),
    bounded("max-src-states", 1, 2147483647),
    bounded("max-src-conn", 1, 2147483647),
    bounded("max", 1, 2147483647),
    bounded("max-src-conn-rate", 1, 4294967),
    bounded("max-src-conn-rates", 1, 2147483647),
    {
      name: "overload",
      type: "option",
      default: "",
      // Enabled aliases that are not port aliases.
      options: (env) => Object.fromEntries(env.aliases.map((a) => [a, a])),
      message: "Alias not found.",
    },
    bounded("adaptivestart", 0, 2147483647),
    bounded("adaptiveend", 0, 2147483647),
    { name: "prio", type: "option", default: "", blankDesc: "Any priority", options: PRIORITIES },
    {
      name: "set-prio",
      type: "option",
      default: "",
      blankDesc: "Keep current priority",
      options: PRIORITIES,
    },
    {
      name: "set-prio-low",
      type: "option",
      default: "",
      blankDesc: "Keep current priority",
      options: PRIORITIES,
    },
    { name: "tag", type: "text", default: "", mask: TAG_MASK },
    { name: "tagged", type: "text", default: "", mask: TAG_MASK },
    { name: "tcpflags1", type: "option", multiple: true, default: "", options: TCP_FLAGS },
    { name: "tcpflags2", type: "option", multiple: true, default: "", options: TCP_FLAGS },
    is26 && { name: "tcpflags_any", type: "boolean", default: "0" },
    {
      name: "categories",
      type: "option",
      multiple: true,
      default: "",
      options: (env) => Object.fromEntries((env.categories ?? []).map((c) => [c, c])),
      message: "Related category not found.",
    },
    {
      name: "sched",
      type: "option",
      default: "",
      options: (env) => Object.fromEntries((env.schedules ?? []).map((s) => [s, s])),
    },
    { name: "tos", type: "option", default: "", options: TOS },
    {
      name: "shaper1",
      type: "option",
      default: "",
      options: () => ({}),
      message: `Related pipe or queue not found${is26 ? "." : ""}`,
    },
    {
      name: "shaper2",
      type: "option",
      default: "",
      options: () => ({}),
      message: `Related pipe or queue not found${is26 ? "." : ""}`,
    },
    { name: "description", type: "description", default: "" },
  ];
  return out.filter((field): field is FieldSpec => field !== false);
}

function isAddress(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  return isIP(address) !== 0 && extra === undefined && (prefix === undefined || /^\d{1,3}$/.test(prefix));
}

const PORT_PROTOCOLS = ["TCP", "UDP", "TCP/UDP"];

/**
 * The rule-level checks of the Filter model (`Filter::performValidation`), keyed by the field the
 * message is attached to.
 */
export function filterRuleValidations(rule: OpRecord): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (field: string, message: string) => {
    out[field] ??= message;
  };
  const set = (field: string) => (rule[field] ?? "") !== "";
  const protocol = rule.protocol ?? "any";
  if (set("source_port") && !PORT_PROTOCOLS.includes(protocol)) {
    add("source_port", "Source ports are only valid for tcp or udp type rules.");
  }
  if (set("destination_port") && !PORT_PROTOCOLS.includes(protocol)) {
    add("destination_port", "Destination ports are only valid for tcp or udp type rules.");
  }
  for (const [field, label] of [
    ["destination_net", "Destination"],
    ["source_net", "Source"],
  ] as const) {
    const value = rule[field] ?? "";
    const family = value.includes(":") ? "inet6" : "inet";
    if (isAddress(value) && family !== rule.ipprotocol) {
      add(field, `${label} address type should match selected TCP/IP protocol version.`);
    }
  }
  for (const field of ["source_net", "destination_net"]) {
    const items = (rule[field] ?? "").split(",");
    if (items.length > 1 && items.includes("any")) add(field, "Any can not be combined with other aliases");
  }
  if (set("icmptype") && protocol !== "ICMP") add("icmptype", "Option only applies to ICMP packets");
  if ((rule.source_net ?? "").includes(",") && rule.source_not === "1") {
    add("source_not", "Inverting sources is only allowed for single targets to avoid mis-interpretations");
  }
  if ((rule.destination_net ?? "").includes(",") && rule.destination_not === "1") {
    add(
      "destination_net",
      "Inverting destinations is only allowed for single targets to avoid mis-interpretations",
    );
  }
  if (rule.interfacenot === "1" && (rule.interface ?? "").split(",").filter(Boolean).length !== 1) {
    add(
      "interfacenot",
      "Inverting interfaces is only allowed for single targets to avoid mis-interpretations",
    );
  }
  if (rule.statetype === "none") {
    for (const field of [
      "statetimeout",
      "max",
      "max-src-states",
      "max-src-nodes",
      "adaptivestart",
      "adaptiveend",
      "max-src-conn",
    ]) {
      if (set(field)) add(field, "Invalid option when statetype is none.");
    }
  }
  if (protocol !== "TCP" && protocol !== "TCP/UDP") {
    for (const field of [
      "statetimeout",
      "max-src-conn",
      "tcpflags1",
      "tcpflags2",
      "max-src-conn-rate",
      "max-src-conn-rates",
      "overload",
    ]) {
      if (set(field)) add(field, "Invalid option for other than TCP protocol choices.");
    }
  }
  if (set("max-src-conn-rate") !== set("max-src-conn-rates")) {
    add(
      set("max-src-conn-rate") ? "max-src-conn-rates" : "max-src-conn-rate",
      "Need to specify both a number of connections and a time interval.",
    );
  }
  if (set("tcpflags1") && !set("tcpflags2")) {
    add(
      "tcpflags2",
      "If you specify TCP flags that should be set you should specify out of which flags as well.",
    );
  }
  const start = rule.adaptivestart ?? "";
  const end = rule.adaptiveend ?? "";
  if (!set("max") && (start === "0" || end === "0")) {
    add(
      "max",
      'Disabling adaptive timeouts is only supported in ". "combination with a configured maximum number of states for the same rule.',
    );
  } else if ((start === "0") !== (end === "0")) {
    add("adaptivestart", "Adaptive timeouts must be disabled together.");
  } else if ((start !== "") !== (end !== "")) {
    add("adaptivestart", "The adaptive timouts values must be set together.");
  } else if (set("max") && end !== "" && Number(rule.max) > Number(end)) {
    add("adaptiveend", "The value of adaptive.end must be greater than the Max states value.");
  } else if (start !== "" && end !== "" && Number(start) > Number(end)) {
    add("adaptiveend", "The value of adaptive.end must be greater than adaptive.start value.");
  }
  if (!set("set-prio") && set("set-prio-low")) {
    add(
      "set-prio-low",
      "Set priority for low latency and acknowledgements requires a set priority for normal packets.",
    );
  }
  if (set("shaper2") && !set("shaper1")) {
    add("shaper2", "A shaper is required when configuring one in the reverse direction.");
  }
  return out;
}

/** Priority group of a rule (FilterRuleContainerField::getPriority): floating, group, interface. */
export function priorityGroup(record: OpRecord): number {
  const interfaces = (record.interface ?? "").split(",").filter(Boolean);
  return interfaces.length === 1 ? 400000 : 200000;
}

export function filterRuleModel(release: OPNsenseRelease): ModelSpec {
  return {
    kind: "firewallRule",
    controller: "filter",
    wrapper: "rule",
    descriptionField: "description",
    release,
    fields: fields(release),
    validate: filterRuleValidations,
    volatile: (record) => {
      const group = priorityGroup(record);
      return {
        sort_order: `${group}.0${String(Number(record.sequence ?? 0)).padStart(6, "0")}`,
        prio_group: String(group),
      };
    },
  };
}

/** The 25.7 model (the simulator's default release). */
export const filterRule: ModelSpec = filterRuleModel("25.7");
