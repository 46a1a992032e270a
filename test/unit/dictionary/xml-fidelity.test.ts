// XML values round-trip exactly: what the engine escapes into an XML body is what an XML parser
// (the appliance's, then the engine's own on read-back) gives back, whitespace and CR included; and
// elements a dictionary declares as lists are lists even when they occur once.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBody } from "../../../src/dictionary/response.ts";
import { escapeXml } from "../../../src/dictionary/xml-escape.ts";

const xmlText = fc.string({ unit: "grapheme", maxLength: 60 }).filter((s) =>
  [...s].every((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    return c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  }),
);

describe("XML text read back verbatim", () => {
  it.each([
    ["  leading and trailing  ", "<d>  leading and trailing  </d>"],
    ["a\rb\nc\td", "<d>a&#13;b&#10;c\td</d>"],
    ["🔥", "<d>&#x1F525;</d>"],
    ["<&>", "<d>&lt;&amp;&gt;</d>"],
    [" ", "<d> </d>"],
  ])("%j from %s", (expected, xml) => {
    expect(parseBody(xml, "xml").value).toEqual({ d: expected });
  });

  it("drops the whitespace that only indents elements", () => {
    const xml =
      '<response status="success">\n  <result>\n    <a>1</a>\n    <b> 2 </b>\n  </result>\n</response>\n';
    expect(parseBody(xml, "xml").value).toEqual({
      response: { "@status": "success", result: { a: "1", b: " 2 " } },
    });
  });

  it("keeps an element's own text next to its attributes", () => {
    expect(parseBody('<m code="7"> not here </m>', "xml").value).toEqual({
      m: { "@code": "7", "#text": " not here " },
    });
  });

  it("property: any XML-representable text escaped by the engine parses back to itself", () => {
    fc.assert(
      fc.property(xmlText, (value) => {
        const parsed = parseBody(`<e a="${escapeXml(value)}"><d>${escapeXml(value)}</d></e>`, "xml")
          .value as {
          e: { "@a": string; d: string };
        };
        expect(parsed.e["@a"]).toBe(value);
        expect(parsed.e.d).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("escapes CR, LF and TAB as character references", () => {
    expect(escapeXml("a\r\n\tb")).toBe("a&#13;&#10;&#9;b");
  });
});

describe("xmlLists", () => {
  const one = '<r><rules><entry name="a"><m><member>x</member></m></entry></rules></r>';
  const two = '<r><rules><entry name="a"/><entry name="b"/></rules></r>';

  it("makes a listed element a list even when it occurs once", () => {
    expect(parseBody(one, "xml", { xmlLists: ["entry", "member"] }).value).toEqual({
      r: { rules: { entry: [{ "@name": "a", m: { member: ["x"] } }] } },
    });
    expect(parseBody(two, "xml", { xmlLists: ["entry"] }).value).toEqual({
      r: { rules: { entry: [{ "@name": "a" }, { "@name": "b" }] } },
    });
  });

  it("leaves unlisted elements and attributes alone", () => {
    expect(parseBody(one, "xml").value).toEqual({
      r: { rules: { entry: { "@name": "a", m: { member: "x" } } } },
    });
    expect(parseBody('<r name="x"/>', "xml", { xmlLists: ["name"] }).value).toEqual({ r: { "@name": "x" } });
  });
});
