// `itemKey`: list items that are the values of a map keyed by their id (VyOS tag nodes:
// `{"rule": {"10": {...}, "20": {...}}}`) take their vendorRef from the key they were found under.
import { describe, expect, it } from "vitest";
import {
  Executor,
  type RawResponse,
  resolveParameters,
  type Transport,
} from "../../../src/dictionary/executor.ts";
import { queryEntries } from "../../../src/dictionary/jsonpath.ts";
import { loadDictionaryText } from "../../../src/dictionary/loader.ts";

const dictionaryText = (vendorRef: string) => `
apiVersion: vnf-operator.io/dictionary/v1
vendor: keyed
firmware: ">=1.0.0"
displayName: Keyed list
auth: { type: none }
health: { method: GET, path: /info }
resources:
  firewallRule:
    ownership: { field: "{{ item.description }}" }
    normalize: { description: "{{ item.description | stripMarker }}" }
    operations:
      create: { method: POST, path: /rules, vendorRef: $.id }
      get: { method: GET, path: "/rules/{{ vendorRef }}" }
      list:
        method: GET
        path: /rules
        items: { path: "$.data.rule.*", vendorRef: ${vendorRef} }
      update: { method: PUT, path: "/rules/{{ vendorRef }}" }
      delete: { method: DELETE, path: "/rules/{{ vendorRef }}" }
`;

const answer = (body: unknown): Transport => ({
  send: async (): Promise<RawResponse> => ({
    status: 200,
    headers: { "content-type": "application/json" },
    text: JSON.stringify(body),
  }),
});

describe("itemKey", () => {
  it("is the property name each item was found under", async () => {
    const dictionary = loadDictionaryText(dictionaryText('{ template: "{{ itemKey }}" }'), "keyed.yaml");
    const list = dictionary.resources.firewallRule?.operations.list;
    if (!list) throw new Error("no list");
    const executor = new Executor(dictionary, resolveParameters(dictionary, {}), {
      now: () => 0,
      sleep: async () => {},
    });
    const result = await executor.run(
      list,
      executor.context("firewallRule"),
      answer({ data: { rule: { "10": { description: "a" }, "20": { description: "b" } } } }),
      "list",
    );
    expect(result.items).toEqual([
      { vendorRef: "10", raw: { description: "a" } },
      { vendorRef: "20", raw: { description: "b" } },
    ]);
  });

  it("is known to the loader only in item vendorRef templates", () => {
    expect(() =>
      loadDictionaryText(dictionaryText('{ template: "{{ itemKey }}" }'), "ok.yaml"),
    ).not.toThrow();
    expect(() =>
      loadDictionaryText(
        dictionaryText('{ template: "{{ itemKey }}" }').replace(
          '{ description: "{{ item.description | stripMarker }}" }',
          '{ description: "{{ itemKey }}" }',
        ),
        "bad.yaml",
      ),
    ).toThrow(/itemKey/);
  });

  it("queryEntries gives list indexes as text and nothing for a scalar body", () => {
    expect(queryEntries("$.a[*]", { a: ["x", "y"] })).toEqual([
      { key: "0", value: "x" },
      { key: "1", value: "y" },
    ]);
    expect(queryEntries("$.a", "text")).toEqual([]);
  });
});
