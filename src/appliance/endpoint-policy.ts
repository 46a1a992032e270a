// Where the operator may send an appliance's credentials. Anyone who may create a VnfDevice chooses
// its endpoint, and the operator sends the referenced Secret's credentials there: without a policy,
// that is a way to send a namespace's Secrets to the cloud metadata service, the API server or any
// service of the cluster, and to read their answers. By default an endpoint may therefore not be:
//   loopback, unspecified (0.0.0.0 connects to this host), link-local (169.254.0.0/16 with the
//   metadata address 169.254.169.254, fe80::/10), a cloud metadata address (fd00:ec2::254, ...),
//   multicast, the API server's addresses, or the cluster's service range.
// Explicit deny CIDRs win over everything; explicit allow CIDRs override the default denials (the
// demo and the tests allow 127.0.0.1/32 for their simulators). IPv4 written inside IPv6 (mapped
// ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d) is judged as the IPv4 address.
// The decision is made on addresses: guarded-connect.ts applies it to every connection after DNS.
import { isIP } from "node:net";

export interface Address {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr extends Address {
  prefix: number;
  /** As written (normalised), for messages. */
  text: string;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  let body = text.replace(/%.*$/, ""); // zone index (fe80::1%eth0)
  const lastColon = body.lastIndexOf(":");
  const last = body.slice(lastColon + 1);
  if (last.includes(".")) {
    // A dotted IPv4 tail (::ffff:127.0.0.2) is two groups.
    const v4 = parseIPv4(last);
    if (v4 === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === "" ? [] : s.split(":"));
  const head = group(halves[0] ?? "");
  const rest = halves.length === 2 ? group(halves[1] ?? "") : [];
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  let value = 0n;
  for (const g of [...head, ...Array<string>(8 - explicit).fill("0"), ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(`0x${g}`);
  }
  return value;
}

/** An IP address in any textual form Node accepts (no DNS names). */
export function parseAddress(text: string): Address | undefined {
  const bare = text.replace(/^\[(.*)\]$/, "$1");
  const family = isIP(bare.replace(/%.*$/, ""));
  if (family === 4) {
    const value = parseIPv4(bare);
    return value === undefined ? undefined : { family: 4, value };
  }
  if (family === 6) {
    const value = parseIPv6(bare);
    return value === undefined ? undefined : { family: 6, value };
  }
  return undefined;
}

export function formatAddress(address: Address): string {
  if (address.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join(".");
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n)
    groups.push(((address.value >> shift) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(":");
  return `${groups.slice(0, best.start).join(":")}::${groups.slice(best.start + best.length).join(":")}`;
}

/** "10.0.0.0/8", "fd00::/8", or a single address (/32, /128). Throws on anything else. */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const [addressText = "", prefixText, extra] = trimmed.split("/");
  const address = parseAddress(addressText);
  const max = address?.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !address ||
    extra !== undefined ||
    (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
    prefix < 0 ||
    prefix > max
  ) {
    throw new Error(`"${text}" is not a CIDR (e.g. 10.0.0.0/8, 192.0.2.10/32, fd00::/8)`);
  }
  const bits = BigInt(max);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << (bits - BigInt(prefix));
  const base = address.value & mask;
  return {
    family: address.family,
    value: base,
    prefix,
    text: `${formatAddress({ family: address.family, value: base })}/${prefix}`,
  };
}

export function cidrContains(cidr: Cidr, address: Address): boolean {
  if (cidr.family !== address.family) return false;
  const bits = cidr.family === 4 ? 32n : 128n;
  const shift = bits - BigInt(cidr.prefix);
  return address.value >> shift === cidr.value >> shift;
}

const MAPPED = parseCidr("::ffff:0:0/96");
const COMPATIBLE = parseCidr("::/96");
const NAT64 = parseCidr("64:ff9b::/96");

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64), if any. */
export function embeddedIPv4(address: Address): Address | undefined {
  if (address.family !== 6) return undefined;
  const low = address.value & 0xffffffffn;
  if (cidrContains(MAPPED, address) || cidrContains(NAT64, address)) return { family: 4, value: low };
  // ::a.b.c.d, but not :: and ::1 themselves.
  if (cidrContains(COMPATIBLE, address) && low > 1n) return { family: 4, value: low };
  return undefined;
}

/** What kind of address this is (unit-tested on addresses alone; informative beyond the denials). */
export type AddressClass =
  | "loopback"
  | "unspecified"
  | "link-local"
  | "cloud metadata"
  | "multicast"
  | "private"
  | "shared (CGNAT)"
  | "public";

const CLASSES: Array<[AddressClass, string[]]> = [
  // Order matters: the first match names the address.
  [
    "cloud metadata",
    ["169.254.169.254/32", "169.254.170.2/32", "fd00:ec2::254/128", "100.100.100.200/32", "168.63.129.16/32"],
  ],
  ["loopback", ["127.0.0.0/8", "::1/128"]],
  ["unspecified", ["0.0.0.0/8", "::/128"]],
  ["link-local", ["169.254.0.0/16", "fe80::/10"]],
  ["multicast", ["224.0.0.0/4", "255.255.255.255/32", "ff00::/8"]],
  ["private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]],
  ["shared (CGNAT)", ["100.64.0.0/10"]],
];
const CLASS_CIDRS: Array<[AddressClass, Cidr[]]> = CLASSES.map(([name, cidrs]) => [
  name,
  cidrs.map(parseCidr),
]);

/** The classes denied unless an allow CIDR covers the address. */
export const DEFAULT_DENIED_CLASSES: ReadonlySet<AddressClass> = new Set([
  "cloud metadata",
  "loopback",
  "unspecified",
  "link-local",
  "multicast",
]);

export function classify(address: Address): AddressClass {
  const v4 = embeddedIPv4(address);
  for (const candidate of v4 ? [v4, address] : [address]) {
    for (const [name, cidrs] of CLASS_CIDRS) if (cidrs.some((c) => cidrContains(c, candidate))) return name;
  }
  return "public";
}

export interface EndpointPolicyConfig {
  /** Override the default denials (not the explicit deny list). */
  allowCidrs?: readonly string[];
  /** Always refused. */
  denyCidrs?: readonly string[];
  /** The API server's own addresses (refused by default). */
  apiServerAddresses?: readonly string[];
  /** The cluster's service range(s) (refused by default). */
  serviceCidrs?: readonly string[];
}

export type Verdict =
  | { allowed: true; address: string }
  | {
      allowed: false;
      address: string;
      /** Why, e.g. "a loopback address", "the API server", "in the cluster's service range 10.96.0.0/12". */
      reason: string;
      /** Whether --endpoint-allow-cidrs can open it (false for the explicit deny list). */
      overridable: boolean;
    };

export class EndpointPolicy {
  readonly allow: readonly Cidr[];
  readonly deny: readonly Cidr[];
  readonly apiServer: readonly Cidr[];
  readonly serviceRange: readonly Cidr[];

  constructor(config: EndpointPolicyConfig = {}) {
    this.allow = (config.allowCidrs ?? []).map(parseCidr);
    this.deny = (config.denyCidrs ?? []).map(parseCidr);
    this.apiServer = (config.apiServerAddresses ?? []).map(parseCidr);
    this.serviceRange = (config.serviceCidrs ?? []).map(parseCidr);
  }

  /** The verdict for an IP address (in any textual form). Anything that is not an address is refused. */
  check(text: string): Verdict {
    const parsed = parseAddress(text);
    if (!parsed) return { allowed: false, address: text, reason: "not an IP address", overridable: false };
    const v4 = embeddedIPv4(parsed);
    const forms = v4 ? [parsed, v4] : [parsed];
    const address = formatAddress(v4 ?? parsed);
    const within = (cidrs: readonly Cidr[]) => cidrs.find((c) => forms.some((f) => cidrContains(c, f)));

    const denied = within(this.deny);
    if (denied) {
      return { allowed: false, address, reason: `in a denied range (${denied.text})`, overridable: false };
    }
    if (within(this.allow)) return { allowed: true, address };
    const kind = classify(parsed);
    if (DEFAULT_DENIED_CLASSES.has(kind)) {
      return { allowed: false, address, reason: `a ${kind} address`, overridable: true };
    }
    if (within(this.apiServer)) {
      return {
        allowed: false,
        address,
        reason: "an address of the Kubernetes API server",
        overridable: true,
      };
    }
    const service = within(this.serviceRange);
    if (service) {
      return {
        allowed: false,
        address,
        reason: `in the cluster's service range ${service.text}`,
        overridable: true,
      };
    }
    return { allowed: true, address };
  }

  /** For the startup log. */
  describe(): Record<string, string[]> {
    return {
      allow: this.allow.map((c) => c.text),
      deny: this.deny.map((c) => c.text),
      apiServer: this.apiServer.map((c) => c.text),
      serviceRange: this.serviceRange.map((c) => c.text),
      deniedByDefault: [...DEFAULT_DENIED_CLASSES],
    };
  }
}
