// The part of the VyOS 1.4 configuration schema the simulator knows (vyos-1x interface-definitions):
// which path words are nodes, tag nodes (`rule 10`), leaves (one value), multi-value leaves and
// valueless leaves (`disable`), and the value validators that make `set` fail with "Value validation
// failed". Paths outside it fail with "Configuration path: [...] is not valid".
import { isIP } from "node:net";

/** Returns an error message, or undefined when the value is valid. */
export type Validator = (value: string) => string | undefined;

export type VSpec =
  | { kind: "node"; children: Record<string, VSpec> }
  /** `rule <N>`: children keyed by a value the client chooses. */
  | { kind: "tag"; valid?: Validator; child: VSpec }
  | { kind: "leaf"; valid?: Validator; multi?: boolean }
  /** A leaf without a value (`disable`, `log`), shown as `{}`. */
  | { kind: "flag" };

const node = (children: Record<string, VSpec>): VSpec => ({ kind: "node", children });
const leaf = (valid?: Validator): VSpec => (valid ? { kind: "leaf", valid } : { kind: "leaf" });
const multi = (valid?: Validator): VSpec =>
  valid ? { kind: "leaf", valid, multi: true } : { kind: "leaf", multi: true };
const flag: VSpec = { kind: "flag" };

const oneOf =
  (...values: string[]): Validator =>
  (value) =>
    values.includes(value) ? undefined : `Invalid value "${value}": must be one of ${values.join(", ")}`;

const range =
  (min: number, max: number): Validator =>
  (value) =>
    /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `Number "${value}" is not in range ${min}-${max}`;

// include/generic-description.xml.i: `[[:ascii:]]{0,256}`, one message for both limits.
export const description: Validator = (value) =>
  [...value].length <= 256 && [...value].every((ch) => (ch.codePointAt(0) ?? 0) <= 0x7f)
    ? undefined
    : "Description too long (limit 256 characters)";

const name: Validator = (value) =>
  /^[-_a-zA-Z0-9.]{1,28}$/.test(value)
    ? undefined
    : `Invalid name "${value}": letters, digits, - _ . (max 28)`;

function negatable(check: (value: string) => boolean, what: string): Validator {
  return (value) =>
    check(value.startsWith("!") ? value.slice(1) : value) ? undefined : `"${value}" is not a valid ${what}`;
}

function isPrefix(value: string, family: 4 | 6): boolean {
  const [address = "", prefix, extra] = value.split("/");
  if (extra !== undefined || isIP(address) !== family) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

function isAddressOrRange(value: string, family: 4 | 6): boolean {
  const parts = value.split("-");
  if (parts.length === 2) return parts.every((part) => isIP(part) === family);
  return isPrefix(value, family);
}

export const ipv4Address = negatable((v) => isAddressOrRange(v, 4), "IPv4 address, prefix or range");
export const ipv6Address = negatable((v) => isAddressOrRange(v, 6), "IPv6 address, prefix or range");

const PORT_NAMES = ["http", "https", "ssh", "domain", "ntp", "smtp", "snmp", "telnet", "ftp", "syslog"];
export const port: Validator = negatable(
  (value) =>
    value.split(",").every((part) => {
      if (PORT_NAMES.includes(part)) return true;
      const [start = "", end, extra] = part.split("-");
      const ok = (p: string) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
      return (
        extra === undefined && ok(start) && (end === undefined || (ok(end) && Number(end) >= Number(start)))
      );
    }),
  "port, port range or comma-separated list",
);

const PROTOCOLS = [
  "all",
  "tcp_udp",
  "tcp",
  "udp",
  "icmp",
  "ipv6-icmp",
  "gre",
  "esp",
  "ah",
  "sctp",
  "ospf",
  "vrrp",
];
export const protocol: Validator = negatable(
  (value) => PROTOCOLS.includes(value) || (/^\d{1,3}$/.test(value) && Number(value) <= 255),
  "protocol name or number",
);

const interfaceName: Validator = (value) =>
  /^[a-z][a-z0-9.+*-]{0,15}$/.test(value) ? undefined : `"${value}" is not a valid interface name`;

function side(address: Validator): VSpec {
  return node({
    address: leaf(address),
    port: leaf(port),
    group: node({
      "address-group": leaf(name),
      "network-group": leaf(name),
      "port-group": leaf(name),
    }),
  });
}

function firewallRule(address: Validator): VSpec {
  return node({
    action: leaf(oneOf("accept", "drop", "reject", "return", "continue", "jump", "queue")),
    description: leaf(description),
    destination: side(address),
    source: side(address),
    protocol: leaf(protocol),
    disable: flag,
    log: flag,
    "jump-target": leaf(name),
    state: multi(oneOf("established", "invalid", "new", "related")),
    "inbound-interface": node({ name: leaf(interfaceName), group: leaf(name) }),
    "outbound-interface": node({ name: leaf(interfaceName), group: leaf(name) }),
  });
}

function ruleSet(address: Validator): VSpec {
  return {
    kind: "tag",
    valid: name,
    child: node({
      "default-action": leaf(oneOf("drop", "reject", "accept", "jump", "return", "continue")),
      "default-log": flag,
      description: leaf(description),
      rule: { kind: "tag", valid: range(1, 999999), child: firewallRule(address) },
    }),
  };
}

const natAddress: Validator = ipv4Address;
const natRule = (translation: Validator, direction: "inbound-interface" | "outbound-interface"): VSpec => ({
  kind: "tag",
  valid: range(1, 999999),
  child: node({
    description: leaf(description),
    [direction]: node({ name: leaf(interfaceName), group: leaf(name) }),
    destination: node({ address: leaf(natAddress), port: leaf(port) }),
    source: node({ address: leaf(natAddress), port: leaf(port) }),
    protocol: leaf(protocol),
    translation: node({ address: leaf(translation), port: leaf(port) }),
    disable: flag,
    exclude: flag,
    log: flag,
  }),
});

const group = (member: string, valid: Validator): VSpec => ({
  kind: "tag",
  valid: name,
  child: node({ [member]: multi(valid), description: leaf(description) }),
});

export const rootSpec: VSpec = node({
  firewall: node({
    ipv4: node({ name: ruleSet(ipv4Address) }),
    ipv6: node({ name: ruleSet(ipv6Address) }),
    group: node({
      "address-group": group("address", ipv4Address),
      "network-group": group("network", ipv4Address),
      "port-group": group("port", port),
    }),
  }),
  nat: node({
    destination: node({ rule: natRule(natAddress, "inbound-interface") }),
    source: node({
      rule: natRule(
        (value) => (value === "masquerade" ? undefined : natAddress(value)),
        "outbound-interface",
      ),
    }),
  }),
});
