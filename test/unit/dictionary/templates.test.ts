// Templates and structures: native typing of lone expressions, omit, directives, value maps, markers.
import { describe, expect, it } from "vitest";
import { markerToken, readMarker, stripMarker } from "../../../src/dictionary/rule-input.ts";
import { compileStructure, renderStructure } from "../../../src/dictionary/structure.ts";
import { compileTemplate, isCidrOrAny, OMIT, TemplateError } from "../../../src/dictionary/templates.ts";

const maps = {
  __valueMaps: { action: { allow: "pass", deny: "block" }, protocol: { any: null, tcp: "tcp" } },
  __reverseValueMaps: { action: { pass: "allow", block: "deny" }, protocol: { null: "any", tcp: "tcp" } },
};
const render = (structure: unknown, ctx: Record<string, unknown> = {}) =>
  renderStructure(compileStructure(structure), { ...maps, ...ctx });

describe("lone expressions keep their type", () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ["{{ n }}", { n: 5 }, 5],
    ["{{ b }}", { b: false }, false],
    ["{{ not b }}", { b: false }, true],
    ["{{ none }}", {}, null],
    ["{{ [ {name: x} ] }}", { x: "port1" }, [{ name: "port1" }]],
    ["{{ n | string }}", { n: 5 }, "5"],
    ["n={{ n }}", { n: 5 }, "n=5"],
    [" {{ n }}", { n: 5 }, " 5"],
  ])("%s → %j", (source, ctx, value) => {
    expect(compileTemplate(source).evaluate(ctx)).toEqual(value);
  });

  it("throws on an undefined output, unless asked to allow it (conditions)", () => {
    expect(() => compileTemplate("{{ x }}").evaluate({})).toThrow(TemplateError);
    expect(() => compileTemplate("a{{ x }}").evaluate({})).toThrow(/undefined/);
    expect(compileTemplate("{{ x }}").evaluate({}, { allowUndefined: true })).toBeUndefined();
  });

  it("cannot reach the file system", () => {
    expect(() => compileTemplate('{% include "/etc/passwd" %}').evaluate({})).toThrow(TemplateError);
  });
});

describe("structures", () => {
  it("removes omitted keys and list elements", () => {
    expect(
      render({ a: "{{ omit }}", b: 1, l: ["{{ omit }}", "x"], p: "{{ port or omit }}" }, { port: undefined }),
    ).toEqual({
      b: 1,
      l: ["x"],
    });
  });

  it("includes $if blocks only when the condition holds (undefined is false)", () => {
    const s = {
      list: [{ $if: "{{ port }}", $value: { port: "{{ port }}" } }, { always: true }],
      m: { $if: "{{ flag }}", k: 1 },
    };
    expect(render(s, { port: "443", flag: true })).toEqual({
      list: [{ port: "443" }, { always: true }],
      m: { k: 1 },
    });
    expect(render(s, { flag: false })).toEqual({ list: [{ always: true }] });
  });

  it("renders $json as text and $xml with escaping, and $$ as a literal dollar key", () => {
    expect(render({ data: { $json: { b: "{{ v }}", a: [1] } } }, { v: 'q"' })).toEqual({
      data: '{"b":"q\\"","a":[1]}',
    });
    expect(render({ e: { $xml: "<d>{{ v }}</d>" } }, { v: "<&>" })).toEqual({ e: "<d>&lt;&amp;&gt;</d>" });
    expect(render({ $$ref: "x" })).toEqual({ $ref: "x" });
  });

  it("refuses unknown directives and misplaced ones", () => {
    expect(() => compileStructure({ $iff: "x" })).toThrow(/unknown directive/);
    expect(() => compileStructure({ $xml: "a", b: 1 })).toThrow(/only key/);
    expect(() => compileStructure({ $value: 1 })).toThrow(/only allowed next to \$if/);
  });
});

describe("value maps", () => {
  it("maps forward and back; an unknown canonical value is a refusal, an unknown vendor value passes", () => {
    expect(render({ t: "{{ a | mapValue('action') }}" }, { a: "allow" })).toEqual({ t: "pass" });
    expect(render({ p: "{{ p | mapValue('protocol') }}" }, { p: "any" })).toEqual({ p: null });
    expect(render({ a: "{{ t | unmapValue('action') }}" }, { t: "block" })).toEqual({ a: "deny" });
    expect(render({ p: "{{ t | unmapValue('protocol') }}" }, { t: null })).toEqual({ p: "any" });
    expect(render({ a: "{{ t | unmapValue('action') }}" }, { t: "match" })).toEqual({ a: "match" });
    let error: unknown;
    try {
      render({ t: "{{ a | mapValue('action') }}" }, { a: "reject" });
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/"reject" is not supported by this dictionary \(valueMaps\.action\)/);
  });
});

describe("ownership markers", () => {
  it("writes the token; reads it only at the end of the field, where the dictionary writes it", () => {
    expect(markerToken("ns/web")).toBe("[vnf:ns/web]");
    expect(readMarker("allow web [vnf:ns/web]")).toBe("ns/web");
    expect(readMarker("[vnf:ns/web]")).toBe("ns/web");
    expect(readMarker("allow web [vnf:ns/web]  ")).toBe("ns/web");
    expect(readMarker(42)).toBeUndefined();
  });

  it.each([
    ["a token the user typed, then ours: ours", "see [vnf:forged] here [vnf:ours]", "ours"],
    ["a token the user typed, ours missing: none", "see [vnf:forged] here", undefined],
    ["a token not at the end: none", "[vnf:x] desc", undefined],
    ["a token glued to text: none", "desc[vnf:x]", undefined],
    ["two tokens: the last", "[vnf:a] [vnf:b]", "b"],
  ])("parses defensively: %s", (_what, text, id) => {
    expect(readMarker(text)).toBe(id);
  });

  it.each([
    ["desc [vnf:x]", "desc"],
    [" [vnf:x]", ""],
    ["[vnf:x]", ""],
    [" padded  [vnf:x]", " padded "],
    ["no marker", "no marker"],
    // Not our token (not at the end): the text is the user's, kept whole.
    ["[vnf:x] desc", "[vnf:x] desc"],
    ["typed [vnf:y] [vnf:x]", "typed [vnf:y]"],
  ])("stripMarker(%j) = %j", (input, out) => {
    expect(stripMarker(input)).toBe(out);
  });

  it("refuses marker ids that could break out of the token", () => {
    expect(() => markerToken("a]b")).toThrow();
    expect(() => markerToken("a b")).toThrow();
    expect(() => markerToken("")).toThrow();
  });
});

describe("isCidrOrAny", () => {
  it.each([
    ["any", true],
    ["10.0.0.1", true],
    ["10.0.0.0/24", true],
    ["2001:db8::/64", true],
    ["10.0.0.0/33", false],
    ["web_servers", false],
    ["lan", false],
  ])("%s → %s", (value, ok) => {
    expect(isCidrOrAny(value)).toBe(ok);
  });
});

describe("OMIT", () => {
  it("is not a string in text context", () => {
    expect(() => compileTemplate("a{{ omit }}").render({})).toThrow(/omit/);
    expect(compileTemplate("{{ omit }}").evaluate({})).toBe(OMIT);
  });
});
