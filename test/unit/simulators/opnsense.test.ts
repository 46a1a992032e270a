// The OPNsense simulator's models: field validation as `addRule`/`setRule` report it, getRule's option
// maps and searchRule's rows.
import { describe, expect, it } from "vitest";
import { filterRule } from "../../simulators/opnsense/filter-rule.ts";
import {
  applyInput,
  destinationNatRule,
  fieldProblem,
  flattenInput,
  present,
  row,
  toFieldString,
  withDefaults,
} from "../../simulators/opnsense/models.ts";

const env = { interfaces: ["wan", "lan"], aliases: ["partner_nets", "web_ports"], gateways: ["WAN_DHCP"] };
const field = (name: string) => {
  const found = filterRule.fields.find((f) => f.name === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
};

describe("field validation", () => {
  it.each([
    ["action", "pass", undefined],
    ["action", "allow", "Option not in list."],
    ["interface", "wan,lan", undefined],
    ["interface", "opt9", "Option not in list."],
    ["sequence", "0", "Sequence shall be between 1 and 999999."],
    ["enabled", "yes", "Value should be a boolean (0,1)."],
    ["destination_port", "1000-2000", undefined],
    ["destination_port", "2000-1000", "Please specify a valid portnumber, name, alias or range"],
    ["destination_port", "1000:2000", "Please specify a valid portnumber, name, alias or range"],
    ["destination_port", "https", undefined],
    ["destination_port", "HTTPS", undefined],
    ["destination_port", "any", undefined],
    // `["any"] + $wellknownservices` in PortField: the first well-known name loses its key to "any".
    ["destination_port", "cvsup", "Please specify a valid portnumber, name, alias or range"],
    ["destination_port", "web_ports", undefined],
    ["destination_port", "99999", "Please specify a valid portnumber, name, alias or range"],
    ["source_net", "partner_nets,lan", undefined],
    ["source_net", "10.0.0.0/8", undefined],
    // Only a whole value that is one address or subnet is added to the options: no lists of literals.
    [
      "source_net",
      "partner_nets,10.0.0.0/8",
      "partner_nets,10.0.0.0/8 is not a valid source IP address or alias.",
    ],
    ["source_net", "lanip", undefined],
    ["state-policy", "floating", undefined],
    ["state-policy", "", undefined],
    ["prio", "7", undefined],
    ["prio", "opt7", "Option not in list."],
    ["tcpflags1", "syn,ack", undefined],
    ["tcpflags1", "syn,bogus", "Option not in list."],
    ["tag", "a.b_c-1", undefined],
    ["tag", "a b", "Text does not validate."],
    ["max-src-conn-rate", "0", "Invalid integer value."],
    ["adaptivestart", "0", undefined],
    ["gateway", "WAN_DHCP", undefined],
    ["gateway", "NOPE", "Specify a valid gateway from the list matching the networks ip protocol."],
    ["source_net", "nowhere", "nowhere is not a valid source IP address or alias."],
    ["description", "d".repeat(255), undefined],
    ["description", "d".repeat(256), "Description should be a string between 1 and 255 characters."],
    // 255 bytes, not characters: PHP's preg without /u.
    ["description", "é".repeat(128), "Description should be a string between 1 and 255 characters."],
    ["description", "two\nlines", "Description should be a string between 1 and 255 characters."],
  ])("%s = %j → %s", (name, value, problem) => {
    expect(fieldProblem(field(name), value, env)).toBe(problem);
  });

  it("stores JSON values as PHP does: booleans 1/0, numbers as text, lists joined", () => {
    expect([true, false, 7, null, ["a", "b"]].map(toFieldString)).toEqual(["1", "0", "7", "", "a,b"]);
    expect(toFieldString({})).toBeUndefined();
  });
});

describe("applyInput", () => {
  const base = withDefaults(filterRule, {});

  it("fills defaults and keeps unknown fields out", () => {
    const result = applyInput(filterRule, base, { action: "block", interface: "wan", bogus: "x" }, env);
    expect(result).toHaveProperty("record");
    if (!("record" in result)) return;
    expect(result.record).toMatchObject({
      action: "block",
      interface: "wan",
      enabled: "1",
      quick: "1",
      sequence: "1",
      "state-policy": "",
      disablereplyto: "0",
    });
    expect(Object.keys(result.record)).toHaveLength(48);
    expect(result.record).not.toHaveProperty("bogus");
    expect(result.record).not.toHaveProperty("sort_order");
  });

  it("reports every refused field, keyed rule.<field>, and cross-field checks", () => {
    const result = applyInput(
      filterRule,
      base,
      { action: "allow", protocol: "ICMP", destination_port: "80" },
      env,
    );
    expect(result).toEqual({
      validations: {
        "rule.action": "Option not in list.",
        "rule.destination_port": "Destination ports are only valid for tcp or udp type rules.",
      },
    });
  });

  it("reads nested port-forward fields and lower-cases the protocol", () => {
    expect(flattenInput({ destination: { port: "80", network: "wanip" } })).toEqual({
      "destination.port": "80",
      "destination.network": "wanip",
    });
    const result = applyInput(
      destinationNatRule,
      withDefaults(destinationNatRule, { sequence: "1" }),
      {
        interface: "wan",
        protocol: "TCP",
        destination: { port: "80" },
        target: "10.0.0.1",
        "local-port": "8080",
      },
      env,
    );
    expect(result).toHaveProperty("record.protocol", "tcp");
    expect(result).toHaveProperty(["record", "destination.port"], "80");
    const noTarget = applyInput(
      destinationNatRule,
      withDefaults(destinationNatRule, { sequence: "1" }),
      {},
      env,
    );
    expect(noTarget).toEqual({ validations: { "rule.target": "A target is required." } });
  });
});

describe("read-back shapes", () => {
  const record = withDefaults(filterRule, { action: "block", interface: "lan", description: "d" });

  it("getRule: option fields as {key: {value, selected}}", () => {
    const shown = present(filterRule, record, env);
    expect(shown.action).toEqual({
      pass: { value: "Pass", selected: 0 },
      block: { value: "Block", selected: 1 },
      reject: { value: "Reject", selected: 0 },
    });
    // Multiple: no empty choice.
    expect(shown.interface).toEqual({
      wan: { value: "WAN", selected: 0 },
      lan: { value: "LAN", selected: 1 },
    });
    expect(shown["set-prio"]).toMatchObject({ "": { value: "Keep current priority", selected: 1 } });
    expect(shown.sort_order).toBe("400000.0000001");
    expect(shown.source_net).toBe("any");
    expect(shown.description).toBe("d");
  });

  it("searchRule: raw values plus %field descriptions", () => {
    expect(row(filterRule, "u-1", record, env)).toMatchObject({
      uuid: "u-1",
      action: "block",
      "%action": "Block",
      interface: "lan",
      "%interface": "LAN",
      "%state-policy": "default",
      "%gateway": "None",
      description: "d",
      prio_group: "400000",
    });
    // A field whose description equals its value gets no %field.
    expect(row(filterRule, "u-1", record, env)).not.toHaveProperty("%source_net");
    expect(row(filterRule, "u-1", record, env)).not.toHaveProperty("%icmptype");
  });
});
