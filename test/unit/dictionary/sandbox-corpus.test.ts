// Templates are data, not code: a corpus of known Nunjucks sandbox escapes (public advisories and
// write-ups, plus the code-generation injections found while building the sandbox) is
//   1. live: each escaping payload really runs code in stock Nunjucks (the canary file appears), so
//      the corpus cannot rot into harmless strings;
//   2. refused by `vnf-operator validate` and the loader, with file:line, inside a dictionary;
//   3. harmless at render time even when the static check is bypassed: the run-time guards alone
//      refuse it and the canary never appears.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nunjucks from "nunjucks";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { run as validate } from "../../../src/cli/validate.ts";
import { DictionaryLoadError, loadDictionaryText } from "../../../src/dictionary/loader.ts";
import { compileTemplateWithoutStaticCheck, TemplateError } from "../../../src/dictionary/templates.ts";

const dir = mkdtempSync(join(tmpdir(), "vnf-sandbox-"));
const canary = join(dir, "canary");
/** What an escaped template would run: writes the canary file. */
const CODE = `globalThis.process.getBuiltinModule('fs').writeFileSync('${canary}','escaped')`;
/** The same as \xNN escapes only: no character the Nunjucks lexer treats as a delimiter. */
const HEX = [...CODE].map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");

interface Escape {
  name: string;
  /** Where it comes from. */
  source: string;
  template: string;
  /** Runs code in stock Nunjucks (with the context below); false for file access attempts. */
  live: boolean;
}

const CORPUS: Escape[] = [
  {
    name: "range.constructor",
    source:
      "disse.cting.org 2016 'sandbox break out nunjucks'; HackTricks / PayloadsAllTheThings SSTI (Nunjucks)",
    template: `{{ range.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "cycler.constructor",
    source: "same primitive on another default global (mozilla/nunjucks#1048)",
    template: `{{ cycler.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "joiner.constructor",
    source: "same primitive on another default global (mozilla/nunjucks#1048)",
    template: `{{ joiner.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "bare constructor.constructor",
    source: "SSTI scanners' {{constructor.constructor(\"return this\")()}}; the context object's prototype",
    template: `{{ constructor.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "toString.constructor (inherited name)",
    source: "inherited Object.prototype members as top-level names (dy/subscript#40 class of bug)",
    template: `{{ toString.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "a.constructor.__proto__.constructor",
    source: "mozilla/nunjucks pull request #338",
    template: `{{ rule.constructor.__proto__.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "string literal constructor",
    source: "''.constructor.constructor (HackTricks SSTI, JavaScript engines)",
    template: `{{ "".constructor.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "list literal constructor",
    source: "[].constructor.constructor variant",
    template: `{{ [].constructor.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "computed key",
    source: "bracket access bypassing dot-name filters (angular/angular.js#14939 class of bypass)",
    template: `{{ range["constructor"]("${CODE}")() }}`,
    live: true,
  },
  {
    name: "concatenated key",
    source: "string building to dodge name blocklists (angular sandbox bypasses)",
    template: `{{ range["constr" ~ "uctor"]("${CODE}")() }}`,
    live: true,
  },
  {
    name: "key through variables",
    source: "name assembled at run time, invisible to a static scan of literals",
    template: `{% set c = "constr" %}{% set k = c ~ "uctor" %}{{ range[k]("${CODE}")() }}`,
    live: true,
  },
  {
    name: "__proto__ chain of a context value",
    source: "prototype walk (natevw/evel#18: Function.__proto__.constructor)",
    template: `{{ rule.__proto__.constructor.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "inherited method's constructor",
    source: "any host function leads to Function (xNasuni/luau-interop#20)",
    template: `{{ rule.toString.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "string method's constructor",
    source: "any host function leads to Function",
    template: `{{ "x".concat.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "the engine's own global function",
    source: "globals added by the application (fail) are host functions too",
    template: `{{ fail.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "macro constructor",
    source: "template-defined functions are host functions",
    template: `{% macro m() %}{% endmacro %}{{ m.constructor("${CODE}")() }}`,
    live: true,
  },
  {
    name: "code injection through a variable name",
    source: "found building this sandbox: Nunjucks pastes symbol names into generated JavaScript",
    template: `{{ a"&Function\`${HEX}\`\`\`&" }}`,
    live: true,
  },
  {
    name: "code injection through a set target",
    source: "same, through {% set %}",
    template: `{% set x"&Function\`${HEX}\`\`\`&" = 1 %}`,
    live: true,
  },
  {
    name: "code injection through a filter name",
    source: 'same, through env.getFilter("name")',
    template: `{{ 1 | a"&Function\`${HEX}\`\`\`&" }}`,
    live: true,
  },
  {
    name: "code injection through a test name",
    source: 'same, through env.getTest("name")',
    template: `{{ 1 is a"&Function\`${HEX}\`\`\`&" }}`,
    live: true,
  },
  {
    name: "include of a host file",
    source: "{% include %} file read (Nunjucks FileSystemLoader)",
    template: `{% include "/etc/passwd" %}`,
    live: false,
  },
  {
    name: "import of a host file",
    source: "{% import %} / {% from %}",
    template: `{% import "/etc/hostname" as h %}{{ h }}`,
    live: false,
  },
  {
    name: "extends of a host file",
    source: "{% extends %}",
    template: `{% extends "/etc/hostname" %}`,
    live: false,
  },
];

const CONTEXT = () => ({
  rule: { action: "allow", description: "d" },
  marker: "0123abcd",
  vendorRef: "7",
});

function canaryFired(): boolean {
  return existsSync(canary);
}

beforeEach(() => {
  rmSync(canary, { force: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the corpus is live (stock Nunjucks runs it)", () => {
  const stock = new nunjucks.Environment([], { autoescape: false });
  stock.addGlobal("fail", (m: string) => {
    throw new Error(m);
  });
  it("has at least 15 escapes", () => {
    expect(CORPUS.filter((e) => e.live).length).toBeGreaterThanOrEqual(15);
  });
  it.each(CORPUS.filter((e) => e.live))("$name", ({ template }) => {
    try {
      stock.renderString(template, CONTEXT());
    } catch {
      // Several payloads fail after their code ran (e.g. outputting undefined).
    }
    expect(canaryFired()).toBe(true);
  });
});

/** The acme fixture with the payload as the create body's `note` (a block scalar, line 28). */
function dictionaryWith(template: string): { text: string; line: number } {
  const base = readFileSync("test/fixtures/dictionaries/valid/acme-1.yaml", "utf8");
  const original = `          note: "{{ rule.description }} {{ marker }}"\n        vendorRef: $.id`;
  if (!base.includes(original)) throw new Error("the acme fixture changed: update dictionaryWith()");
  const text = base.replace(original, `          note: |-\n            ${template}\n        vendorRef: $.id`);
  const line = text.split("\n").findIndex((l) => l.includes(template)) + 1;
  return { text, line };
}

describe("validate refuses every escape with file:line", () => {
  it.each(CORPUS)("$name", ({ name, template }) => {
    const { text, line } = dictionaryWith(template);
    const file = `corpus/${name.replace(/\W+/g, "-")}.yaml`;
    let error: unknown;
    try {
      loadDictionaryText(text, file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DictionaryLoadError);
    const problem = (error as DictionaryLoadError).problems.find(
      (p) => p.path.join(".") === "resources.firewallRule.operations.create.body.note",
    );
    expect(problem?.file).toBe(file);
    expect(problem?.line).toBe(line);
    expect(problem?.message).toMatch(/^template error: /);
    expect(canaryFired()).toBe(false);
  });

  it("`vnf-operator validate` prints file:line for each and exits 1 (and runs none)", async () => {
    const corpusDir = mkdtempSync(join(dir, "dicts-"));
    const expected: string[] = [];
    for (const [i, entry] of CORPUS.entries()) {
      const { text, line } = dictionaryWith(entry.template);
      const file = join(corpusDir, `escape-${String(i).padStart(2, "0")}.yaml`);
      writeFileSync(file, text);
      expected.push(`${file}:${line}: resources.firewallRule.operations.create.body.note: template error:`);
    }
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await validate([corpusDir]);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(code).toBe(1);
    expect(out.join("")).not.toContain("OK ");
    const printed = err.join("");
    for (const line of expected) expect(printed).toContain(line);
    expect(canaryFired()).toBe(false);
  });
});

describe("the run-time guards alone refuse every escape (static check bypassed)", () => {
  it.each(CORPUS)("$name", ({ template }) => {
    let error: unknown;
    try {
      compileTemplateWithoutStaticCheck(template).evaluate(CONTEXT());
    } catch (e) {
      error = e;
    }
    // Refused as forbidden, or (cycler, joiner) because no such function exists in the sandbox.
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).message).toMatch(
      /not accessible|function of the host|cannot be called|not a name|include, import or extend|Unable to call `(cycler|joiner)/,
    );
    expect(canaryFired()).toBe(false);
  });
});
