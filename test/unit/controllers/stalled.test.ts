// When a missing reference stops being a wait, and when a Stalled object is looked at again.
import { describe, expect, it } from "vitest";
import { graceLeft, StallBook, stalledRetryDelay } from "../../../src/controllers/stalled.ts";

const NOW = new Date("2026-02-03T04:05:06Z");
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const POLICY = { initialMs: 60_000, maxMs: 15 * 60_000 };

describe("stalledRetryDelay", () => {
  it.each([
    [1, 60_000],
    [2, 120_000],
    [3, 240_000],
    [4, 480_000],
    [5, 900_000],
    [6, 900_000],
    [500, 900_000],
  ])("stall %i: %i ms", (stalls, ms) => {
    expect(stalledRetryDelay(POLICY, stalls)).toBe(ms);
  });
});

describe("graceLeft", () => {
  it.each([
    ["created 30 s ago", at(-30_000).toISOString(), 90_000],
    ["created exactly a grace period ago", at(-120_000).toISOString(), 0],
    ["created long ago", "2020-01-01T00:00:00Z", 0],
    ["no creation time: all of it", undefined, 120_000],
    ["an unparseable creation time: all of it", "yesterday", 120_000],
  ])("%s", (_name, created, left) => {
    expect(graceLeft(created, NOW, 120_000)).toBe(left);
  });
});

describe("StallBook", () => {
  it("nothing known: due (the first look after a restart tries once more)", () => {
    expect(new StallBook(POLICY).due("ns/a", NOW)).toEqual({ due: true });
  });

  it("backs off, doubling, until the cap; clear() starts afresh", () => {
    const book = new StallBook(POLICY);
    expect(book.stalled("ns/a", NOW)).toBe(60_000);
    expect(book.due("ns/a", at(59_000))).toEqual({ due: false, inMs: 1_000 });
    expect(book.due("ns/a", at(60_000))).toEqual({ due: true });
    expect(book.stalled("ns/a", at(60_000))).toBe(120_000);
    expect(book.due("ns/a", at(61_000))).toEqual({ due: false, inMs: 119_000 });
    expect(book.due("ns/b", at(61_000))).toEqual({ due: true });
    book.clear("ns/a");
    expect(book.due("ns/a", at(61_000))).toEqual({ due: true });
    expect(book.stalled("ns/a", at(61_000))).toBe(60_000);
  });

  it("a device that became healthy after the last attempt makes it due at once", () => {
    const book = new StallBook(POLICY);
    book.stalled("ns/a", at(500)); // 04:05:06.500
    expect(book.due("ns/a", at(10_000), at(-1_000))).toEqual({ due: false, inMs: 50_500 }); // before
    expect(book.due("ns/a", at(10_000), at(5_000))).toEqual({ due: true }); // after
    // Transition times have whole seconds: the same second as the attempt counts as after.
    expect(book.due("ns/a", at(10_000), at(0))).toEqual({ due: true });
  });
});
