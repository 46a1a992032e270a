// The endpoint policy on addresses alone (no connection is ever made here): classification of
// metadata, link-local, loopback, private and cluster addresses in every spelling, the allow/deny
// precedence, and the host spellings the URL parser turns into addresses before the policy sees them.
import { describe, expect, it } from "vitest";
import {
  classify,
  EndpointPolicy,
  embeddedIPv4,
  formatAddress,
  parseAddress,
  parseCidr,
} from "../../../src/appliance/endpoint-policy.ts";

const address = (text: string) => {
  const parsed = parseAddress(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  return parsed;
};

describe("classification", () => {
  it.each<[string, string]>([
    ["169.254.169.254", "cloud metadata"],
    ["fd00:ec2::254", "cloud metadata"],
    ["169.254.170.2", "cloud metadata"],
    ["100.100.100.200", "cloud metadata"],
    ["168.63.129.16", "cloud metadata"],
    ["::ffff:169.254.169.254", "cloud metadata"],
    ["64:ff9b::a9fe:a9fe", "cloud metadata"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["127.0.0.1", "loopback"],
    ["127.0.0.2", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.2", "loopback"],
    ["::ffff:7f00:2", "loopback"],
    ["0:0:0:0:0:ffff:7f00:2", "loopback"],
    ["::127.0.0.2", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "multicast"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fd12:3456::1", "private"],
    ["100.64.0.1", "shared (CGNAT)"],
    ["172.32.0.1", "public"],
    ["192.0.2.10", "public"],
    ["2001:db8::1", "public"],
  ])("%s is %s", (text, kind) => {
    expect(classify(address(text))).toBe(kind);
  });

  it("finds the IPv4 inside mapped, compatible and NAT64 IPv6 only", () => {
    expect(formatAddress(embeddedIPv4(address("::ffff:10.0.0.1")) ?? address("::"))).toBe("10.0.0.1");
    expect(formatAddress(embeddedIPv4(address("64:ff9b::10.0.0.1")) ?? address("::"))).toBe("10.0.0.1");
    expect(embeddedIPv4(address("::1"))).toBeUndefined();
    expect(embeddedIPv4(address("2001:db8::1"))).toBeUndefined();
    expect(embeddedIPv4(address("10.0.0.1"))).toBeUndefined();
  });
});

describe("the policy", () => {
  const cluster = {
    apiServerAddresses: ["10.0.0.1", "192.0.2.50"],
    serviceCidrs: ["10.96.0.0/12", "fd00:10:96::/108"],
  };

  it.each<[string, boolean, RegExp | undefined]>([
    ["169.254.169.254", false, /cloud metadata/],
    ["fd00:ec2::254", false, /cloud metadata/],
    ["127.0.0.1", false, /loopback/],
    ["::ffff:127.0.0.1", false, /loopback/],
    ["0.0.0.0", false, /unspecified/],
    ["fe80::1", false, /link-local/],
    ["192.0.2.50", false, /API server/],
    ["10.0.0.1", false, /API server/],
    ["10.96.0.10", false, /service range 10\.96\.0\.0\/12/],
    ["10.111.255.255", false, /service range/],
    ["fd00:10:96::a", false, /service range fd00:10:96::\/108/],
    ["10.112.0.1", true, undefined],
    ["10.95.255.255", true, undefined],
    ["192.0.2.10", true, undefined],
    ["192.168.1.1", true, undefined],
    ["2001:db8::1", true, undefined],
    ["not-an-address", false, /not an IP address/],
  ])("%s: allowed=%s", (text, allowed, reason) => {
    const verdict = new EndpointPolicy(cluster).check(text);
    expect(verdict.allowed).toBe(allowed);
    if (!verdict.allowed && reason) expect(verdict.reason).toMatch(reason);
  });

  it("an allow CIDR overrides the default denials, exactly as wide as written", () => {
    const policy = new EndpointPolicy({ ...cluster, allowCidrs: ["127.0.0.1/32", "10.96.0.0/16"] });
    expect(policy.check("127.0.0.1").allowed).toBe(true);
    expect(policy.check("::ffff:127.0.0.1").allowed).toBe(true);
    expect(policy.check("127.0.0.2").allowed).toBe(false);
    expect(policy.check("10.96.1.1").allowed).toBe(true);
    expect(policy.check("10.97.0.1").allowed).toBe(false);
    expect(policy.check("169.254.169.254").allowed).toBe(false);
  });

  it("a deny CIDR wins over everything and is not overridable", () => {
    const policy = new EndpointPolicy({ allowCidrs: ["10.0.0.0/8"], denyCidrs: ["10.1.0.0/16"] });
    const verdict = policy.check("10.1.2.3");
    expect(verdict).toMatchObject({ allowed: false, overridable: false });
    expect(policy.check("10.2.0.1").allowed).toBe(true);
    expect(new EndpointPolicy({ denyCidrs: ["192.0.2.0/24"] }).check("::ffff:192.0.2.9").allowed).toBe(false);
  });

  it("refuses malformed CIDRs with an example", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "::/129", "fd00::/x", "example.com", "10.0.0.0/8/1"]) {
      expect(() => new EndpointPolicy({ allowCidrs: [bad] })).toThrow(
        /is not a CIDR \(e\.g\. 10\.0\.0\.0\/8/,
      );
    }
    expect(parseCidr("10.1.2.3/8").text).toBe("10.0.0.0/8");
    expect(parseCidr("2001:DB8:0:0::1").text).toBe("2001:db8::1/128");
  });
});

describe("host spellings reach the policy as addresses (WHATWG URL parsing, as undici does)", () => {
  it.each<[string, string]>([
    ["http://2852039166/", "169.254.169.254"],
    ["http://2130706434/", "127.0.0.2"],
    ["http://0x7f000002/", "127.0.0.2"],
    ["http://0177.0.0.2/", "127.0.0.2"],
    ["http://127.1/", "127.0.0.1"],
    ["http://0/", "0.0.0.0"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"],
    ["http://[::ffff:169.254.169.254]/", "[::ffff:a9fe:a9fe]"],
  ])("%s → %s, refused", (url, host) => {
    const hostname = new URL(url).hostname;
    expect(hostname).toBe(host);
    expect(new EndpointPolicy().check(hostname).allowed).toBe(false);
  });
});
