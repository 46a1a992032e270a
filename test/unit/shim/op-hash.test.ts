import { describe, expect, it } from "vitest";
import { canonicalJson, shimOpHash } from "../../../src/shim/op-hash.ts";

describe("canonicalJson", () => {
  it("sorts keys at every level and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"x":0,"y":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, null, "s"])).toBe('[null,null,"s"]');
  });
});

describe("shimOpHash", () => {
  const input = {
    kind: "firewall" as const,
    vnfInstanceId: "42",
    ruleId: "r1",
    spec: { deviceRef: { name: "d" }, action: "allow", source: { cidr: "any" } },
  };

  it("is a SHA-256 hex digest independent of member order", () => {
    const reordered = {
      ...input,
      spec: { source: { cidr: "any" }, action: "allow", deviceRef: { name: "d" } },
    };
    expect(shimOpHash(input)).toMatch(/^[0-9a-f]{64}$/);
    expect(shimOpHash(reordered)).toBe(shimOpHash(input));
  });

  it("changes with any parameter, the instance or the kind", () => {
    const base = shimOpHash(input);
    expect(shimOpHash({ ...input, spec: { ...input.spec, action: "deny" } })).not.toBe(base);
    expect(shimOpHash({ ...input, vnfInstanceId: "43" })).not.toBe(base);
    expect(shimOpHash({ ...input, kind: "nat" })).not.toBe(base);
  });
});
