// OPNsense 25.7's source NAT and 1:1 NAT models (opnsense/core models/OPNsense/Firewall/Filter.xml
// `snatrules.rule` and `onetoone.rule`, both SourceNatRuleField) behind Firewall/Api/SourceNatController
// (`/api/firewall/source_nat/*`) and OneToOneController (`/api/firewall/one_to_one/*`), with the checks
// Filter.php's performValidation makes for them.
import { isIP } from "node:net";
import { bool, type ModelSpec, type OpRecord, PROTOCOLS_UPPER, portValidations } from "./models.ts";

const SEQUENCE = {
  name: "sequence",
  type: "integer",
  default: "1",
  required: true,
  min: 1,
  max: 99999,
  message: "provide a valid sequence for sorting",
} as const;

/** The family (inet, inet6) of an address or subnet; undefined for aliases, `any`, `wanip`... */
function family(value: string | undefined): "inet" | "inet6" | undefined {
  const address = (value ?? "").split("/")[0] ?? "";
  const kind = isIP(address);
  return kind === 4 ? "inet" : kind === 6 ? "inet6" : undefined;
}

function prefixOf(value: string): string {
  const [address = "", prefix] = value.split("/");
  return prefix ?? (isIP(address) === 6 ? "128" : "32");
}

export const sourceNatRule: ModelSpec = {
  kind: "snatRule",
  controller: "source_nat",
  wrapper: "rule",
  descriptionField: "description",
  fields: [
    bool("enabled", "1"),
    bool("nonat", "0"),
    SEQUENCE,
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
      message: "Please specify a valid portnumber, name, alias or range",
    },
    { name: "destination_net", type: "network", default: "any", required: true },
    bool("destination_not", "0"),
    {
      name: "destination_port",
      type: "port",
      ranges: true,
      default: "",
      message: "Please specify a valid portnumber, name, alias or range",
    },
    { name: "target", type: "network", default: "wanip", required: true },
    { name: "target_port", type: "port", ranges: true, default: "" },
    bool("log", "0"),
    { name: "categories", type: "text", default: "" },
    { name: "description", type: "description", default: "" },
  ],
  validate: (record: OpRecord) => {
    const out = portValidations(record, ["TCP", "UDP", "TCP/UDP"]);
    const wanted = record.ipprotocol;
    const checks = [
      ["destination_net", "Destination address type should match selected TCP/IP protocol version."],
      ["source_net", "Source address type should match selected TCP/IP protocol version."],
      ["target", "Target address type should match selected TCP/IP protocol version."],
    ] as const;
    for (const [field, message] of checks) {
      const found = family(record[field]);
      if (found !== undefined && found !== wanted) out[field] = message;
    }
    if ((record.target_port ?? "") !== "" && !["TCP", "UDP", "TCP/UDP"].includes(record.protocol ?? "")) {
      out.target_port = "Target ports are only valid for tcp or udp type rules.";
    }
    return out;
  },
};

export const oneToOneRule: ModelSpec = {
  kind: "oneToOneRule",
  controller: "one_to_one",
  wrapper: "rule",
  descriptionField: "description",
  fields: [
    bool("enabled", "1"),
    bool("log", "0"),
    SEQUENCE,
    { name: "interface", type: "interface", default: "wan", required: true },
    {
      name: "type",
      type: "option",
      default: "binat",
      required: true,
      options: { binat: "BINAT", nat: "NAT" },
    },
    { name: "source_net", type: "network", default: "", required: true },
    bool("source_not", "0"),
    { name: "destination_net", type: "network", default: "any", required: true },
    bool("destination_not", "0"),
    { name: "external", type: "network", default: "", required: true },
    {
      name: "natreflection",
      type: "option",
      default: "",
      options: { enable: "Enable", disable: "Disable" },
      blankDesc: "Default",
    },
    { name: "categories", type: "text", default: "" },
    { name: "description", type: "description", default: "" },
  ],
  validate: (record: OpRecord) => {
    const out: Record<string, string> = {};
    const fields = ["source_net", "destination_net", "external"] as const;
    const families = new Set(fields.map((field) => family(record[field])).filter((f) => f !== undefined));
    if (families.size > 1) {
      for (const field of fields)
        if (family(record[field]) !== undefined) out[field] = "IP protocol families should match.";
    }
    // BINAT rules are stricter (skipped while disabled, to ease migration).
    if (record.type === "binat" && record.enabled === "1") {
      if (family(record.source_net) === undefined) {
        out.source_net ??= "For BINAT rules only addresses or subnets are allowed.";
      } else if (
        family(record.external) !== undefined &&
        prefixOf(record.external ?? "") !== prefixOf(record.source_net ?? "")
      ) {
        out.external ??= "External subnet should match internal subnet.";
      }
    }
    return out;
  },
};
