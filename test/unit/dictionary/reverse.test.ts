// The reverse mapping (`import`) as a table: vendor objects an administrator made on pfSense → the
// spec of a manifest, or the reason no rule expresses them (never a spec the CRD would refuse).
import { beforeAll, describe, expect, it } from "vitest";
import type { CompiledDictionary } from "../../../src/dictionary/compiled.ts";
import { loadDictionaryFile } from "../../../src/dictionary/loader.ts";
import { normalizeItem } from "../../../src/dictionary/normalize.ts";
import { reverseObject } from "../../../src/dictionary/reverse.ts";

let dictionary: CompiledDictionary;
beforeAll(async () => {
  dictionary = await loadDictionaryFile("dictionaries/pfsense-2.7-restapi-v2.yaml");
});

function reverse(raw: Record<string, unknown>) {
  const resource = dictionary.resources.firewallRule;
  if (!resource?.reverse) throw new Error("no reverse mapping");
  const context = {
    device: { parameters: { outboundNatMode: "keep" } },
    steps: {},
    kind: "firewallRule",
    __valueMaps: dictionary.valueMaps,
    __reverseValueMaps: dictionary.reverseValueMaps,
  };
  return reverseObject("firewallRule", resource.reverse, normalizeItem(resource, "7", raw, context), context);
}

const rule = {
  tracker: 7,
  type: "pass",
  interface: ["lan"],
  ipprotocol: "inet",
  protocol: "tcp",
  source: "10.0.0.0/24",
  source_port: null,
  destination: "192.0.2.10",
  destination_port: "443",
  descr: "web servers",
  disabled: false,
  log: false,
  floating: false,
};

describe("reverse mapping (pfSense filter rules)", () => {
  it("gives the spec a human would write: CRD defaults left out", () => {
    expect(reverse(rule)).toEqual({
      ok: true,
      nameHint: "web servers",
      spec: {
        interface: "lan",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "10.0.0.0/24" },
        destination: { cidr: "192.0.2.10", port: "443" },
        description: "web servers",
      },
    });
  });

  it("keeps what differs from a default: disabled, logged, a port range, an alias", () => {
    const out = reverse({
      ...rule,
      disabled: true,
      log: true,
      destination: "web_hosts",
      destination_port: "8000:8080",
      ipprotocol: "inet46",
      source: "any",
    });
    expect(out).toMatchObject({
      ok: true,
      spec: { enabled: false, log: true, destination: { alias: "web_hosts", port: "8000-8080" } },
    });
    if (out.ok) expect(out.spec.source).toBeUndefined();
  });

  it.each([
    [{ interface: ["lan", "opt1"] }, /2 interfaces \(lan, opt1\)/],
    [{ floating: true, direction: "any" }, /floating rule with direction any/],
    [{ source: "!lan", ipprotocol: "inet46" }, /negated address/],
    // pfSense's factory "Default allow LAN to any rule": IPv4 only, with an alias as source.
    [{ source: "lan", destination: "any", ipprotocol: "inet" }, /address family inet/],
    // A value the dictionary's value map lacks: the CRD would refuse it, so import does.
    [{ protocol: "esp" }, /not a valid firewallRule: protocol:/],
    [{ protocol: "icmp", icmptype: ["echoreq", "unreach"] }, /ICMP types echoreq, unreach/],
    [{ sched: "office-hours" }, /a gateway, schedule, limiter or queue/],
    [{ statetype: "sloppy state" }, /state type sloppy state/],
  ])("refuses %j, saying why", (patch, reason) => {
    const out = reverse({ ...rule, ...patch });
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.reason).toMatch(reason);
      expect(out.nameHint).toBe("web servers");
    }
  });

  it("an object of a shape the dictionary does not expect is refused, not mapped", () => {
    const out = reverse({ ...rule, interface: undefined });
    expect(out).toMatchObject({ ok: false });
    if (!out.ok)
      expect(out.reason).toMatch(
        /^an object of a shape the dictionary does not know \(import\.unsupported\[0\]: /,
      );
  });
});
