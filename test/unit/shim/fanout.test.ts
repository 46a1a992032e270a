// Address and port lists: one resource per combination, named by the combination, refused beyond
// MAX_PARTS; no list, one resource.
import { describe, expect, it } from "vitest";
import { firewallParts, isListed, MAX_PARTS } from "../../../src/shim/fanout.ts";
import type { FirewallSpec } from "../../../src/shim/mapping.ts";
import { rulePartName } from "../../../src/shim/names.ts";
import { RequestValidationError } from "../../../src/shim/wire.ts";

const base: FirewallSpec = {
  interface: "wan",
  direction: "in",
  action: "allow",
  protocol: "tcp",
  source: { cidr: "any" },
  destination: { cidr: "10.0.0.0/24" },
};

describe("firewallParts", () => {
  it("keeps a rule without lists as one resource", () => {
    expect(isListed(base)).toBe(false);
    expect(firewallParts(base).map((p) => p.spec)).toEqual([base]);
  });

  it.each<[string, Partial<FirewallSpec>, Array<[string, string | undefined, string, string | undefined]>]>([
    [
      "several source CIDRs (CloudStack's VnfNetworkElement joins them with ',')",
      { source: { cidr: "10.1.0.0/16,10.2.0.0/16" } },
      [
        ["10.1.0.0/16", undefined, "10.0.0.0/24", undefined],
        ["10.2.0.0/16", undefined, "10.0.0.0/24", undefined],
      ],
    ],
    [
      "the scaffold family's destinationPorts 80,443",
      { destination: { cidr: "10.0.0.0/8", port: "80,443" } },
      [
        ["any", undefined, "10.0.0.0/8", "80"],
        ["any", undefined, "10.0.0.0/8", "443"],
      ],
    ],
    [
      "sources × ports, duplicates once",
      {
        source: { cidr: "10.1.0.0/16,10.2.0.0/16,10.1.0.0/16" },
        destination: { cidr: "any", port: "22,8000-8080" },
      },
      [
        ["10.1.0.0/16", undefined, "any", "22"],
        ["10.1.0.0/16", undefined, "any", "8000-8080"],
        ["10.2.0.0/16", undefined, "any", "22"],
        ["10.2.0.0/16", undefined, "any", "8000-8080"],
      ],
    ],
  ])("%s", (_name, change, expected) => {
    const spec = { ...base, ...change };
    expect(isListed(spec)).toBe(true);
    const parts = firewallParts(spec);
    expect(
      parts.map((p) => [
        p.spec.source?.cidr,
        p.spec.source?.port,
        p.spec.destination?.cidr,
        p.spec.destination?.port,
      ]),
    ).toEqual(expected);
    for (const part of parts)
      expect(part.spec).toMatchObject({ action: "allow", protocol: "tcp", interface: "wan" });
  });

  it("names a part by its own parameters: removing another member keeps its resource", () => {
    const two = firewallParts({ ...base, source: { cidr: "10.1.0.0/16,10.2.0.0/16" } });
    const three = firewallParts({ ...base, source: { cidr: "10.2.0.0/16,10.3.0.0/16,10.1.0.0/16" } });
    const names = (parts: typeof two) => new Set(parts.map((p) => rulePartName("firewall", "r1", p.key)));
    const kept = [...names(two)].filter((n) => names(three).has(n));
    expect(kept).toHaveLength(2);
    for (const name of names(three)) expect(name.length).toBeLessThanOrEqual(63);
  });

  it(`refuses more than ${MAX_PARTS} combinations with a message that says what to do`, () => {
    const sources = Array.from({ length: 6 }, (_, i) => `10.${i}.0.0/16`).join(",");
    const ports = Array.from({ length: 6 }, (_, i) => String(1000 + i)).join(",");
    try {
      firewallParts({ ...base, source: { cidr: sources }, destination: { cidr: "any", port: ports } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RequestValidationError);
      expect((error as RequestValidationError).details[0]?.msg).toMatch(/36 combinations.*split/);
    }
  });
});
