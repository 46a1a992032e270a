import { describe, expect, it } from "vitest";
import { freshTables, tables } from "../../simulators/fortios/catalog.ts";
import type { FortiError } from "../../simulators/fortios/envelope.ts";
import { invalidFilter, list } from "../../simulators/fortios/filter.ts";
import { buildRecord, type Environment, type VdomTables } from "../../simulators/fortios/tables.ts";

const env: Environment = {
  interfaces: ["port1", "port2"],
  services: ["ALL", "HTTPS"],
  schedules: ["always"],
};
const empty = (): VdomTables => freshTables();

describe("FortiOS filters", () => {
  const records = [
    { policyid: 1, name: "a", action: "accept", srcaddr: [{ name: "all", q_origin_key: "all" }] },
    { policyid: 2, name: "b,c", action: "deny", srcaddr: [{ name: "web", q_origin_key: "web" }] },
    { policyid: 10, name: "d", action: "accept", srcaddr: [] },
  ];
  const ids = (query: string) => list(records, new URLSearchParams(query)).results.map((r) => r.policyid);

  it.each([
    ["filter=name==a", [1]],
    ["filter=action!=accept", [2]],
    ["filter=name=@c", [2]],
    ["filter=name!@c", [1, 10]],
    ["filter=policyid>=2", [2, 10]],
    ["filter=policyid<10", [1, 2]],
    ["filter=name==a,name==d", [1, 10]],
    ["filter=name==b\\,c", [2]],
    ["filter=action==accept&filter=policyid>1", [10]],
    ["filter=srcaddr==web", [2]],
    ["start=1&count=1", [2]],
  ])("%s -> %j", (query, expected) => {
    expect(ids(query)).toEqual(expected);
  });

  it("keeps only the formatted attributes and reports malformed filters", () => {
    expect(list(records, new URLSearchParams("format=name")).results[0]).toEqual({ name: "a" });
    expect(invalidFilter(new URLSearchParams("filter=name"))).toBe("name");
    expect(invalidFilter(new URLSearchParams("filter=name==a"))).toBeUndefined();
  });
});

describe("FortiOS records", () => {
  it("normalises subnets and members, fills defaults and a uuid", () => {
    const address = buildRecord(
      tables.address,
      { name: "n", subnet: "10.1.0.0/16" },
      undefined,
      empty(),
      env,
    );
    expect(address).toMatchObject({ subnet: "10.1.0.0 255.255.0.0", type: "ipmask", comment: "" });
    expect(address.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const host = buildRecord(tables.address, { name: "h", subnet: "10.1.2.3" }, undefined, empty(), env);
    expect(host.subnet).toBe("10.1.2.3 255.255.255.255");
  });

  it("ignores unknown attributes and never changes the mkey through an update", () => {
    const vdom = empty();
    const vip = buildRecord(
      tables.vip,
      { name: "v", extip: "1.2.3.4", mappedip: [{ range: "10.0.0.1-10.0.0.9" }], x: 1 },
      undefined,
      vdom,
      env,
    );
    expect(vip).not.toHaveProperty("x");
    const renamed = buildRecord(tables.vip, { name: "w", comment: "c" }, vip, vdom, env);
    expect(renamed).toMatchObject({ name: "v", comment: "c" });
  });

  it.each([
    [{ name: "v", extip: "1.2.3.4" }, -56],
    [{ name: "v", extip: "1.2.3", mappedip: [{ range: "10.0.0.1" }] }, -651],
    [{ name: "v", extip: "1.2.3.4", mappedip: ["10.0.0.1"] }, -651],
    [{ name: "v", extip: "1.2.3.4", mappedip: [{ range: "10.0.0.1" }], extintf: "port7" }, -3],
    [{ name: "v", extip: "1.2.3.4", mappedip: [{ range: "10.0.0.1" }], portforward: "enable" }, -56],
    [
      { name: "v", extip: "1.2.3.4", mappedip: [{ range: "10.0.0.1" }], protocol: "tcp", extport: "70000" },
      -651,
    ],
  ])("refuses VIP %j with error %i", (input, code) => {
    expect(() => buildRecord(tables.vip, input, undefined, empty(), env)).toThrow(
      expect.objectContaining({ code, httpStatus: 424 }) as unknown as FortiError,
    );
  });
});
