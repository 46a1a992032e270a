// The activation coalescer: every request is covered by an activation that started after it, and
// concurrent or windowed requests share one. Timers are driven by hand: no timing assertions.
import { describe, expect, it } from "vitest";
import { ActivationCoalescer, type CoalescerTimers } from "../../../src/appliance/activation.ts";

function manualTimers(): CoalescerTimers & {
  fire(): void;
  pending(): number;
  delays: number[];
  clock: { t: number };
} {
  let next = 1;
  const timers = new Map<number, () => void>();
  const delays: number[] = [];
  const clock = { t: 0 };
  return {
    delays,
    clock,
    now: () => clock.t,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      const id = next++;
      timers.set(id, fn);
      return id as unknown as ReturnType<typeof setTimeout>;
    },
    clearTimeout: (t) => {
      timers.delete(t as unknown as number);
    },
    fire: () => {
      const all = [...timers.values()];
      timers.clear();
      for (const fn of all) fn();
    },
    pending: () => timers.size,
  };
}

/** An activation whose completion the test controls; records when each one started. */
function controllable() {
  const started: number[] = [];
  const finishers: ((value: number) => void)[] = [];
  const failers: ((error: Error) => void)[] = [];
  let clock = 0;
  return {
    started,
    tick: () => ++clock,
    activate: () =>
      new Promise<number>((resolve, reject) => {
        started.push(++clock);
        finishers.push(resolve);
        failers.push(reject);
      }),
    finish: (i: number) => finishers[i]?.(i),
    fail: (i: number, error: Error) => failers[i]?.(error),
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Immediate mode", () => {
  it("starts one activation for one request and resolves with its result", async () => {
    const a = controllable();
    const c = new ActivationCoalescer(a.activate);
    const p = c.requestActivation();
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    await expect(p).resolves.toBe(0);
  });

  it("coalesces requests made while an activation runs into exactly one next activation", async () => {
    const a = controllable();
    const c = new ActivationCoalescer(a.activate);
    const first = c.requestActivation();
    await flush();
    const requestedAt = a.tick();
    const during = Array.from({ length: 10 }, () => c.requestActivation());
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    await expect(first).resolves.toBe(0);
    await flush();
    expect(a.started).toHaveLength(2);
    // The shared activation started after the requests were made.
    expect(a.started[1]).toBeGreaterThan(requestedAt);
    a.finish(1);
    expect(await Promise.all(during)).toEqual(Array(10).fill(1));
    expect(c.stats).toEqual({ requests: 11, activations: 2 });
  });

  it("coalesces requests made in the same tick", async () => {
    const a = controllable();
    const c = new ActivationCoalescer(a.activate);
    const ps = [c.requestActivation(), c.requestActivation(), c.requestActivation()];
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    expect(await Promise.all(ps)).toEqual([0, 0, 0]);
  });

  it("rejects every request of a failed batch and serves the next batch normally", async () => {
    const a = controllable();
    const c = new ActivationCoalescer(a.activate);
    const p1 = c.requestActivation();
    const p2 = c.requestActivation();
    await flush();
    a.fail(0, new Error("commit failed"));
    await expect(p1).rejects.toThrow("commit failed");
    await expect(p2).rejects.toThrow("commit failed");
    const p3 = c.requestActivation();
    await flush();
    a.finish(1);
    await expect(p3).resolves.toBe(1);
  });
});

describe("Batched mode", () => {
  it("turns 50 writes in one window into 1 activation", async () => {
    const a = controllable();
    const timers = manualTimers();
    const c = new ActivationCoalescer(a.activate, { mode: "Batched", windowMs: 5000 }, timers);
    const waits = Array.from({ length: 50 }, () => c.requestActivation());
    await flush();
    expect(a.started).toHaveLength(0);
    expect(timers.pending()).toBe(1);
    timers.fire();
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    expect(await Promise.all(waits)).toEqual(Array(50).fill(0));
    expect(c.stats).toEqual({ requests: 50, activations: 1 });
  });

  it("counts the writes waiting for the window (pending) and tells the activation how many it covers", async () => {
    const covered: number[] = [];
    const timers = manualTimers();
    const c = new ActivationCoalescer(
      async (_signal, changes) => {
        covered.push(changes);
        return changes;
      },
      { mode: "Batched", windowMs: 2000 },
      timers,
    );
    expect(c.pending).toBe(0);
    const waits = Array.from({ length: 7 }, () => c.requestActivation());
    expect(c.pending).toBe(7);
    timers.fire();
    await Promise.all(waits);
    expect(c.pending).toBe(0);
    const more = [c.requestActivation(), c.requestActivation()];
    expect(c.pending).toBe(2);
    timers.fire();
    await Promise.all(more);
    expect(covered).toEqual([7, 2]);
  });

  it("puts requests arriving during a running activation into the next window", async () => {
    const a = controllable();
    const timers = manualTimers();
    const c = new ActivationCoalescer(a.activate, { mode: "Batched", windowMs: 100 }, timers);
    const p1 = c.requestActivation();
    timers.fire();
    await flush();
    const p2 = c.requestActivation();
    const p3 = c.requestActivation();
    timers.fire(); // the second window closes while the first activation still runs
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    await expect(p1).resolves.toBe(0);
    await flush();
    expect(a.started).toHaveLength(2);
    a.finish(1);
    expect(await Promise.all([p2, p3])).toEqual([1, 1]);
  });

  it("runs a pending batch when closed instead of dropping the writes", async () => {
    const a = controllable();
    const timers = manualTimers();
    const c = new ActivationCoalescer(a.activate, { mode: "Batched", windowMs: 60_000 }, timers);
    const p = c.requestActivation();
    const closing = c.close();
    await flush();
    expect(a.started).toHaveLength(1);
    expect(timers.pending()).toBe(0);
    a.finish(0);
    await expect(p).resolves.toBe(0);
    await closing;
    await expect(c.requestActivation()).rejects.toThrow(/closed/);
  });

  it("keeps the window open while writes keep arriving (trailing), up to its cap", async () => {
    const a = controllable();
    const timers = manualTimers();
    const c = new ActivationCoalescer(a.activate, { mode: "Batched", windowMs: 1000 }, timers);
    const waits = [c.requestActivation()];
    // A device that takes one write at a time: requests arrive 400 ms apart until 2.8 s.
    for (let t = 400; t <= 3000; t += 400) {
      timers.clock.t = t;
      waits.push(c.requestActivation());
    }
    expect(timers.pending()).toBe(1);
    expect(timers.delays.at(-1)).toBe(1000); // re-armed: 1 s after the last write
    timers.clock.t = 4700; // near the cap (5 × 1 s after opening at 0): the window may not outlive it
    waits.push(c.requestActivation());
    expect(timers.delays.at(-1)).toBe(300);
    timers.fire();
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    await Promise.all(waits);
    expect(c.stats).toEqual({ requests: 9, activations: 1 });
  });
});

describe("cancellation: callers that stop waiting (shutdown, lost lease)", () => {
  it("a caller whose signal aborts stops waiting; the batch still runs for the others", async () => {
    const a = controllable();
    const timers = manualTimers();
    const c = new ActivationCoalescer(a.activate, { mode: "Batched", windowMs: 1000 }, timers);
    const leaving = new AbortController();
    const p1 = c.requestActivation(leaving.signal);
    const p2 = c.requestActivation();
    leaving.abort(new Error("stopped"));
    await expect(p1).rejects.toThrow("stopped");
    timers.fire();
    await flush();
    expect(a.started).toHaveLength(1);
    a.finish(0);
    await expect(p2).resolves.toBe(0);
  });

  it("once every caller of a pending batch has left, the batch is dropped: no activation at all", async () => {
    const a = controllable();
    const timers = manualTimers();
    const c = new ActivationCoalescer(a.activate, { mode: "Batched", windowMs: 1000 }, timers);
    const lease = new AbortController();
    const waits = Array.from({ length: 5 }, () => c.requestActivation(lease.signal));
    lease.abort(new Error("leader election lost"));
    for (const w of waits) await expect(w).rejects.toThrow("leader election lost");
    expect(timers.pending()).toBe(0);
    timers.fire();
    await flush();
    expect(a.started).toEqual([]);
    // The coalescer still serves later requests.
    const later = c.requestActivation();
    timers.fire();
    await flush();
    a.finish(0);
    await expect(later).resolves.toBe(0);
  });

  it("once every caller of a running activation has left, its signal aborts", async () => {
    const signals: AbortSignal[] = [];
    const c = new ActivationCoalescer(
      (signal) =>
        new Promise<number>((_, reject) => {
          signals.push(signal);
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    );
    const stop = new AbortController();
    const p = c.requestActivation(stop.signal);
    await flush();
    expect(signals).toHaveLength(1);
    stop.abort(new Error("shutdown"));
    await expect(p).rejects.toThrow("shutdown");
    expect(signals[0]?.aborted).toBe(true);
  });

  it("a request with an already aborted signal is refused at once", async () => {
    const a = controllable();
    const c = new ActivationCoalescer(a.activate);
    const stop = new AbortController();
    stop.abort(new Error("gone"));
    await expect(c.requestActivation(stop.signal)).rejects.toThrow("gone");
    await flush();
    expect(a.started).toEqual([]);
  });
});
