import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../src/runtime/fake-clock.ts";
import {
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
} from "../../../src/runtime/rate-limiter.ts";

describe("ItemExponentialRateLimiter", () => {
  it.each([
    {
      name: "client-go defaults grow 5 ms·2^n",
      base: 5,
      max: 1_000_000,
      failures: 6,
      expected: [5, 10, 20, 40, 80, 160],
    },
    { name: "capped", base: 5, max: 30, failures: 6, expected: [5, 10, 20, 30, 30, 30] },
    { name: "cap reached exactly", base: 100, max: 400, failures: 4, expected: [100, 200, 400, 400] },
  ])("$name", ({ base, max, failures, expected }) => {
    const limiter = new ItemExponentialRateLimiter(base, max);
    expect(Array.from({ length: failures }, () => limiter.when("k"))).toEqual(expected);
    expect(limiter.numRequeues("k")).toBe(failures);
  });

  it("stays at the cap after very many failures (no overflow to NaN)", () => {
    const limiter = new ItemExponentialRateLimiter(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when("k");
    expect(last).toBe(1_000_000);
  });

  it("tracks keys independently and forget resets one key", () => {
    const limiter = new ItemExponentialRateLimiter(5, 1000);
    limiter.when("a");
    limiter.when("a");
    expect(limiter.when("b")).toBe(5);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(5);
    expect(limiter.numRequeues("b")).toBe(1);
  });
});

describe("TokenBucketRateLimiter", () => {
  it("lets a burst through, then spaces retries at 1/qps", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(10, 100, clock);
    const delays = Array.from({ length: 103 }, (_, i) => bucket.when(`k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 0)).toBe(true);
    expect(delays.slice(100)).toEqual([100, 200, 300]);
  });

  it("refills at qps over time, up to the burst", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(10, 5, clock);
    for (let i = 0; i < 5; i++) bucket.when("k");
    expect(bucket.when("k")).toBe(100);
    clock.advance(10_000); // would be 100 tokens without the burst cap
    const afterRefill = Array.from({ length: 6 }, () => bucket.when("k"));
    expect(afterRefill.filter((d) => d === 0)).toHaveLength(5);
  });
});

describe("defaultControllerRateLimiter (max of per-key and bucket)", () => {
  it("uses the per-key delay while the bucket has tokens", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock() });
    expect([limiter.when("a"), limiter.when("a"), limiter.when("a")]).toEqual([5, 10, 20]);
  });

  it("uses the bucket delay when many keys fail at once", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock() });
    for (let i = 0; i < 100; i++) limiter.when(`k${i}`);
    // per-key would say 5 ms; the overall bucket is empty and says 100 ms
    expect(limiter.when("fresh")).toBe(100);
  });

  it("honours a smaller cap and forget", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock(), maxDelayMs: 15 });
    expect([limiter.when("a"), limiter.when("a"), limiter.when("a")]).toEqual([5, 10, 15]);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
  });

  it("MaxOf reports the largest requeue count", () => {
    const limiter = new MaxOfRateLimiter(
      new ItemExponentialRateLimiter(),
      new TokenBucketRateLimiter(10, 100, new FakeClock()),
    );
    limiter.when("a");
    limiter.when("a");
    expect(limiter.numRequeues("a")).toBe(2);
  });
});
