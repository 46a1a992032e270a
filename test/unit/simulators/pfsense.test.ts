import { describe, expect, it } from "vitest";
import { PfError } from "../../simulators/pfsense/envelope.ts";
import { validateFields, withDefaults } from "../../simulators/pfsense/fields.ts";
import { firewallRule, portForward } from "../../simulators/pfsense/models.ts";
import { runQuery, typedValue } from "../../simulators/pfsense/query.ts";

const interfaces = ["wan", "lan", "opt1"];
const base = { type: "pass", interface: ["wan"], ipprotocol: "inet", source: "any", destination: "any" };

function errorOf(action: () => unknown): { id: string; message: string } | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof PfError) return { id: error.responseId, message: error.message };
    throw error;
  }
}

describe("pfSense field validation", () => {
  it("fills defaults and nulls conditional fields whose conditions fail", () => {
    const record = validateFields(
      firewallRule.fields,
      { ...base, destination_port: "22" },
      undefined,
      interfaces,
    );
    expect(record).toMatchObject({
      protocol: null,
      destination_port: null,
      descr: "",
      disabled: false,
      statetype: "keep state",
      quick: null,
      direction: null,
      icmptype: null,
    });
  });

  it.each([
    [{ type: null }, "FIELD_IS_REQUIRED", "Field `type` is required."],
    [{ type: 1 }, "FIELD_INVALID_TYPE", "Field `type` must be of type `string`"],
    [{ interface: [] }, "FIELD_EMPTY_NOT_ALLOWED", "Field `interface` cannot be empty."],
    [{ source: "" }, "FIELD_EMPTY_NOT_ALLOWED", "Field `source` cannot be empty."],
    [{ protocol: "sctp" }, "FIELD_INVALID_CHOICE", "Field `protocol` must be one of ["],
    [{ protocol: "tcp", source_port: "0" }, "PORT_FIELD_INVALID", "invalid port value `0`"],
    [{ protocol: "tcp", source_port: "1:2:3" }, "PORT_FIELD_INVALID", "invalid port value `1:2:3`"],
    [{ source: "lan:address" }, "FILTER_ADDRESS_FIELD_INVALID", "value `lan:address` is invalid"],
    [{ source: "300.0.0.1" }, "FILTER_ADDRESS_FIELD_INVALID", "value `300.0.0.1` is invalid"],
    [{ protocol: "icmp", icmptype: ["ping"] }, "FIELD_INVALID_CHOICE", "Field `icmptype` must be one of"],
  ])("%j -> %s", (overrides, id, message) => {
    const error = errorOf(() =>
      validateFields(firewallRule.fields, { ...base, ...overrides }, undefined, interfaces),
    );
    expect(error?.id).toBe(id);
    expect(error?.message).toContain(message);
  });

  it("merges an update over the stored object and refuses to change a non-editable field", () => {
    const stored = validateFields(firewallRule.fields, { ...base, descr: "x" }, undefined, interfaces);
    const updated = validateFields(firewallRule.fields, { descr: "y" }, stored, interfaces);
    expect(updated).toMatchObject({ ...base, descr: "y" });
    const error = errorOf(() => validateFields(firewallRule.fields, { floating: true }, stored, interfaces));
    expect(error?.id).toBe("FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE");
  });

  it("ignores read-only and unknown fields in requests", () => {
    const record = validateFields(
      firewallRule.fields,
      { ...base, tracker: 5, bogus: 1 },
      undefined,
      interfaces,
    );
    expect(record.tracker).toBeUndefined();
    expect(record).not.toHaveProperty("bogus");
  });

  it("requires local_port on port forwards only for port protocols", () => {
    const forward = { interface: "wan", source: "any", destination: "wan:ip", target: "10.0.0.1" };
    expect(
      errorOf(() =>
        validateFields(portForward.fields, { ...forward, protocol: "tcp" }, undefined, interfaces),
      )?.id,
    ).toBe("FIELD_IS_REQUIRED");
    const gre = validateFields(
      portForward.fields,
      { ...forward, protocol: "gre", local_port: "80" },
      undefined,
      interfaces,
    );
    expect(gre.local_port).toBeNull();
  });

  it("stores GUI objects with defaults and condition-nulled fields", () => {
    expect(withDefaults(firewallRule.fields, { ...base, protocol: "tcp" })).toMatchObject({
      icmptype: null,
      quick: null,
      log: false,
    });
  });
});

describe("pfSense queries", () => {
  const items = [
    { id: 0, descr: "vnf-operator:a", tracker: 10, disabled: false, interface: ["wan"] },
    { id: 1, descr: "vnf-operator:b", tracker: 20, disabled: true, interface: ["lan"] },
    { id: 2, descr: "other", tracker: 30, disabled: false, interface: ["wan", "lan"] },
  ];
  const ids = (query: string) => runQuery(items, new URLSearchParams(query)).map((item) => item.id);

  it.each([
    ["", [0, 1, 2]],
    ["tracker=20", [1]],
    ["tracker=2", []],
    ["descr=other", [2]],
    ["disabled=true", [1]],
    ["descr__contains=operator", [0, 1]],
    ["descr__startswith=vnf", [0, 1]],
    ["descr__endswith=b", [1]],
    ["interface__contains=lan", [1, 2]],
    ["tracker__gt=10&tracker__lte=30", [1, 2]],
    ["tracker__lt=20", [0]],
    ["descr__regex=^vnf-operator:[ab]$", [0, 1]],
    ["descr__contains=operator&disabled=false", [0]],
    ["limit=1&offset=1", [1]],
    ["sort_by=descr&sort_order=SORT_DESC", [1, 0, 2]],
    ["reverse=true", [2, 1, 0]],
  ])("%s -> %j", (query, expected) => {
    expect(ids(query)).toEqual(expected);
  });

  it("types query values as the package does and refuses an unknown filter", () => {
    expect([
      typedValue("12"),
      typedValue("-3"),
      typedValue("true"),
      typedValue("1.5"),
      typedValue("x"),
    ]).toEqual([12, -3, true, "1.5", "x"]);
    expect(() => ids("descr__like=x")).toThrow(PfError);
  });
});
