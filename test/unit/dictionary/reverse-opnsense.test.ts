// The OPNsense reverse mapping (`import`) as a table: filter rules an administrator made (raw rows as
// `searchRule` lists them) → a spec, or the reason no VnfFirewallRule expresses them. The filter model
// has no "floating" flag, so floating rules, inverted interfaces, policy routing and schedules are
// recognised by their own fields; each is refused, never imported as a plain rule on one interface.
import { describe, expect, it } from "vitest";
import { loadDictionaryFile } from "../../../src/dictionary/loader.ts";
import { normalizeItem } from "../../../src/dictionary/normalize.ts";
import { reverseObject } from "../../../src/dictionary/reverse.ts";

const rule = {
  uuid: "0b6f7b6e-6f3c-4f0e-9a51-0c1a2b3c4d5e",
  enabled: "1",
  action: "pass",
  quick: "1",
  interface: "lan",
  interfacenot: "0",
  direction: "in",
  ipprotocol: "inet",
  protocol: "TCP",
  source_net: "10.0.0.0/24",
  source_not: "0",
  source_port: "",
  destination_net: "192.0.2.10",
  destination_not: "0",
  destination_port: "443",
  gateway: "",
  sched: "",
  log: "0",
  description: "web servers",
  sequence: "10",
};

describe.each(["dictionaries/opnsense-26.1-api.yaml", "dictionaries/opnsense-25.7-api.yaml"])(
  "reverse mapping (%s filter rules)",
  (file) => {
    async function reverse(raw: Record<string, unknown>) {
      const dictionary = await loadDictionaryFile(file);
      const resource = dictionary.resources.firewallRule;
      if (!resource?.reverse) throw new Error("no reverse mapping");
      const context = {
        device: { parameters: {} },
        steps: {},
        kind: "firewallRule",
        __valueMaps: dictionary.valueMaps,
        __reverseValueMaps: dictionary.reverseValueMaps,
      };
      return reverseObject(
        "firewallRule",
        resource.reverse,
        normalizeItem(resource, rule.uuid, raw, context),
        context,
      );
    }

    it("imports a plain interface rule", { timeout: 60_000 }, async () => {
      expect(await reverse(rule)).toMatchObject({
        ok: true,
        spec: { interface: "lan", action: "allow", destination: { cidr: "192.0.2.10", port: "443" } },
      });
    });

    it("imports a plain rule given as getRule's option maps (nothing selected means no gateway)", {
      timeout: 60_000,
    }, async () => {
      const out = await reverse({
        ...rule,
        interface: { lan: { value: "LAN", selected: 1 }, opt1: { value: "OPT1", selected: 0 } },
        gateway: { "": { value: "default", selected: 1 }, WAN_DHCP: { value: "WAN_DHCP", selected: 0 } },
        sched: { "": { value: "none", selected: 1 } },
      });
      expect(out).toMatchObject({ ok: true, spec: { interface: "lan" } });
    });

    it.each([
      [{ interface: "lan,opt1" }, /floating rule/],
      [{ interface: "" }, /floating rule/],
      [{ interfacenot: "1" }, /inverted interface/],
      [{ gateway: "WAN_DHCP" }, /policy routing \(a gateway is set\)/],
      [{ sched: "office_hours" }, /a schedule is set/],
      [{ source_not: "1" }, /negated address/],
      // The same as getRule's option maps.
      [
        { interface: { lan: { value: "LAN", selected: 1 }, opt1: { value: "OPT1", selected: 1 } } },
        /floating rule/,
      ],
      [
        { gateway: { "": { value: "default", selected: 0 }, WAN_DHCP: { value: "WAN_DHCP", selected: 1 } } },
        /policy routing/,
      ],
      [
        { sched: { "": { value: "none", selected: 0 }, office_hours: { value: "office", selected: 1 } } },
        /a schedule/,
      ],
    ])("refuses %j, saying why", { timeout: 60_000 }, async (patch, reason) => {
      const out = await reverse({ ...rule, ...patch });
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.reason).toMatch(reason);
    });
  },
);
