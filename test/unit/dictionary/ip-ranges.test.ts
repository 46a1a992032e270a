import { describe, expect, it } from "vitest";
import { cidrToRange, rangeToCidr } from "../../../src/dictionary/ip-ranges.ts";

describe("cidrToRange", () => {
  it.each([
    ["203.0.113.0/28", "203.0.113.0-203.0.113.15"],
    ["10.0.0.0/8", "10.0.0.0-10.255.255.255"],
    ["0.0.0.0/0", "0.0.0.0-255.255.255.255"],
    ["10.0.0.5/32", "10.0.0.5"],
    ["10.0.0.5", "10.0.0.5"],
    // Host bits set: the block the address is in (the CRD refuses such values anyway).
    ["10.0.0.5/30", "10.0.0.4-10.0.0.7"],
    ["2001:db8::/126", "2001:db8::-2001:db8::3"],
    ["2001:db8:1::/48", "2001:db8:1::-2001:db8:1:ffff:ffff:ffff:ffff:ffff"],
    ["2001:db8::5/128", "2001:db8::5"],
    ["any", "any"],
    ["10.0.0.0/33", "10.0.0.0/33"],
    ["wan", "wan"],
  ])("%s → %s", (cidr, range) => {
    expect(cidrToRange(cidr)).toBe(range);
  });
});

describe("rangeToCidr", () => {
  it.each([
    ["203.0.113.0-203.0.113.15", "203.0.113.0/28"],
    ["10.0.0.5-10.0.0.5", "10.0.0.5"],
    ["2001:db8::-2001:db8::3", "2001:db8::/126"],
    ["0.0.0.0-255.255.255.255", "0.0.0.0/0"],
    // Not one aligned block: kept, so a comparison shows it.
    ["10.0.0.1-10.0.0.4", "10.0.0.1-10.0.0.4"],
    ["10.0.0.4-10.0.0.9", "10.0.0.4-10.0.0.9"],
    ["10.0.0.9-10.0.0.4", "10.0.0.9-10.0.0.4"],
    ["10.0.0.1-2001:db8::1", "10.0.0.1-2001:db8::1"],
    ["10.0.0.5", "10.0.0.5"],
  ])("%s → %s", (range, cidr) => {
    expect(rangeToCidr(range)).toBe(cidr);
  });

  it("round-trips every IPv4 prefix length", () => {
    for (let bits = 0; bits <= 32; bits += 1) {
      const cidr = `10.0.0.0/${bits}`;
      const network = cidrToRange(cidr).split("-")[0];
      const canonical = bits === 32 ? "10.0.0.0" : `${network}/${bits}`;
      expect(rangeToCidr(cidrToRange(cidr))).toBe(canonical);
    }
  });
});
