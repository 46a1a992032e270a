// The VyOS simulator's configuration session: set/delete against the schema, one commit per command
// list (all or nothing), and the firewall/nat verify step.
import { describe, expect, it } from "vitest";
import { description, ipv4Address, port, protocol } from "../../simulators/vyos/schema.ts";
import {
  applyCommands,
  type Command,
  ConfigSessionError,
  deletePath,
  lookup,
  setPath,
  type VTree,
} from "../../simulators/vyos/tree.ts";

const RULE = ["firewall", "ipv4", "name", "WAN_IN", "rule", "10"];
const set = (path: string[], value?: string): Command =>
  value === undefined ? { op: "set", path } : { op: "set", path, value };

function sessionError(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigSessionError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigSessionError");
}

describe("validators", () => {
  it.each([
    [ipv4Address, "10.0.0.0/24", true],
    [ipv4Address, "!10.0.0.1", true],
    [ipv4Address, "10.0.0.1-10.0.0.9", true],
    [ipv4Address, "2001:db8::/32", false],
    [port, "22", true],
    [port, "1000-2000,https", true],
    [port, "70000", false],
    [port, "2000-1000", false],
    [protocol, "tcp_udp", true],
    [protocol, "tcp/udp", false],
    [protocol, "6", true],
    [description, "ascii text [vnf:x]", true],
    [description, "ünïcödé", false],
    [description, "d".repeat(257), false],
  ])("%#: %s → %s", (validator, value, ok) => {
    expect(validator(value) === undefined).toBe(ok);
  });
});

describe("set and delete", () => {
  it("set builds the tree: tag nodes keyed by value, leaves, multi-values, valueless leaves", () => {
    const tree: VTree = {};
    setPath(tree, [...RULE, "action", "accept"]);
    setPath(tree, [...RULE, "log"]);
    setPath(tree, ["firewall", "group", "address-group", "G", "address", "10.0.0.1"]);
    setPath(tree, ["firewall", "group", "address-group", "G", "address", "10.0.0.2"]);
    expect(tree).toEqual({
      firewall: {
        ipv4: { name: { WAN_IN: { rule: { "10": { action: "accept", log: {} } } } } },
        group: { "address-group": { G: { address: ["10.0.0.1", "10.0.0.2"] } } },
      },
    });
  });

  it.each([
    [
      [...RULE, "actionx", "accept"],
      "Configuration path: [firewall ipv4 name WAN_IN rule 10 actionx] is not valid",
    ],
    [[...RULE, "action"], "requires a value"],
    [[...RULE, "action", "permit"], "Value validation failed"],
    [
      ["firewall", "ipv4", "name", "WAN_IN", "rule", "0", "action", "accept"],
      'Number "0" is not in range 1-999999',
    ],
    [[...RULE, "log", "yes"], "is not valid"],
  ])("refuses %j", (words, message) => {
    expect(sessionError(() => setPath({}, words))).toContain(message);
  });

  it("delete removes a node, a value of a multi-value leaf, and prunes emptied nodes but not tag values", () => {
    const tree: VTree = {};
    setPath(tree, [...RULE, "action", "accept"]);
    setPath(tree, [...RULE, "destination", "port", "22"]);
    setPath(tree, ["firewall", "group", "network-group", "N", "network", "10.0.0.0/8"]);
    setPath(tree, ["firewall", "group", "network-group", "N", "network", "10.1.0.0/16"]);
    deletePath(tree, [...RULE, "destination", "port"], false);
    expect(lookup(tree, RULE)).toEqual({ action: "accept" });
    deletePath(tree, ["firewall", "group", "network-group", "N", "network", "10.0.0.0/8"], false);
    expect(lookup(tree, ["firewall", "group", "network-group", "N", "network"])).toEqual(["10.1.0.0/16"]);
    deletePath(tree, RULE, false);
    expect(lookup(tree, ["firewall", "ipv4", "name", "WAN_IN"])).toEqual({});
  });

  it("deleting what does not exist fails (shorter message with api strict)", () => {
    expect(sessionError(() => deletePath({}, RULE, false))).toContain("Nothing to delete");
    expect(sessionError(() => deletePath({}, RULE, true))).toBe(
      "Cannot delete [firewall ipv4 name WAN_IN rule 10]: path/value does not exist",
    );
  });
});

describe("applyCommands: one commit", () => {
  it("applies the whole list on a copy and leaves the input untouched", () => {
    const before: VTree = {};
    const after = applyCommands(
      before,
      [set([...RULE, "action"], "drop"), set([...RULE, "protocol"], "tcp")],
      false,
    );
    expect(before).toEqual({});
    expect(lookup(after, RULE)).toEqual({ action: "drop", protocol: "tcp" });
  });

  it("a failing command discards every command of the list", () => {
    const before: VTree = {};
    expect(
      sessionError(() =>
        applyCommands(before, [set([...RULE, "action"], "drop"), set([...RULE, "action"], "permit")], false),
      ),
    ).toContain("Value validation failed");
    expect(before).toEqual({});
    expect(sessionError(() => applyCommands({}, [{ op: "rename", path: RULE }], false))).toBe(
      "'rename' is not a valid operation",
    );
  });

  it.each([
    [[set([...RULE, "protocol"], "tcp")], "Rule action must be defined"],
    [
      [set([...RULE, "action"], "accept"), set([...RULE, "destination", "port"], "22")],
      "Protocol must be tcp, udp, or tcp_udp",
    ],
    [
      [set([...RULE, "action"], "accept"), set([...RULE, "source", "group", "address-group"], "G")],
      'Invalid address-group "G"',
    ],
    [
      [set(["nat", "destination", "rule", "5", "translation", "address"], "10.0.0.1")],
      "inbound-interface not specified",
    ],
    [
      [set(["nat", "source", "rule", "5", "outbound-interface", "name"], "eth0")],
      "translation requires address and/or port",
    ],
  ])("the commit's verify refuses %#", (commands, message) => {
    const text = sessionError(() => applyCommands({}, commands, false));
    expect(text).toContain(message);
    expect(text).toContain("Commit failed");
  });
});
