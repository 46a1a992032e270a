// The loader refuses every file of the broken corpus with the expected message, naming the file, the
// place in the document and the line; the shipped dictionaries and the valid fixture load.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DictionaryLoadError,
  formatProblem,
  loadDictionaryFile,
  loadDictionaryText,
} from "../../../src/dictionary/loader.ts";

const BROKEN = "test/fixtures/dictionaries/broken";

/** file → [line, path, message fragment] of the first problem. */
const EXPECTED: Record<string, [number, string, RegExp]> = {
  "bad-yaml.yaml": [10, "", /^YAML: Flow map .* end with a \}/],
  "unknown-key.yaml": [26, "resources.firewallRule.operations.create.bodyy", /^unknown key$/],
  "missing-operation.yaml": [22, "resources.firewallRule.operations.delete", /^required$/],
  "bad-template-syntax.yaml": [
    27,
    "resources.firewallRule.operations.create.body.verdict",
    /^template error: expected symbol/,
  ],
  "undefined-variable.yaml": [
    28,
    "resources.firewallRule.operations.create.body.note",
    /unknown variable rule\.descripton/,
  ],
  "bad-jsonpath.yaml": [
    29,
    "resources.firewallRule.operations.create.vendorRef",
    /invalid JSONPath "\$\.id\[": unclosed "\["/,
  ],
  "bad-enum.yaml": [24, "resources.firewallRule.operations.create.method", /expected one of "GET"\|"POST"/],
  "bad-status-code.yaml": [
    33,
    "resources.firewallRule.operations.get.notFound.status",
    /an HTTP status \(100-599\)/,
  ],
  "bad-firmware-range.yaml": [4, "firmware", /invalid firmware range ">=one\.zero"/],
  "duplicate-kinds.yaml": [18, "", /^YAML: Map keys must be unique/],
  "credentials-outside-auth.yaml": [
    36,
    "resources.firewallRule.operations.list.path",
    /unknown variable credentials/,
  ],
  "unknown-filter.yaml": [
    40,
    "resources.firewallRule.operations.update.path",
    /filter "upperr" is not available/,
  ],
  "bad-error-code.yaml": [12, "errors[0].code", /expected one of "VNF_TIMEOUT"/],
  "wrong-api-version.yaml": [2, "apiVersion", /expected "vnf-operator\.io\/dictionary\/v1"/],
  "value-map-not-invertible.yaml": [9, "valueMaps.action.reject", /not one-to-one \("drop" twice\)/],
  "inline-and-steps.yaml": [
    44,
    "resources.firewallRule.operations.delete",
    /either `steps` or an inline request/,
  ],
  "list-without-items.yaml": [34, "resources.firewallRule.operations.list", /needs `items`/],
  "unknown-step-reference.yaml": [
    46,
    "resources.firewallRule.operations.delete.path",
    /unknown variable steps\.lookup/,
  ],
  "bad-regex.yaml": [
    33,
    "resources.firewallRule.operations.get.notFound.matches",
    /invalid regular expression/,
  ],
  "unknown-directive.yaml": [
    27,
    "resources.firewallRule.operations.create.body.$iff",
    /unknown directive \$iff/,
  ],
  "session-without-use.yaml": [10, "auth.use", /say how the token is sent/],
  "vendorref-in-create.yaml": [
    25,
    "resources.firewallRule.operations.create.path",
    /unknown variable vendorRef/,
  ],
  "unknown-auth-type.yaml": [7, "auth.type", /Invalid discriminator value/],
  "path-with-query.yaml": [36, "resources.firewallRule.operations.list.path", /must not contain \? or #/],
  "import-missing-field.yaml": [
    22,
    "resources.firewallRule.import",
    /the reverse mapping \(normalize and import\.spec\) yields no interface/,
  ],
  "import-unknown-field.yaml": [
    25,
    "resources.firewallRule.import.spec.descripton",
    /descripton is not a field of a firewallRule spec/,
  ],
  "path-leaves-endpoint.yaml": [
    36,
    "resources.firewallRule.operations.list.path",
    /a path starting with "\/"/,
  ],
  "two-documents.yaml": [48, "", /one dictionary per file/],
};

describe("broken dictionary corpus", () => {
  it("has at least 15 cases, each with an expectation", async () => {
    const files = (await readdir(BROKEN)).filter((f) => f.endsWith(".yaml")).sort();
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))(
    "refuses %s with its file, line, path and message",
    async (file, [line, path, message]) => {
      const fullPath = join(BROKEN, file);
      const error = await loadDictionaryFile(fullPath).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DictionaryLoadError);
      const problems = (error as DictionaryLoadError).problems;
      const first = problems[0];
      expect(first).toBeDefined();
      expect(first?.file).toBe(fullPath);
      expect(first?.line).toBe(line);
      expect(formatProblemPath(first?.path ?? [])).toBe(path);
      expect(first?.message).toMatch(message);
      // The formatted text is what users see: file:line: path: message.
      const text = formatProblem(first as NonNullable<typeof first>);
      expect(text.startsWith(`${fullPath}:${line}: `)).toBe(true);
      expect((error as Error).message).toContain(text);
    },
  );
});

function formatProblemPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

describe("valid dictionaries", () => {
  it.each([
    "dictionaries/pfsense-2.7-restapi-v2.yaml",
    "dictionaries/fortios-7.yaml",
    "test/fixtures/dictionaries/valid/acme-1.yaml",
  ])("loads %s", async (file) => {
    const d = await loadDictionaryFile(file);
    expect(d.resources.firewallRule).toBeDefined();
    expect(d.health.steps.length).toBeGreaterThan(0);
  });

  it("reports every problem of a file, not only the first", () => {
    const text = `apiVersion: vnf-operator.io/dictionary/v1
vendor: acme
firmware: ">=1"
displayName: x
auth: { type: none }
health: { method: GET, path: "/{{ nope }}" }
resources:
  firewallRule:
    ownership: { field: "{{ item.x }}" }
    normalize: {}
    operations:
      create: { method: POST, path: "/{{ alsoNope }}", vendorRef: $.id }
      get: { method: GET, path: "/r/{{ vendorRef }}" }
      list: { method: GET, path: /r, items: { path: "$[*]", vendorRef: $.id } }
      update: { method: PUT, path: "/r/{{ vendorRef }}" }
      delete: { method: DELETE, path: "/r/{{ vendorRef }}" }
`;
    const error = (() => {
      try {
        loadDictionaryText(text, "inline.yaml");
      } catch (e) {
        return e as DictionaryLoadError;
      }
      return undefined;
    })();
    expect(error?.problems.map((p) => [p.line, p.message])).toEqual([
      [6, "template error: unknown variable nope"],
      [12, "template error: unknown variable alsoNope"],
    ]);
  });

  it("names the file after the path it was given and defaults the name to the file name", async () => {
    const d = await loadDictionaryFile("test/fixtures/dictionaries/valid/acme-1.yaml");
    expect(d.name).toBe("acme-1");
    expect(d.source).toBe("test/fixtures/dictionaries/valid/acme-1.yaml");
  });
});

describe("docs/dictionary-format.md", () => {
  it("its annotated example is a valid dictionary", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile("docs/dictionary-format.md", "utf8");
    const start = doc.indexOf("```yaml\n") + "```yaml\n".length;
    const example = doc.slice(start, doc.indexOf("```\n", start));
    const d = loadDictionaryText(example, "docs/dictionary-format.md#example");
    expect(d.name).toBe("acme-3");
    expect(Object.keys(d.resources.firewallRule?.operations ?? {}).sort()).toEqual(
      ["create", "delete", "findByMarker", "get", "list", "move", "update"].sort(),
    );
    expect(d.activation?.steps[0]?.job).toBeDefined();
  });
});
