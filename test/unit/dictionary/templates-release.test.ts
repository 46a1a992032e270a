// Templates compiled while a dictionary loads are checked then, and their compiled code dropped
// (releaseAfter); they compile again on first render and must render exactly as before.
import { describe, expect, it } from "vitest";
import { compileTemplate, releaseAfter, TemplateError } from "../../../src/dictionary/templates.ts";

describe("releaseAfter", () => {
  it("a released template renders as it did before the release, text and native values alike", () => {
    const context = { rule: { port: 443, name: "web", list: ["a", "b"] } };
    const [text, native, loop] = releaseAfter(() => {
      const made = [
        compileTemplate("{{ rule.name }}:{{ rule.port }}"),
        compileTemplate("{{ rule.port + 1 }}"),
        compileTemplate("{% for x in rule.list %}{{ x }},{% endfor %}"),
      ] as const;
      // Rendered inside too, as the load-time checks do.
      expect(made[0].render(context)).toBe("web:443");
      return made;
    });
    expect(text.render(context)).toBe("web:443");
    expect(native.evaluate(context)).toBe(444);
    expect(loop.render(context)).toBe("a,b,");
    // Twice: compiled again once, then kept.
    expect(text.render({ rule: { name: "db", port: 5432 } })).toBe("db:5432");
  });

  it("what the sandbox or the parser refuses still fails at compile time, inside it", () => {
    expect(() => releaseAfter(() => compileTemplate("{{ rule.constructor }}"))).toThrow(TemplateError);
    expect(() => releaseAfter(() => compileTemplate("{{ rule.name "))).toThrow(TemplateError);
  });

  it("a render error after the release is the same error as before it", () => {
    const template = releaseAfter(() => compileTemplate("{{ rule.missing.deeper }}"));
    expect(() => template.render({ rule: {} })).toThrow(TemplateError);
  });
});
