import { describe, expect, it } from "vitest";
import { parseDuration } from "../../../src/api/duration.ts";

describe("parseDuration", () => {
  it.each([
    ["100ms", 100],
    ["5s", 5_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["2h45m10s500ms", 9_910_500],
    ["0.25s", 250],
    ["10m", 600_000],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "5 s", "-5s", "5sec", "1d", "s", ".5s", "5s "])("refuses %j", (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});
