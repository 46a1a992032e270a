// Address blocks written two ways: a CIDR network (what the CRDs use) and a first-last range (what
// some appliances store, e.g. FortiOS virtual IPs and IP pools). The template filters `ipRange` and
// `rangeCidr` convert between them; both accept IPv4 and IPv6 and pass anything else through.
import { isIP } from "node:net";

type Family = 4 | 6;

function familyOf(address: string): Family | undefined {
  const family = isIP(address);
  return family === 4 || family === 6 ? family : undefined;
}

function toBig(address: string, family: Family): bigint {
  if (family === 4) return address.split(".").reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  const [head = "", tail = ""] = address.includes("::") ? address.split("::") : [address, ""];
  const groups = (text: string) => (text === "" ? [] : text.split(":"));
  // An IPv4-mapped tail (::ffff:10.0.0.1) is two groups.
  const expand = (parts: string[]) =>
    parts.flatMap((p) => {
      if (!p.includes(".")) return [p];
      const v4 = toBig(p, 4);
      return [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    });
  const left = expand(groups(head));
  const right = expand(groups(tail));
  const all = address.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return all.reduce((n, part) => (n << 16n) | BigInt(Number.parseInt(part, 16)), 0n);
}

function fromBig(value: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
  const parts = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => (value >> shift) & 0xffffn);
  // RFC 5952: the longest run (2+) of zero groups becomes "::".
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0n) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0n) j += 1;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = parts.map((p) => p.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/** `203.0.113.0/28` → `203.0.113.0-203.0.113.15`; a plain address (or anything else) unchanged. */
export function cidrToRange(value: string): string {
  const [address = "", prefix, extra] = value.split("/");
  const family = familyOf(address);
  if (family === undefined || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix))
    return value;
  const width = family === 4 ? 32n : 128n;
  const bits = BigInt(prefix);
  if (bits > width) return value;
  if (bits === width) return address;
  const hostMask = (1n << (width - bits)) - 1n;
  const first = toBig(address, family) & ~hostMask;
  return `${fromBig(first, family)}-${fromBig(first | hostMask, family)}`;
}

/**
 * `203.0.113.0-203.0.113.15` → `203.0.113.0/28`; `a-a` → `a`; a range that is not one aligned block
 * (or anything else) unchanged, so a comparison still shows it.
 */
export function rangeToCidr(value: string): string {
  const [start = "", end, extra] = value.split("-");
  const family = familyOf(start);
  if (family === undefined || end === undefined || extra !== undefined || familyOf(end) !== family)
    return value;
  const first = toBig(start, family);
  const last = toBig(end, family);
  if (first === last) return fromBig(first, family);
  const size = last - first + 1n;
  if (last < first || (size & (size - 1n)) !== 0n || (first & (size - 1n)) !== 0n) return value;
  const width = family === 4 ? 32 : 128;
  return `${fromBig(first, family)}/${width - (size.toString(2).length - 1)}`;
}
