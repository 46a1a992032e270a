// opHash: the same request gives the same hash whatever key order or whitespace; any change of
// method, path, query or body changes it; credentials never enter it.
import { describe, expect, it } from "vitest";
import { canonicalJson, opHash } from "../../../src/dictionary/op-hash.ts";
import { applyAuth, type RenderedRequest } from "../../../src/dictionary/render.ts";

function req(overrides: Partial<RenderedRequest> = {}): RenderedRequest {
  return {
    method: "POST",
    path: "/api/v2/firewall/rule",
    query: [
      ["a", "1"],
      ["b", "2"],
    ],
    headers: { Accept: "application/json" },
    body: {
      format: "json",
      contentType: "application/json",
      value: { type: "pass", descr: "x", n: [1, 2] },
      text: "",
    },
    secret: { headers: [], query: [], form: [] },
    label: "t",
    responseFormat: "json",
    ...overrides,
  };
}

describe("opHash", () => {
  const base = opHash(req());

  it("is a SHA-256 hex digest, stable across calls", () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(opHash(req())).toBe(base);
  });

  it.each<[string, Partial<RenderedRequest>]>([
    [
      "reordered body keys",
      { body: { format: "json", contentType: "", value: { n: [1, 2], descr: "x", type: "pass" }, text: "" } },
    ],
    [
      "reordered query",
      {
        query: [
          ["b", "2"],
          ["a", "1"],
        ],
      },
    ],
    ["different headers", { headers: { Accept: "*/*", "X-Trace": "1" } }],
    ["different label", { label: "other" }],
  ])("ignores %s", (_name, overrides) => {
    expect(opHash(req(overrides))).toBe(base);
  });

  it.each<[string, Partial<RenderedRequest>]>([
    ["method", { method: "PUT" }],
    ["path", { path: "/api/v2/firewall/rules" }],
    [
      "query value",
      {
        query: [
          ["a", "9"],
          ["b", "2"],
        ],
      },
    ],
    [
      "body value",
      {
        body: { format: "json", contentType: "", value: { type: "block", descr: "x", n: [1, 2] }, text: "" },
      },
    ],
    [
      "array order",
      { body: { format: "json", contentType: "", value: { type: "pass", descr: "x", n: [2, 1] }, text: "" } },
    ],
  ])("changes with the %s", (_name, overrides) => {
    expect(opHash(req(overrides))).not.toBe(base);
  });

  it("excludes credentials added by auth (headers, query and form fields)", () => {
    const form = req({
      body: { format: "form", contentType: "", value: { data: '{"b":1,"a":2}' }, text: "data=..." },
    });
    const a = applyAuth(form, {
      headers: { Authorization: "Bearer one" },
      query: { key: "one" },
      form: { key: "one" },
    });
    const b = applyAuth(form, {
      headers: { Authorization: "Bearer two" },
      query: { key: "two" },
      form: { key: "two" },
    });
    expect(opHash(a)).toBe(opHash(b));
    expect(opHash(a)).toBe(opHash(form));
  });

  it("compares JSON carried in form fields as JSON, and XML without inter-tag whitespace", () => {
    const f = (data: string) => req({ body: { format: "form", contentType: "", value: { data }, text: "" } });
    expect(opHash(f('{"a":1,"b":[1]}'))).toBe(opHash(f('{ "b": [1], "a": 1 }')));
    const x = (text: string) => req({ body: { format: "xml", contentType: "", value: text, text } });
    expect(opHash(x("<a>\n  <b>1</b>\n</a>"))).toBe(opHash(x("<a><b>1</b></a>")));
    expect(opHash(x("<a><b>1</b></a>"))).not.toBe(opHash(x("<a><b>2</b></a>")));
  });

  it("hashes an operation's requests in order", () => {
    const one = req();
    const two = req({ method: "GET" });
    expect(opHash({ requests: [one, two] })).not.toBe(opHash({ requests: [two, one] }));
    expect(opHash({ requests: [one] })).toBe(opHash(one));
  });

  it("canonical JSON sorts keys at every depth", () => {
    expect(canonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] })).toBe(
      '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}',
    );
  });
});
