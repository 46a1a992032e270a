import { describe, expect, it } from "vitest";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/fake-clock.ts";
import { ItemExponentialRateLimiter } from "../../../src/runtime/rate-limiter.ts";
import { Priority, WorkQueue, type WorkQueueMetricsSink } from "../../../src/runtime/workqueue.ts";

function newQueue(clock = new FakeClock()) {
  return { clock, queue: new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(5, 1000) }) };
}

/** Takes every key that is immediately available, in order, marking each done. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe("WorkQueue: dedup and ordering", () => {
  it.each([
    { name: "one add", adds: ["a"], expected: ["a"] },
    { name: "burst of one key collapses", adds: ["a", "a", "a"], expected: ["a"] },
    { name: "FIFO across keys", adds: ["a", "b", "c"], expected: ["a", "b", "c"] },
    { name: "dedup keeps the first position", adds: ["a", "b", "a", "c", "b"], expected: ["a", "b", "c"] },
  ])("$name", async ({ adds, expected }) => {
    const { queue } = newQueue();
    for (const key of adds) queue.add(key);
    expect(queue.len()).toBe(expected.length);
    expect(await drain(queue)).toEqual(expected);
  });

  it.each([
    {
      name: "normal before low",
      adds: [
        ["x", Priority.Low],
        ["y", Priority.Normal],
        ["z", Priority.Low],
      ] as const,
      expected: ["y", "x", "z"],
    },
    {
      name: "a real change lifts a queued low-priority key",
      adds: [
        ["x", Priority.Low],
        ["z", Priority.Low],
        ["z", Priority.Normal],
      ] as const,
      expected: ["z", "x"],
    },
    {
      name: "a low-priority re-add does not demote",
      adds: [
        ["x", Priority.Normal],
        ["y", Priority.Normal],
        ["x", Priority.Low],
      ] as const,
      expected: ["x", "y"],
    },
    {
      name: "custom higher priority first",
      adds: [
        ["a", 0],
        ["b", 10],
        ["c", -100],
      ] as const,
      expected: ["b", "a", "c"],
    },
  ])("priority: $name", async ({ adds, expected }) => {
    const { queue } = newQueue();
    for (const [key, priority] of adds) queue.add(key, { priority });
    expect(await drain(queue)).toEqual(expected);
  });
});

describe("WorkQueue: a key is held by one worker at a time", () => {
  it("does not queue a key while it is processing; done re-queues it exactly once", async () => {
    const { queue } = newQueue();
    queue.add("a");
    const key = await queue.get();
    expect(key).toBe("a");
    queue.add("a");
    queue.add("a");
    queue.add("a");
    expect(queue.len()).toBe(0);
    expect(queue.isProcessing("a")).toBe(true);
    queue.done("a");
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("a");
    queue.done("a");
    expect(queue.len()).toBe(0);
  });

  it("hands the re-queued key to a waiting worker only after done", async () => {
    const { queue } = newQueue();
    queue.add("a");
    await queue.get();
    queue.add("a");
    let second: string | undefined;
    void queue.get().then((k) => {
      second = k;
    });
    await flushMicrotasks();
    expect(second).toBeUndefined();
    queue.done("a");
    await flushMicrotasks();
    expect(second).toBe("a");
  });

  it("done of a key not processing is harmless", () => {
    const { queue } = newQueue();
    queue.done("nope");
    expect(queue.len()).toBe(0);
  });
});

describe("WorkQueue: addAfter", () => {
  it("adds once the delay has passed, not before", () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 100);
    expect(queue.len()).toBe(0);
    expect(queue.delayedLen()).toBe(1);
    clock.advance(99);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(queue.delayedLen()).toBe(0);
  });

  it.each([
    { name: "an earlier deadline replaces a later one", delays: [100, 50], firesAt: 50 },
    { name: "a later deadline does not postpone an earlier one", delays: [50, 100], firesAt: 50 },
  ])("$name (one slot per key)", async ({ delays, firesAt }) => {
    const { queue, clock } = newQueue();
    for (const d of delays) queue.addAfter("a", d);
    clock.advance(firesAt - 1);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(await drain(queue)).toEqual(["a"]);
    clock.advance(1000);
    expect(queue.len()).toBe(0);
  });

  it("fires several keys in deadline order", async () => {
    const { queue, clock } = newQueue();
    queue.addAfter("late", 30);
    queue.addAfter("early", 10);
    queue.addAfter("mid", 20);
    clock.advance(30);
    expect(await drain(queue)).toEqual(["early", "mid", "late"]);
  });

  it.each([0, -5])("a delay of %d ms adds at once", (ms) => {
    const { queue } = newQueue();
    queue.addAfter("a", ms);
    expect(queue.len()).toBe(1);
  });

  it("a delayed add that falls due while the key is processing marks it dirty", async () => {
    const { queue, clock } = newQueue();
    queue.add("a");
    await queue.get();
    queue.addAfter("a", 10);
    clock.advance(10);
    expect(queue.len()).toBe(0);
    queue.done("a");
    expect(queue.len()).toBe(1);
  });
});

describe("WorkQueue: rate-limited retries", () => {
  it("delays by the per-key exponential backoff and forget resets it", async () => {
    const { queue, clock } = newQueue();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = clock.now();
      queue.addRateLimited("a");
      for (let waited = 0; queue.len() === 0 && waited < 10_000; waited++) clock.advance(1);
      delays.push(clock.now() - before);
      queue.done((await queue.get())!);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(queue.numRequeues("a")).toBe(5);
    queue.forget("a");
    expect(queue.numRequeues("a")).toBe(0);
  });
});

describe("WorkQueue: bounded concurrency with run()", () => {
  it("never runs more than `workers` handlers, nor one key twice", async () => {
    const { queue } = newQueue();
    let active = 0;
    let maxActive = 0;
    const activeKeys = new Set<string>();
    const release: Array<() => void> = [];
    const handled: string[] = [];
    const running = queue.run(2, async (key) => {
      expect(activeKeys.has(key)).toBe(false);
      activeKeys.add(key);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((resolve) => release.push(resolve));
      handled.push(key);
      activeKeys.delete(key);
      active--;
    });
    for (const key of ["a", "b", "c", "a", "d"]) queue.add(key);
    await flushMicrotasks();
    expect(active).toBe(2);
    expect(queue.processingLen()).toBe(2);
    // a was being processed when it was added again: it gets exactly one more pass, at the back.
    expect(queue.len()).toBe(2);
    while (release.length > 0) {
      release.shift()!();
      await flushMicrotasks();
    }
    expect(maxActive).toBe(2);
    expect(handled).toEqual(["a", "b", "c", "d", "a"]);
    queue.shutDown();
    await running;
  });

  it("reports a throwing handler and keeps working", async () => {
    const errors: string[] = [];
    const queue = new WorkQueue({ clock: new FakeClock(), onHandlerError: (key) => errors.push(key) });
    const seen: string[] = [];
    const running = queue.run(1, async (key) => {
      seen.push(key);
      if (key === "bad") throw new Error("boom");
    });
    queue.add("bad");
    queue.add("good");
    await flushMicrotasks();
    expect(seen).toEqual(["bad", "good"]);
    expect(errors).toEqual(["bad"]);
    expect(queue.processingLen()).toBe(0);
    queue.shutDown();
    await running;
  });
});

describe("WorkQueue: shutdown", () => {
  it("stops intake, drops queued and delayed keys and releases idle workers", async () => {
    const { queue, clock } = newQueue();
    queue.add("queued");
    queue.addAfter("delayed", 10);
    const waiting = queue.get();
    expect(await waiting).toBe("queued");
    const idle = queue.get();
    queue.shutDown();
    expect(await idle).toBeUndefined();
    queue.add("late");
    clock.advance(100);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it("a key that changed during processing is not re-queued after shutdown", () => {
    const { queue } = newQueue();
    queue.add("a");
    void queue.get();
    queue.add("a");
    queue.shutDown();
    queue.done("a");
    expect(queue.len()).toBe(0);
  });

  it("shutDownWithDrain resolves true once in-flight keys are done", async () => {
    const { queue } = newQueue();
    queue.add("a");
    await queue.get();
    let drained: boolean | undefined;
    void queue.shutDownWithDrain(1000).then((d) => {
      drained = d;
    });
    await flushMicrotasks();
    expect(drained).toBeUndefined();
    queue.done("a");
    await flushMicrotasks();
    expect(drained).toBe(true);
  });

  it("shutDownWithDrain resolves false when the timeout passes first", async () => {
    const { queue, clock } = newQueue();
    queue.add("a");
    await queue.get();
    const result = queue.shutDownWithDrain(1000);
    clock.advance(999);
    await flushMicrotasks();
    clock.advance(1);
    expect(await result).toBe(false);
  });

  it("shutDownWithDrain with nothing in flight resolves true at once", async () => {
    const { queue } = newQueue();
    expect(await queue.shutDownWithDrain(10)).toBe(true);
  });

  it("run() resolves after shutdown once the workers finish", async () => {
    const { queue } = newQueue();
    let finish!: () => void;
    const running = queue.run(3, () => new Promise<void>((r) => (finish = r)));
    queue.add("a");
    await flushMicrotasks();
    let exited = false;
    void running.then(() => {
      exited = true;
    });
    queue.shutDown();
    await flushMicrotasks();
    expect(exited).toBe(false);
    finish();
    await flushMicrotasks();
    expect(exited).toBe(true);
  });
});

describe("WorkQueue: metrics and in-flight stats", () => {
  it("counts adds without duplicates, retries for delayed adds, queue and work time", async () => {
    const clock = new FakeClock();
    const calls = {
      added: 0,
      retried: 0,
      queued: [] as number[],
      worked: [] as number[],
      depth: new Map<number, number>(),
    };
    const sink: WorkQueueMetricsSink = {
      added: () => calls.added++,
      retried: () => calls.retried++,
      queued: (s) => calls.queued.push(s),
      worked: (s) => calls.worked.push(s),
      depth: (p, d) => calls.depth.set(p, d),
    };
    const queue = new WorkQueue({ clock, metrics: sink });
    queue.add("a");
    queue.add("a");
    queue.add("b", { priority: Priority.Low });
    expect(calls.added).toBe(2);
    expect(calls.depth.get(0)).toBe(1);
    expect(calls.depth.get(-100)).toBe(1);
    clock.advance(2000);
    const key = await queue.get();
    expect(calls.queued).toEqual([2]);
    clock.advance(500);
    expect(queue.inFlightStats()).toEqual({ unfinishedSeconds: 0.5, longestSeconds: 0.5 });
    queue.done(key!);
    expect(calls.worked).toEqual([0.5]);
    queue.addAfter("c", 10);
    queue.addRateLimited("d");
    expect(calls.retried).toBe(2);
  });
});
