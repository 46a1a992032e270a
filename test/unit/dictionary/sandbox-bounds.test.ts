// Render bounds: a hostile or broken dictionary cannot hang the operator or exhaust its memory. Each
// row is refused by the bound it names (the static check is bypassed: the bounds are run-time
// guards), and the legitimate uses next to them still work.
import { describe, expect, it } from "vitest";
import { compilePredicate } from "../../../src/dictionary/predicates.ts";
import {
  compileTemplate,
  compileTemplateWithoutStaticCheck,
  TemplateError,
} from "../../../src/dictionary/templates.ts";

// The time bound is lifted (except where it is the subject): on a loaded machine it could fire first.
const refusal = (source: string, limits = {}) => {
  try {
    compileTemplateWithoutStaticCheck(source).render(
      { big: "x".repeat(1000) },
      { limits: { maxRenderMs: 600_000, ...limits } },
    );
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).forbidden).toBe(true);
    return (error as TemplateError).message;
  }
  throw new Error(`rendered: ${source}`);
};

describe("render bounds", () => {
  it.each<[string, string, Record<string, number>, RegExp]>([
    [
      "range() with a zero step (an endless loop in stock Nunjucks)",
      "{{ range(10, 0, 0) }}",
      {},
      /non-zero step/,
    ],
    [
      "range() of too many numbers",
      "{% for i in range(1000000000) %}{% endfor %}",
      {},
      /range\(\) of 1000000000 numbers/,
    ],
    [
      "nested loops past the iteration bound",
      "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
      {},
      /looped more than 100000 times/,
    ],
    [
      "a loop past the time bound",
      "{% for a in range(3000) %}{% for b in range(3000) %}{% endfor %}{% endfor %}",
      { maxRenderMs: 5, maxLoopIterations: 1e8 },
      /ran longer than 5 ms/,
    ],
    [
      "a string doubled in a loop (~)",
      '{% set s = "x" %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s | length }}',
      {},
      /built by ~ would be longer than 1048576 characters/,
    ],
    [
      "a string doubled in a loop (+)",
      '{% set s = "x" %}{% for i in range(40) %}{% set s = s + s %}{% endfor %}{{ s | length }}',
      {},
      /built by \+ would be longer/,
    ],
    [
      "output past the size bound",
      "{% for i in range(2000) %}{{ big }}{% endfor %}",
      {},
      /rendered text would be longer than 1048576 characters/,
    ],
    [
      "a {% set %} block past the size bound",
      "{% set v %}{% for i in range(2000) %}{{ big }}{% endfor %}{% endset %}{{ v.split(',') }}",
      {},
      /variable v would be longer/,
    ],
    [
      "replace() that would blow up",
      '{{ big.replace("", big) }}',
      { maxOutputChars: 100_000 },
      /replace\(\) would build a string longer/,
    ],
    [
      "join() with a huge separator",
      "{{ range(1000).join(big) }}",
      { maxOutputChars: 100_000 },
      /join\(\) would build a string longer/,
    ],
    [
      "a filter result past the size bound",
      "{{ range(100000) | join(big) }}",
      { maxOutputChars: 100_000 },
      /result of filter join would be longer/,
    ],
  ])("%s", (_what, source, limits, message) => {
    expect(refusal(source, limits)).toMatch(message);
  });

  it("a catastrophic regular expression finishes (linear-time fallback) with the right answer", () => {
    // /^(a+)+$/ on 40 a's and a '!' backtracks 2^40 times on a backtracking engine.
    const t = compileTemplate(`{{ r/^(a+)+$/.test(x) }}`);
    expect(t.evaluate({ x: `${"a".repeat(40)}!` })).toBe(false);
    expect(t.evaluate({ x: "a".repeat(40) })).toBe(true);
  });

  it("refuses regular expressions the linear-time engine cannot run", () => {
    expect(() => compileTemplate(String.raw`{{ r/(a)\1/.test(x) }}`)).toThrow(
      /backreferences are not supported/,
    );
    expect(() => compileTemplate("{{ r/a(?=b)/.test(x) }}")).toThrow(/lookahead and lookbehind/);
    expect(() => compileTemplate("{{ r/(?<!a)b/.test(x) }}")).toThrow(/lookahead and lookbehind/);
    // Escaped and in-class parentheses and digits are plain characters.
    expect(compileTemplate(String.raw`{{ r/^\(?[1-9\1]=$/.test(x) }}`).evaluate({ x: "(1=" })).toBe(true);
  });

  it("leaves ordinary templates alone: loops, string methods, filters, concatenation", () => {
    const t = compileTemplate(
      "{% for p in ports %}{{ p.split('-')[0] | int + 1 }}{{ ',' if not loop.last }}{% endfor %};{{ name.startsWith('vnf-') }};{{ ('a' ~ name) | upper }}",
    );
    expect(t.render({ ports: ["80-81", "443"], name: "vnf-x" })).toBe("81,444;true;AVNF-X");
  });
});

describe("regular expressions elsewhere in a dictionary", () => {
  it("refuses a `matches` predicate that could backtrack without bound", () => {
    expect(() =>
      compilePredicate({ path: "$.message", matches: "^(a+)\\1$" }, ["errors", 0, "when"]),
    ).toThrow(/backreferences are not supported/);
    expect(
      compilePredicate({ path: "$.message", matches: "^(a+)+$" }, ["x"]).test(
        { status: 400, headers: {}, body: { message: `${"a".repeat(40)}!` } },
        {},
      ),
    ).toBe(false);
  });
});
