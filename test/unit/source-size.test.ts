// Issue #11's bound on module size: no hand-written file in src/ over 500 lines, so that each module
// stays small enough to hold one job. Generated files (*.generated.ts) are exempt: nobody edits them.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../src");
const MAX_LINES = 500;

/** Lines as `wc -l` counts them (a last line without a newline still counts). */
function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

function handWritten(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".generated.ts"))
    .map((file) => path.join(SRC, file))
    .sort();
}

describe("source size", () => {
  it("counts lines as wc -l does", () => {
    expect(lineCount("")).toBe(0);
    expect(lineCount("a\n")).toBe(1);
    expect(lineCount("a\nb")).toBe(2);
    expect(lineCount("a\n\nb\n")).toBe(3);
  });

  it("finds the sources it bounds", () => {
    const files = handWritten().map((file) => path.relative(SRC, file));
    // A sample from each layer, so a wrong root or filter cannot pass by finding nothing.
    expect(files).toEqual(
      expect.arrayContaining([
        path.join("appliance", "session.ts"),
        path.join("controllers", "rule-controller.ts"),
        path.join("runtime", "informer.ts"),
        "operator.ts",
      ]),
    );
    expect(files.some((file) => file.endsWith(".generated.ts"))).toBe(false);
  });

  it(`keeps every non-generated src/**/*.ts at or under ${MAX_LINES} lines`, () => {
    const over = handWritten()
      .map((file) => ({ file: path.relative(SRC, file), lines: lineCount(readFileSync(file, "utf8")) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `src/${file}: ${lines} lines`);
    expect(over, "split these into modules with one job each (issue #11)").toEqual([]);
  });
});
