import { describe, expect, it } from "vitest";
import { SlidingWindowLimiter } from "../../../src/shim/rate-limit.ts";

describe("SlidingWindowLimiter (100 per 60 s)", () => {
  it("allows 100 requests per subject in a window, then answers with the wait until the oldest expires", () => {
    const limiter = new SlidingWindowLimiter({ max: 100, windowMs: 60_000 });
    for (let i = 0; i < 100; i++) expect(limiter.check("sub:a", 1_000 + i * 100).allowed).toBe(true);
    expect(limiter.check("sub:a", 20_000)).toEqual({ allowed: false, retryAfterSec: 41 });
    expect(limiter.check("sub:b", 20_000).allowed).toBe(true);
    // the first hit (t=1000) leaves the window at t=61000
    expect(limiter.check("sub:a", 61_000).allowed).toBe(true);
    expect(limiter.check("sub:a", 61_000).allowed).toBe(false);
  });

  it("does not count refused requests", () => {
    const limiter = new SlidingWindowLimiter({ max: 2, windowMs: 1_000 });
    expect(limiter.check("k", 0).allowed).toBe(true);
    expect(limiter.check("k", 10).allowed).toBe(true);
    for (let t = 20; t < 1_000; t += 100) expect(limiter.check("k", t).allowed).toBe(false);
    expect(limiter.check("k", 1_001).allowed).toBe(true);
  });
});
