// Per-device limits: the semaphore never lets more than its capacity run and serves waiters in order;
// the rate limiter spaces starts by 1/rate (with an injected clock: no real waiting).
import { describe, expect, it } from "vitest";
import { RateLimiter, Semaphore } from "../../../src/appliance/limits.ts";

describe("Semaphore", () => {
  it.each([1, 2, 4])("runs at most %i operations at once", async (capacity) => {
    const s = new Semaphore(capacity);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          order.push(i);
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(capacity);
    expect(order).toHaveLength(12);
    if (capacity === 1) expect(order).toEqual([...Array(12).keys()]);
  });

  it("releases on failure and ignores a double release", async () => {
    const s = new Semaphore(1);
    await expect(s.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const release = await s.acquire();
    release();
    release();
    const a = await s.acquire();
    expect(s.waiting).toBe(0);
    const b = s.acquire();
    expect(s.waiting).toBe(1);
    a();
    (await b)();
  });

  it("refuses a capacity below 1", () => {
    expect(() => new Semaphore(0)).toThrow();
  });
});

describe("RateLimiter", () => {
  it("spaces request starts 1/rate apart", async () => {
    let now = 1000;
    const slept: number[] = [];
    const limiter = new RateLimiter(4, {
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    expect(slept).toEqual([250, 500]);
    now += 2000;
    await limiter.take();
    expect(slept).toEqual([250, 500]);
  });

  it("does not wait without a rate", async () => {
    const slept: number[] = [];
    const limiter = new RateLimiter(undefined, { sleep: async (ms) => void slept.push(ms) });
    await Promise.all([limiter.take(), limiter.take()]);
    expect(slept).toEqual([]);
  });
});

describe("cancellation of the waits", () => {
  it("a semaphore waiter whose signal aborts leaves the queue; the slot goes to the next one", async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const leaving = new AbortController();
    const first = s.acquire(leaving.signal);
    const second = s.acquire();
    leaving.abort(new Error("stopped"));
    await expect(first).rejects.toThrow("stopped");
    expect(s.waiting).toBe(1);
    release();
    const releaseSecond = await second;
    releaseSecond();
    // Capacity is intact: one slot, free again.
    const again = await s.acquire();
    again();
  });

  it("an aborted signal is refused before taking a slot", async () => {
    const s = new Semaphore(1);
    const stop = new AbortController();
    stop.abort(new Error("gone"));
    await expect(s.acquire(stop.signal)).rejects.toThrow("gone");
    (await s.acquire())();
  });

  it("the rate limiter's wait ends when the signal aborts", async () => {
    const now = 0;
    const sleeps: Array<() => void> = [];
    const limiter = new RateLimiter(1, { now: () => now, sleep: () => new Promise((r) => sleeps.push(r)) });
    await limiter.take();
    const stop = new AbortController();
    const waiting = limiter.take(stop.signal);
    stop.abort(new Error("stopped"));
    await expect(waiting).rejects.toThrow("stopped");
  });
});
