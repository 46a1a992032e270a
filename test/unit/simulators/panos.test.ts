// The PAN-OS simulator's pure parts: xpaths, the XML element tree, schema validation, set/edit/delete
// semantics on a configuration, and commit-time reference checks.
import { describe, expect, it } from "vitest";
import { commitErrors, isAddressLiteral } from "../../simulators/panos/commit-check.ts";
import { emptyConfig, PanConfigStore, parseXpath } from "../../simulators/panos/config.ts";
import { PanError } from "../../simulators/panos/errors.ts";
import { fromJson, parseFragment, serialize, toJson } from "../../simulators/panos/xml.ts";

const VSYS = "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']";
const RULES = `${VSYS}/rulebase/security/rules`;
const env = { zones: ["trust", "untrust"], interfaces: ["ethernet1/1"], applications: ["icmp"] };

function panError(action: () => unknown): PanError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(PanError);
    return error as PanError;
  }
  throw new Error("expected a PanError");
}

function store(): PanConfigStore {
  return new PanConfigStore(() => emptyConfig(["vsys1"]));
}

const rule = (extra = "") =>
  `<from><member>untrust</member></from><to><member>trust</member></to><source><member>any</member></source><destination><member>10.0.0.1</member></destination><application><member>any</member></application><service><member>any</member></service><action>allow</action>${extra}`;

describe("parseXpath", () => {
  it.each([
    ["/config", [{ tag: "config" }]],
    [
      `/config/devices/entry[@name='a b']`,
      [{ tag: "config" }, { tag: "devices" }, { tag: "entry", name: "a b" }],
    ],
    [`/config/x/entry[@name="it's"]`, [{ tag: "config" }, { tag: "x" }, { tag: "entry", name: "it's" }]],
  ])("%s", (xpath, steps) => {
    expect(parseXpath(xpath)).toEqual(steps);
  });

  it.each([
    "config",
    "/devices",
    "/config//x",
    "/config/x[@id='1']",
    "/config/entry[@name=concat('a', \"'\")]",
    "/config/x[1]",
  ])("refuses %s with code 6", (xpath) => {
    expect(panError(() => parseXpath(xpath)).code).toBe(6);
  });
});

describe("XML tree", () => {
  it("parses what the XML says: escaped text stays text, unescaped markup becomes elements", () => {
    const [escaped] = parseFragment("<description>a &lt;/description&gt;&lt;action&gt;</description>");
    expect(escaped?.text).toBe("a </description><action>");
    const nodes = parseFragment(
      "<description>a</description><action>deny</action><description></description>",
    );
    expect(nodes.map((n) => n.tag)).toEqual(["description", "action", "description"]);
  });

  it("refuses malformed XML and DTDs", () => {
    expect(() => parseFragment("<a>")).toThrow();
    expect(() => parseFragment('<!DOCTYPE x [<!ENTITY e "z">]><a>&e;</a>')).toThrow(/DTD/);
  });

  it.each(["plain", "a & b < c > d", "quote \" and ' apostrophe", "line\r\nbreak", "tab\there", "🔥 ü"])(
    "round-trips %j through serialize and parse, as text and attribute",
    (value) => {
      const [node] = parseFragment(
        serialize({ tag: "e", attrs: { name: value }, children: [], text: value }),
      );
      expect(node?.attrs.name).toBe(value);
      expect(node?.text).toBe(value);
    },
  );

  it("converts to the control API's JSON and back", () => {
    const [node] = parseFragment(`<entry name="r1">${rule("<description>d</description>")}</entry>`);
    if (!node) throw new Error("no node");
    const json = toJson(node) as Record<string, unknown>;
    expect(json).toMatchObject({ "@name": "r1", from: ["untrust"], action: "allow", description: "d" });
    expect(serialize(fromJson("entry", json))).toBe(serialize(node));
  });
});

describe("configuration store", () => {
  it("set creates the path and merges: member lists gain members, leaves are replaced", () => {
    const s = store();
    s.set(`${RULES}/entry[@name='r1']`, parseFragment(rule()));
    s.set(
      `${RULES}/entry[@name='r1']`,
      parseFragment("<from><member>trust</member></from><action>deny</action>"),
    );
    const [entry] = s.read(`${RULES}/entry[@name='r1']`, "candidate");
    expect(toJson(entry ?? { tag: "", attrs: {}, children: [] })).toMatchObject({
      from: ["untrust", "trust"],
      action: "deny",
    });
    expect(entry?.attrs.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.pending).toBe(true);
    expect(s.read(`${RULES}/entry[@name='r1']`, "running")).toEqual([]);
  });

  it("edit replaces the node whole (keeping its uuid) and must name that node", () => {
    const s = store();
    s.set(`${RULES}/entry[@name='r1']`, parseFragment(rule()));
    const uuid = s.read(`${RULES}/entry[@name='r1']`, "candidate")[0]?.attrs.uuid;
    s.edit(`${RULES}/entry[@name='r1']`, parseFragment('<entry name="r1"><action>deny</action></entry>'));
    const [entry] = s.read(`${RULES}/entry[@name='r1']`, "candidate");
    expect(entry?.children.map((c) => c.tag)).toEqual(["action"]);
    expect(entry?.attrs.uuid).toBe(uuid);
    const error = panError(() =>
      s.edit(`${RULES}/entry[@name='r1']`, parseFragment('<entry name="r2"><action>deny</action></entry>')),
    );
    expect(error).toMatchObject({ code: 12, lines: ["edit breaks config validity"] });
  });

  it("validates against the schema: unexpected elements, values, names (code 12)", () => {
    const s = store();
    const x = `${RULES}/entry[@name='r1']`;
    expect(panError(() => s.set(x, parseFragment("<actionx>allow</actionx>"))).lines[0]).toBe(
      " r1 -> actionx unexpected here",
    );
    expect(panError(() => s.set(x, parseFragment("<action>permit</action>"))).code).toBe(12);
    expect(
      panError(() => s.set(x, parseFragment(`<description>${"d".repeat(1025)}</description>`))).code,
    ).toBe(12);
    expect(panError(() => s.set(`${RULES}/entry[@name='bad/name']`, parseFragment(rule()))).code).toBe(12);
    expect(panError(() => s.set(`${RULES}/entry[@name='r1']/bogus`, parseFragment(rule()))).code).toBe(6);
    expect(panError(() => s.set(x.replace("vsys1", "vsys2"), parseFragment(rule()))).code).toBe(12);
  });

  it("delete: a missing node is code 7, a service a rule uses is code 10", () => {
    const s = store();
    expect(panError(() => s.delete(`${RULES}/entry[@name='nope']`)).code).toBe(7);
    s.set(
      VSYS,
      parseFragment(
        '<service><entry name="svc"><protocol><tcp><port>443</port></tcp></protocol></entry></service>',
      ),
    );
    s.set(
      `${RULES}/entry[@name='r1']`,
      parseFragment(rule().replace("<member>any</member></service>", "<member>svc</member></service>")),
    );
    const error = panError(() => s.delete(`${VSYS}/service/entry[@name='svc']`));
    expect(error.code).toBe(10);
    expect(error.lines.join("\n")).toContain("rulebase -> security -> rules -> r1 -> service");
    s.delete(`${RULES}/entry[@name='r1']`);
    s.delete(`${VSYS}/service/entry[@name='svc']`);
    expect(s.read(`${VSYS}/service/entry`, "candidate")).toEqual([]);
  });

  it("move reorders entries", () => {
    const s = store();
    for (const name of ["a", "b", "c"]) s.set(`${RULES}/entry[@name='${name}']`, parseFragment(rule()));
    const order = () => s.read(`${RULES}/entry`, "candidate").map((e) => e.attrs.name);
    s.move(`${RULES}/entry[@name='c']`, "top", undefined);
    expect(order()).toEqual(["c", "a", "b"]);
    s.move(`${RULES}/entry[@name='c']`, "after", "b");
    expect(order()).toEqual(["a", "b", "c"]);
    s.move(`${RULES}/entry[@name='a']`, "before", "c");
    expect(order()).toEqual(["b", "a", "c"]);
    expect(panError(() => s.move(`${RULES}/entry[@name='a']`, "before", "zz")).code).toBe(12);
  });
});

describe("commit checks", () => {
  it.each(["10.0.0.1", "10.0.0.0/8", "2001:db8::/32", "10.0.0.1-10.0.0.9", "::1"])(
    "%s is an address",
    (v) => {
      expect(isAddressLiteral(v)).toBe(true);
    },
  );
  it.each(["10.0.0.0/33", "host", "10.0.0.1-::1", "10.0.0.1/8/1"])("%s is not", (v) => {
    expect(isAddressLiteral(v)).toBe(false);
  });

  it("reports missing fields and unknown zones, addresses, services and interfaces", () => {
    const s = store();
    s.set(`${RULES}/entry[@name='ok']`, parseFragment(rule()));
    s.set(
      `${RULES}/entry[@name='bad']`,
      parseFragment("<from><member>ghost</member></from><action>allow</action>"),
    );
    s.set(
      `${VSYS}/rulebase/nat/rules/entry[@name='n1']`,
      parseFragment(
        "<from><member>untrust</member></from><to><member>untrust</member></to><source><member>any</member></source><destination><member>any</member></destination><to-interface>ethernet9/9</to-interface><destination-translation></destination-translation>",
      ),
    );
    expect(commitErrors(s.candidate, env)).toEqual([
      "bad -> from 'ghost' is not a valid reference",
      "bad -> to is missing",
      "bad -> source is missing",
      "bad -> destination is missing",
      "bad -> application is missing",
      "bad -> service is missing",
      "n1 -> to-interface 'ethernet9/9' is not a valid reference",
      "n1 -> destination-translation -> translated-address is missing",
    ]);
  });
});

describe("PAN-OS API keys", () => {
  it("are base64 of ASCII text: LUFRPT…, letters, digits and = only, never + or / (pan-python sends them unencoded)", async () => {
    const { newApiKey } = await import("../../simulators/panos/system.ts");
    const keys = Array.from({ length: 2000 }, () => newApiKey());
    for (const key of keys) expect(key).toMatch(/^LUFRPT[A-Za-z0-9]+=*$/);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Buffer.from(keys[0] ?? "", "base64").toString("ascii")).toMatch(/^-AQ==/);
  });
});
