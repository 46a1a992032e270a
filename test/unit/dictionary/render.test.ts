// Escaping per target: a value lands in exactly one place of the request, whatever its characters.
import fc from "fast-check";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { loadDictionaryText } from "../../../src/dictionary/loader.ts";
import { applyAuth, MASK, redactRequest, renderRequest } from "../../../src/dictionary/render.ts";
import { compileTemplate } from "../../../src/dictionary/templates.ts";
import { escapeXml, xpathLiteral } from "../../../src/dictionary/xml-escape.ts";

const HOSTILE = [
  'x","type":"pass',
  '</entry><entry name="evil">',
  "../../",
  "%2e%2e/",
  "{{ 7*7 }}",
  "{% if true %}yes{% endif %}",
  "a&b=c?d#e",
  "line\nbreak",
  "quote ' and \" both",
  "emoji 🔥 and ünïcödé",
  "",
];

/** A dictionary whose single operation puts the description everywhere a value can land. */
function probe(bodyFormat: "json" | "form" | "xml"): ReturnType<typeof loadDictionaryText> {
  const body =
    bodyFormat === "json"
      ? `body: { descr: "{{ rule.description }}", nested: { list: ["{{ rule.description }}", 1] }, n: "{{ rule.priority | default(0) }}" }`
      : bodyFormat === "form"
        ? `bodyFormat: form\n        body: { descr: "{{ rule.description }}", data: { $json: { d: "{{ rule.description }}" } } }`
        : `bodyFormat: xml\n        body: "<entry name=\\"{{ rule.description }}\\"><d>{{ rule.description }}</d></entry>"`;
  return loadDictionaryText(
    `apiVersion: vnf-operator.io/dictionary/v1
vendor: probe
firmware: "*"
displayName: probe
auth: { type: none }
health: { method: GET, path: /h }
resources:
  firewallRule:
    ownership: { field: "{{ item.d }}" }
    normalize: {}
    operations:
      create:
        method: POST
        path: "/rules/{{ rule.description }}/x"
        query: { q: "{{ rule.description }}", fixed: "a b" }
        headers: { X-Note: "{{ rule.interface }}" }
        ${body}
        vendorRef: $.id
      get: { method: GET, path: "/r/{{ vendorRef }}" }
      list: { method: GET, path: /r, items: { path: "$[*]", vendorRef: $.id } }
      update: { method: PUT, path: "/r/{{ vendorRef }}" }
      delete: { method: DELETE, path: "/r/{{ vendorRef }}" }
`,
    `probe-${bodyFormat}.yaml`,
  );
}

function renderWith(dictionary: ReturnType<typeof probe>, description: string, iface = "lan") {
  const op = dictionary.resources.firewallRule?.operations.create;
  const step = op?.steps[0];
  if (!step) throw new Error("no create step");
  const rule = { interface: iface, action: "allow", description, priority: 7, source: { cidr: "any" } };
  return renderRequest(dictionary, step, { rule, device: { parameters: {} }, steps: {} }, "probe");
}

const json = probe("json");
const form = probe("form");
const xml = probe("xml");
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  trimValues: false,
});

describe("escaping per target", () => {
  it.each(HOSTILE)("keeps %j as one path segment, one query value and one JSON leaf", (value) => {
    const r = renderWith(json, value);
    const segments = r.path.split("/");
    expect(segments).toHaveLength(4);
    expect(decodeURIComponent(segments[2] ?? "")).toBe(value);
    expect(r.query).toEqual([
      ["q", value],
      ["fixed", "a b"],
    ]);
    const parsed = JSON.parse(r.body?.text ?? "");
    expect(parsed).toEqual({ descr: value, nested: { list: [value, 1] }, n: 7 });
  });

  it.each(HOSTILE)("keeps %j as one form field and one JSON-in-form leaf", (value) => {
    const r = renderWith(form, value);
    const fields = new URLSearchParams(r.body?.text ?? "");
    expect([...fields.keys()]).toEqual(["descr", "data"]);
    expect(fields.get("descr")).toBe(value);
    expect(JSON.parse(fields.get("data") ?? "")).toEqual({ d: value });
  });

  it.each(HOSTILE.filter((v) => !v.includes("\n")))(
    "keeps %j as one XML attribute and one text node",
    (value) => {
      const r = renderWith(xml, value);
      const doc = xmlParser.parse(r.body?.text ?? "");
      expect(Object.keys(doc)).toEqual(["entry"]);
      expect(doc.entry["@name"]).toBe(value);
      expect(Object.keys(doc.entry).sort()).toEqual(["@name", "d"]);
      expect(doc.entry.d === "" ? "" : String(doc.entry.d)).toBe(value);
    },
  );

  it("refuses a header value that would split the header", () => {
    expect(() => renderWith(json, "ok", "lan\r\nX-Evil: 1")).toThrow(/line break/);
  });

  it("refuses characters XML cannot carry instead of dropping them", () => {
    expect(() => renderWith(xml, "bell\u0007")).toThrow(/XML cannot carry/);
  });

  it("never evaluates a value as a template", () => {
    expect(compileTemplate("{{ x }}").render({ x: "{{ 7*7 }}" })).toBe("{{ 7*7 }}");
    expect(compileTemplate("a{{ x }}b").render({ x: "{% raw %}" })).toBe("a{% raw %}b");
  });

  it("property: any string reaches path, query, JSON and form verbatim", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (value) => {
        const r = renderWith(json, value);
        expect(decodeURIComponent(r.path.split("/")[2] ?? "")).toBe(value);
        expect(r.path.split("/")).toHaveLength(4);
        expect(r.query[0]).toEqual(["q", value]);
        expect(JSON.parse(r.body?.text ?? "").descr).toBe(value);
        const f = renderWith(form, value);
        expect(new URLSearchParams(f.body?.text ?? "").get("descr")).toBe(value);
      }),
      { numRuns: 300 },
    );
    // 600 renders: a few seconds on a loaded 2-core machine, so more than the default 5 s.
  }, 60_000);

  it("property: any XML-representable string round-trips through an XML body", () => {
    const xmlChar = fc
      .string({ unit: "grapheme", maxLength: 60 })
      .filter((s) => [...s].every((ch) => (ch.codePointAt(0) ?? 0) >= 0x20 || ch === "\t" || ch === "\n"));
    fc.assert(
      fc.property(xmlChar, (value) => {
        const doc = xmlParser.parse(renderWith(xml, value).body?.text ?? "");
        expect(doc.entry["@name"]).toBe(value);
        expect(Object.keys(doc.entry).sort()).toEqual(["@name", "d"]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("escape helpers", () => {
  it.each([
    ["a&b", "a&amp;b"],
    ["<x>", "&lt;x&gt;"],
    [`"'`, "&quot;&apos;"],
    ["plain", "plain"],
  ])("escapeXml(%j) = %j", (input, out) => {
    expect(escapeXml(input)).toBe(out);
  });

  it.each([
    ["rule1", "'rule1'"],
    ["it's", `"it's"`],
    [`it's "x"`, `concat('it', "'", 's "x"')`],
  ])("xpathLiteral(%j) = %s", (input, out) => {
    expect(xpathLiteral(input)).toBe(out);
  });
});

describe("auth material and redaction", () => {
  const base = renderWith(form, "d");

  it("adds auth headers, query and form fields and marks them secret", () => {
    const r = applyAuth(base, {
      headers: { Authorization: "Bearer s3cr3t" },
      query: { key: "k3y" },
      form: { key: "f0rm" },
    });
    expect(r.headers.Authorization).toBe("Bearer s3cr3t");
    expect(r.query).toContainEqual(["key", "k3y"]);
    expect(new URLSearchParams(r.body?.text ?? "").get("key")).toBe("f0rm");
    const red = redactRequest(r);
    const text = JSON.stringify(red);
    expect(text).not.toContain("s3cr3t");
    expect(text).not.toContain("k3y");
    expect(text).not.toContain("f0rm");
    expect(red.headers.Authorization).toBe(MASK);
    expect(new URLSearchParams(red.body?.text ?? "").get("descr")).toBe("d");
  });

  it("masks every header and the whole body of a sensitive (login) request", () => {
    const red = redactRequest({
      ...base,
      headers: { ...base.headers, Authorization: "Basic abc" },
      sensitive: true,
    });
    expect(red.headers.Authorization).toBe(MASK);
    expect(red.body?.text).toBe(MASK);
    expect(red.query.every(([, v]) => v === MASK)).toBe(true);
  });
});
