import { describe, expect, it } from "vitest";
import { Backoff } from "../../../src/runtime/backoff.ts";
import { FakeClock } from "../../../src/runtime/fake-clock.ts";

const CAPPED = [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000];

describe("Backoff (informer restarts: 800 ms → 30 s, jittered)", () => {
  it.each([
    { name: "no jitter draw (random = 0) gives the nominal delays", random: 0, expected: CAPPED },
    { name: "maximum jitter draw takes off at most 25 %", random: 1, expected: CAPPED.map((d) => d * 0.75) },
    { name: "half draw", random: 0.5, expected: CAPPED.map((d) => Math.round(d * 0.875)) },
  ])("$name", ({ random, expected }) => {
    const backoff = new Backoff({ clock: new FakeClock(), random: () => random });
    expect(expected.map(() => backoff.next())).toEqual(expected);
  });

  it("every delay stays within [nominal·(1−jitter), nominal] and within 600 ms … 30 s", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const backoff = new Backoff({ clock: new FakeClock(), random });
    for (let i = 0; i < 200; i++) {
      const nominal = CAPPED[Math.min(i, CAPPED.length - 1)]!;
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(nominal * 0.75);
      expect(delay).toBeLessThanOrEqual(nominal);
      expect(delay).toBeGreaterThanOrEqual(600);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });

  it("starts over after 120 s without a failure, not before", () => {
    const clock = new FakeClock();
    const backoff = new Backoff({ clock, random: () => 0 });
    backoff.next();
    backoff.next();
    clock.advance(119_999);
    expect(backoff.next()).toBe(3200);
    clock.advance(120_000);
    expect(backoff.next()).toBe(800);
  });

  it("reset() starts over at once", () => {
    const backoff = new Backoff({ clock: new FakeClock(), random: () => 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(800);
  });
});
