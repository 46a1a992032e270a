// Firmware ranges and JSONPath syntax checks.
import { describe, expect, it } from "vitest";
import { checkJsonPath, queryAll, queryFirst } from "../../../src/dictionary/jsonpath.ts";
import { coerceVersion, parseRange, satisfies } from "../../../src/dictionary/semver.ts";

describe("firmware ranges", () => {
  it.each([
    ["2.7.2-RELEASE", ">=2.7.0 <3.0.0", true],
    ["3.0.0", ">=2.7.0 <3.0.0", false],
    ["v7.4.5", "^7.0.0", true],
    ["8.0.1", "^7.0.0", false],
    ["10.2.3-h1", "10.x", true],
    ["10.2.3", "~10.1", false],
    ["24.7.1_1", ">=24.1 || <1", true],
    ["1.4-rolling-202405", ">=1.4.0", true],
    ["anything 1", "*", true],
    ["no digits", "*", false],
  ])("%s in %s → %s", (version, range, ok) => {
    expect(satisfies(version, range)).toBe(ok);
  });

  it.each(["", ">=banana", "7.x.3", "^^7"])("refuses %j", (range) => {
    expect(() => parseRange(range)).toThrow();
  });

  it("coerces vendor versions", () => {
    expect(coerceVersion("v7.4.5")).toEqual([7, 4, 5]);
    expect(coerceVersion("2.7-RELEASE")).toEqual([2, 7, 0]);
  });
});

describe("JSONPath", () => {
  it.each([
    "$",
    "$.data[0].id",
    "$.data[*]",
    "$..name",
    "$['@status']",
    "$.a[?(@.b == 'x')].c",
    "$.a[0:2]",
    "$.a[0,1]",
  ])("accepts %s", (path) => {
    expect(() => checkJsonPath(path)).not.toThrow();
  });

  it.each([
    ["data.x", /must start with "\$"/],
    ["$.data[", /unclosed "\["/],
    ["$..", /ends with "\.\."/],
    ["$.a[?(@.x ==)]", /filter/],
    ["$.a[]", /empty/],
    ["$.a.", /expected a name/],
    ["$.a[foo]", /not an index/],
  ])("refuses %s", (path, message) => {
    expect(() => checkJsonPath(path)).toThrow(message);
  });

  it("queries parsed XML attributes and text bodies", () => {
    const body = { response: { "@status": "error", "@code": "7" } };
    expect(queryFirst("$.response['@code']", body)).toBe("7");
    expect(queryAll("$", "plain text")).toEqual(["plain text"]);
    expect(queryAll("$.a", "plain text")).toEqual([]);
    expect(queryAll("$.a", undefined)).toEqual([]);
  });
});
