import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  Controller,
  isPanic,
  isTerminalError,
  type ReconcileContext,
  type ReconcileResult,
  TerminalError,
} from "../../../src/runtime/controller.ts";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/fake-clock.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import { createLogger } from "../../../src/runtime/logging.ts";
import { RuntimeMetrics } from "../../../src/runtime/metrics.ts";
import { ItemExponentialRateLimiter } from "../../../src/runtime/rate-limiter.ts";
import { CoreResources, type ObjectKey } from "../../../src/runtime/resource.ts";
import { configMap, FakeKubeClient } from "./fake-kube-client.ts";

type Step = (key: ObjectKey, ctx: ReconcileContext) => Promise<ReconcileResult | undefined>;

function setup(step: Step, options: { workers?: number; logLines?: string[] } = {}) {
  const clock = new FakeClock();
  const metrics = new RuntimeMetrics();
  const calls: Array<{ key: string; ctx: ReconcileContext }> = [];
  const logger = options.logLines
    ? createLogger({
        level: "info",
        destination: new Writable({
          write(chunk, _enc, cb) {
            options.logLines!.push(chunk.toString());
            cb();
          },
        }),
      })
    : undefined;
  const controller = new Controller({
    name: "test",
    clock,
    metrics,
    logger,
    maxConcurrentReconciles: options.workers ?? 1,
    rateLimiter: new ItemExponentialRateLimiter(5, 1000),
    reconcile: async (key, ctx) => {
      calls.push({ key: `${key.namespace}/${key.name}`, ctx });
      return step(key, ctx);
    },
  });
  const running = controller.start();
  return { clock, metrics, controller, calls, running };
}

async function counter(
  metrics: RuntimeMetrics,
  name: "reconcileTotal" | "reconcileErrors" | "terminalReconcileErrors" | "reconcilePanics",
  result?: string,
) {
  const { values } = await metrics[name].get();
  return values.find(
    (v) =>
      v.labels.controller === "test" &&
      (result === undefined || (v.labels as Record<string, unknown>).result === result),
  )?.value;
}

const key = { namespace: "ns", name: "a" };

describe("Controller: outcome handling (controller-runtime reconcileHandler)", () => {
  it("success forgets the key and counts result=success", async () => {
    const { controller, metrics, calls, running } = setup(async () => undefined);
    controller.enqueue(key);
    await flushMicrotasks();
    expect(calls.map((c) => c.key)).toEqual(["ns/a"]);
    expect(await counter(metrics, "reconcileTotal", "success")).toBe(1);
    expect(controller.queue.numRequeues("ns/a")).toBe(0);
    controller.abort();
    await running;
  });

  it("an error retries with per-key backoff (5, 10, 20 ms) and a later success forgets", async () => {
    let failures = 3;
    const { controller, metrics, calls, clock, running } = setup(async () => {
      if (failures-- > 0) throw new Error("appliance unreachable");
      return undefined;
    });
    controller.enqueue(key);
    await flushMicrotasks();
    for (const delay of [5, 10, 20]) {
      const before = calls.length;
      clock.advance(delay - 1);
      await flushMicrotasks();
      expect(calls.length).toBe(before);
      clock.advance(1);
      await flushMicrotasks();
      expect(calls.length).toBe(before + 1);
    }
    expect(await counter(metrics, "reconcileTotal", "error")).toBe(3);
    expect(await counter(metrics, "reconcileErrors")).toBe(3);
    expect(await counter(metrics, "reconcileTotal", "success")).toBe(1);
    expect(controller.queue.numRequeues("ns/a")).toBe(0);
    controller.abort();
    await running;
  });

  it("a TerminalError is counted and not retried", async () => {
    const { controller, metrics, calls, clock, running } = setup(async () => {
      throw new TerminalError("spec is invalid");
    });
    controller.enqueue(key);
    await flushMicrotasks();
    clock.advance(60_000);
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
    expect(await counter(metrics, "terminalReconcileErrors")).toBe(1);
    expect(await counter(metrics, "reconcileErrors")).toBe(1);
    expect(controller.queue.delayedLen()).toBe(0);
    controller.abort();
    await running;
  });

  it("requeueAfter forgets the failures and comes back after exactly that long", async () => {
    let n = 0;
    const { controller, metrics, calls, clock, running } = setup(async () => {
      if (n++ === 0) throw new Error("once");
      return { requeueAfterMs: 30_000 };
    });
    controller.enqueue(key);
    await flushMicrotasks();
    clock.advance(5);
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    expect(controller.queue.numRequeues("ns/a")).toBe(0);
    clock.advance(29_999);
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    clock.advance(1);
    await flushMicrotasks();
    expect(calls).toHaveLength(3);
    expect(await counter(metrics, "reconcileTotal", "requeue_after")).toBe(2);
    controller.abort();
    await running;
  });

  it("requeue: true retries with backoff and counts result=requeue", async () => {
    let n = 0;
    const { controller, metrics, calls, clock, running } = setup(async () =>
      n++ === 0 ? { requeue: true } : undefined,
    );
    controller.enqueue(key);
    await flushMicrotasks();
    clock.advance(5);
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    expect(await counter(metrics, "reconcileTotal", "requeue")).toBe(1);
    controller.abort();
    await running;
  });

  it("a programming error is recovered, counted as a panic, and retried", async () => {
    let n = 0;
    const { controller, metrics, calls, clock, running } = setup(async () => {
      if (n++ === 0) {
        const missing = undefined as unknown as { field: string };
        return { requeueAfterMs: missing.field.length };
      }
      return undefined;
    });
    controller.enqueue(key);
    await flushMicrotasks();
    expect(await counter(metrics, "reconcilePanics")).toBe(1);
    clock.advance(5);
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    controller.abort();
    await running;
  });

  it("pre-initialises every result series to 0", async () => {
    const { metrics, controller, running } = setup(async () => undefined);
    for (const result of ["success", "error", "requeue", "requeue_after"]) {
      expect(await counter(metrics, "reconcileTotal", result)).toBe(0);
    }
    controller.abort();
    await running;
  });
});

describe("Controller: queue semantics end to end", () => {
  it("a change during a reconcile re-queues the key exactly once", async () => {
    let release!: () => void;
    let first = true;
    const { controller, calls, running } = setup(async () => {
      if (first) {
        first = false;
        await new Promise<void>((r) => (release = r));
      }
      return undefined;
    });
    controller.enqueue(key);
    await flushMicrotasks();
    controller.enqueue(key);
    controller.enqueue(key);
    controller.enqueue(key);
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
    release();
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    controller.abort();
    await running;
  });

  it("runs at most maxConcurrentReconciles at once", async () => {
    let active = 0;
    let maxActive = 0;
    const releases: Array<() => void> = [];
    const { controller, calls, running } = setup(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => releases.push(r));
        active--;
        return undefined;
      },
      { workers: 3 },
    );
    for (const name of ["a", "b", "c", "d", "e"]) controller.enqueue({ namespace: "ns", name });
    await flushMicrotasks();
    expect(active).toBe(3);
    while (releases.length) {
      releases.shift()!();
      await flushMicrotasks();
    }
    expect(maxActive).toBe(3);
    expect(calls).toHaveLength(5);
    controller.abort();
    await running;
  });

  it("gives each call a fresh reconcileID and a logger carrying controller, namespace, name, reconcileID", async () => {
    const logLines: string[] = [];
    const { controller, calls, running } = setup(
      async (_key, ctx) => {
        ctx.log.info("hello");
        return undefined;
      },
      { logLines },
    );
    controller.enqueue(key);
    await flushMicrotasks();
    controller.enqueue(key);
    await flushMicrotasks();
    const ids = calls.map((c) => c.ctx.reconcileID);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    const line = JSON.parse(logLines.find((l) => l.includes("hello"))!);
    expect(line).toMatchObject({
      controller: "test",
      namespace: "ns",
      name: "a",
      reconcileID: ids[0],
      msg: "hello",
    });
    controller.abort();
    await running;
  });

  it("stop() drains an in-flight reconcile; past the timeout it aborts its signal", async () => {
    let release!: () => void;
    let seen: AbortSignal | undefined;
    const { controller, clock, running } = setup(async (_key, ctx) => {
      seen = ctx.signal;
      await new Promise<void>((r) => (release = r));
      return undefined;
    });
    controller.enqueue(key);
    await flushMicrotasks();
    const stopping = controller.stop(1000);
    controller.enqueue({ namespace: "ns", name: "after-stop" });
    clock.advance(999);
    await flushMicrotasks();
    expect(seen?.aborted).toBe(false);
    clock.advance(1);
    expect(await stopping).toBe(false);
    expect(seen?.aborted).toBe(true);
    release();
    await running;
    expect(controller.queue.len()).toBe(0);
  });

  it("watches(): mapped keys are enqueued; initial-list keys wait behind real changes", async () => {
    const client = new FakeKubeClient();
    client.onRequest = () => ({
      metadata: { resourceVersion: "5" },
      items: [configMap("ns", "a", "1"), configMap("ns", "b", "2"), configMap("ns", "c", "3")],
    });
    const informer = new Informer(client, {
      resource: CoreResources.configMaps,
      resyncPeriodMs: 0,
      clock: new FakeClock(),
    });
    informer.start();
    await flushMicrotasks();
    const order: string[] = [];
    let release!: () => void;
    const clock = new FakeClock();
    const controller = new Controller({
      name: "mapped",
      clock,
      reconcile: async (k) => {
        order.push(k.name);
        if (order.length === 1) await new Promise<void>((r) => (release = r));
        return undefined;
      },
    });
    // map each ConfigMap to a "device" key named after it
    controller.watches(informer, (obj) => ({ namespace: "ns", name: `dev-${obj.metadata?.name}` }));
    const running = controller.start();
    await flushMicrotasks();
    expect(order).toEqual(["dev-a"]);
    client.lastWatch().send({ type: "MODIFIED", object: configMap("ns", "c", "9") });
    await flushMicrotasks();
    release();
    await flushMicrotasks();
    expect(order).toEqual(["dev-a", "dev-c", "dev-b"]);
    controller.abort();
    await running;
    await informer.stop();
  });
});

describe("error classification", () => {
  it.each([
    { error: new TerminalError("x"), terminal: true, panic: false },
    { error: new Error("wrapped", { cause: new TerminalError("x") }), terminal: true, panic: false },
    { error: new Error("network"), terminal: false, panic: false },
    {
      error: new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") }),
      terminal: false,
      panic: false,
    },
    { error: new TypeError("x is undefined"), terminal: false, panic: true },
    { error: new ReferenceError("y is not defined"), terminal: false, panic: true },
    { error: new RangeError("Maximum call stack size exceeded"), terminal: false, panic: true },
    { error: "a string", terminal: false, panic: true },
  ])("$error → terminal $terminal, panic $panic", ({ error, terminal, panic }) => {
    expect(isTerminalError(error)).toBe(terminal);
    expect(isPanic(error)).toBe(panic);
  });
});
